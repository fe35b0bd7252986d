//! Validation findings and the checker that collects them: the domain's own vocabulary for
//! "this input is wrong, here". the error module turns a list of violations into a 422.

/// One finding: the JSON path of the offending value and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON path, e.g. `name`, `tags[2]`, `sections.inventory[3].brand`.
    pub path: String,
    pub message: String,
}

impl Violation {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Violation {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Violations, when there are any.
pub type Checked<T> = Result<T, Vec<Violation>>;

/// What `Checker::optional_url` accepts, as an OpenAPI pattern.
pub const URL_PATTERN: &str = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*(https?://[^\s\x00-\x1F\x7F-\x9F]+)?[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$";
/// What `Checker::optional_email` accepts, as an OpenAPI pattern.
pub const EMAIL_PATTERN: &str = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*([^@\s\x00-\x1F\x7F-\x9F]+@[^@\s.\x00-\x1F\x7F-\x9F][^@\s\x00-\x1F\x7F-\x9F]*\.[^@\s\x00-\x1F\x7F-\x9F]*[^@\s.\x00-\x1F\x7F-\x9F])?[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$";
/// What `Checker::optional_phone` accepts, as an OpenAPI pattern.
pub const PHONE_PATTERN: &str = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*([0-9 +\-().#/xet]*[0-9][0-9 +\-().#/xet]*[0-9][0-9 +\-().#/xet]*[0-9][0-9 +\-().#/xet]*)?[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$";

/// The one rule for texts in input: no NUL or control characters other than tab, CR and LF
/// (anywhere), trimmed, at most `max` characters; blank is absent. The OpenAPI document states
/// the same rule as a pattern (`api::schema`).
pub fn text(errors: &mut Vec<Violation>, field: &str, value: &str, max: usize) -> Option<String> {
    if has_forbidden_chars(value) {
        errors.push(Violation::new(
            field,
            "must not contain NUL or control characters",
        ));
        return None;
    }
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.chars().count() > max {
        errors.push(Violation::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Some(v.to_string())
}

/// `text` that must not be blank.
pub fn required_text(errors: &mut Vec<Violation>, field: &str, value: &str, max: usize) -> String {
    let before = errors.len();
    match text(errors, field, value, max) {
        Some(v) => v,
        None => {
            if errors.len() == before {
                errors.push(Violation::new(field, "must not be empty"));
            }
            String::new()
        }
    }
}

/// Collects field errors; `finish` turns them into one 422.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<Violation>,
}

fn has_forbidden_chars(s: &str) -> bool {
    s.chars()
        .any(|c| c == '\0' || (c.is_control() && c != '\n' && c != '\r' && c != '\t'))
}

impl Checker {
    pub fn new() -> Checker {
        Checker::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(Violation::new(field, message));
    }

    /// A required text (see `required_text`).
    pub fn required_text(&mut self, field: &str, value: &str, max: usize) -> String {
        required_text(&mut self.errors, field, value, max)
    }

    /// An optional text (see `text`).
    pub fn optional_text(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        text(&mut self.errors, field, value?, max)
    }

    /// An optional http(s) URL.
    pub fn optional_url(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let v = self.optional_text(field, value, 500)?;
        let rest = v
            .strip_prefix("https://")
            .or_else(|| v.strip_prefix("http://"));
        match rest {
            Some(host) if !host.is_empty() && !v.contains(char::is_whitespace) => {}
            _ => self.add(field, "must be an http:// or https:// URL"),
        }
        Some(v)
    }

    /// An optional e-mail address (a plausibility check, not RFC 5322).
    pub fn optional_email(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let v = self.optional_text(field, value, 320)?;
        let ok = match v.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
                    && !v.contains(char::is_whitespace)
            }
            None => false,
        };
        if !ok {
            self.add(field, "must be an e-mail address");
        }
        Some(v)
    }

    /// An optional phone number: digits and + - ( ) . / space, with at least 3 digits.
    pub fn optional_phone(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let v = self.optional_text(field, value, 50)?;
        let allowed = v
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().#/xext".contains(c));
        if !allowed || v.chars().filter(char::is_ascii_digit).count() < 3 {
            self.add(field, "must be a phone number (digits, spaces, + - ( ))");
        }
        Some(v)
    }

    /// Tags: trimmed, deduplicated (order kept), 1..=50 characters each, at most 50.
    pub fn tags(&mut self, field: &str, tags: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if tags.len() > 50 {
            self.add(field, "at most 50 tags");
        }
        for (i, t) in tags.iter().enumerate() {
            let name = format!("{field}[{i}]");
            let t = self.required_text(&name, t, 50);
            if !t.is_empty() && !out.contains(&t) {
                out.push(t);
            }
        }
        out
    }

    /// Adds findings made elsewhere (e.g. by a domain validator).
    pub fn extend(&mut self, more: impl IntoIterator<Item = Violation>) {
        self.errors.extend(more);
    }

    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn finish(self) -> Checked<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

/// A limit of one member of an input schema, stated once: the checker enforces it and the
/// OpenAPI document states it (`api::schema::state_limits` writes it into the named schemas).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// The schemas (component names) whose member it is.
    pub schemas: &'static [&'static str],
    pub member: &'static str,
    pub rule: Rule,
}

/// What a [`Limit`] says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A text of at most `max` characters; `required`: not blank.
    Text { required: bool, max: usize },
    /// A list of at most this many items.
    Items(usize),
    /// A whole number from 0 to this.
    AtMost(u64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts() {
        let mut c = Checker::new();
        assert_eq!(c.required_text("name", "  华为  ", 10), "华为");
        assert_eq!(c.optional_text("x", Some("   "), 10), None);
        c.required_text("empty", " ", 10);
        c.required_text("long", "abcdef", 5);
        c.required_text("nul", "a\u{0}b", 5);
        let Err(errs) = c.finish() else { panic!() };
        let fields: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(fields, ["empty", "long", "nul"]);
    }

    #[test]
    fn urls_emails_phones() {
        let mut c = Checker::new();
        c.optional_url("ok", Some("https://example.com"));
        c.optional_email("ok", Some("a@b.cn"));
        c.optional_phone("ok", Some("+86 (10) 1234-5678"));
        assert!(c.finish().is_ok());
        let mut c = Checker::new();
        c.optional_url("u", Some("example.com"));
        c.optional_email("e", Some("nobody"));
        c.optional_phone("p", Some("call me"));
        let Err(errs) = c.finish() else { panic!() };
        assert_eq!(errs.len(), 3);
    }

    #[test]
    fn tags_dedupe_and_check() {
        let mut c = Checker::new();
        let t = c.tags("tags", &["a".into(), " a ".into(), "b".into()]);
        assert_eq!(t, ["a", "b"]);
        assert!(c.finish().is_ok());
        let mut c = Checker::new();
        c.tags("tags", &["ok".into(), "".into()]);
        let Err(errs) = c.finish() else { panic!() };
        assert_eq!(errs[0].path, "tags[1]");
    }
}
