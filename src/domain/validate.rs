//! Validation findings and the checker that collects them: the domain's own vocabulary for
//! "this input is wrong, here, in this way". Each finding has a stable `Code`; what a person
//! reads about it (zh and en) is written in one place, `domain::texts`. The error module turns a
//! list of violations into a 400 or 422.

/// Where in the request a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum In {
    #[default]
    Body,
    Query,
    Path,
    Header,
}

impl In {
    pub fn as_str(self) -> &'static str {
        match self {
            In::Body => "body",
            In::Query => "query",
            In::Path => "path",
            In::Header => "header",
        }
    }
}

/// A syntax a value must have (`invalid_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Email,
    Url,
    /// An https URL (http only where private addresses are allowed) with a host and no
    /// credentials or fragment.
    HttpsUrl,
    Phone,
    Uuid,
    DateTime,
    Date,
    Integer,
    Number,
    Boolean,
    Amount,
    Currency,
    Cursor,
    EntityTag,
    IdempotencyKey,
    BearerToken,
    Json,
    Xlsx,
    Multipart,
    EventTypePattern,
    /// A delimited text file (CSV).
    Csv,
    /// The name of another system (`salesforce`): a lowercase letter, then up to 31 of a-z,
    /// 0-9, `_` and `-`.
    ExternalSystem,
    /// A reference of another system as `<system>:<id>` (`salesforce:0015g00000AbCdE`).
    ExternalRef,
    /// The value does not have the form the document states (a pattern).
    Pattern,
}

/// What is wrong, as a stable code with what a message needs. `as_str` is the wire code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    /// Missing, blank, or `null` where a value is needed.
    Required,
    TooLong {
        max: u64,
    },
    TooShort {
        min: u64,
    },
    TooMany {
        max: u64,
    },
    TooFew {
        min: u64,
    },
    /// A body or file over its size limit.
    TooLarge {
        max_bytes: u64,
    },
    /// NUL or control characters other than tab, CR and LF.
    InvalidCharacters,
    InvalidFormat(Format),
    /// A JSON value of the wrong type (`expected`: JSON type names).
    InvalidType {
        expected: String,
    },
    /// Not one of the allowed values (an enumeration).
    UnknownValue {
        allowed: Vec<String>,
    },
    /// A member or parameter the operation does not have.
    UnknownField,
    /// A number or amount outside its bounds.
    OutOfRange {
        min: Option<i64>,
        max: Option<i64>,
    },
    /// More decimal places than the currency has.
    TooPrecise {
        currency: String,
        max: u32,
    },
    /// A resource referred to belongs to another account.
    NotInAccount,
    /// A resource referred to does not exist.
    NotFound,
    /// A resource referred to is archived.
    Archived,
    /// Built in (from the methodology's source): cannot be changed.
    ReadOnly,
    /// A code of the playbook that it does not have.
    UnknownCode {
        code: String,
        kind: CodeKind,
    },
    /// A milestone claimed outside the stages an assessment judges.
    NotAssessable(Box<Misplaced>),
    /// Listed twice.
    Duplicate,
    /// Would make a loop (a contact reporting to itself or to someone below it).
    Cycle,
    /// A URL that points at this machine or a private or reserved address.
    PrivateAddress,
    /// Goes together with `other`: one without the other.
    Requires {
        other: String,
    },
    /// Must not be earlier than `other`.
    NotBefore {
        other: String,
    },
    /// Must not be less than `other`.
    NotBelow {
        other: String,
    },
    /// Not allowed here (with the other values given).
    NotAllowed,
    /// Another resource holds it (a reference of another system).
    Taken,
    /// Set when the resource was created; cannot change (a contact's account).
    Fixed,
    /// A file without a column it needs.
    MissingColumn {
        column: String,
    },
    /// Stage percentages must increase: `stage` has `percent`, so this one must have more.
    NotIncreasing {
        stage: String,
        percent: u8,
        value: u8,
    },
    /// An `Idempotency-Key` already used for another request.
    KeyReused,
    /// An `Idempotency-Key` whose first request is still running.
    InUse,
    /// `If-Match` names a version that is no longer current.
    Stale,
    /// A bearer token that is not valid, and why.
    InvalidToken(TokenFault),
    /// A content type the operation does not read.
    UnsupportedType {
        allowed: Vec<String>,
    },
}

/// Why a bearer token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFault {
    Malformed,
    TooLarge,
    Expired,
    NotYetValid,
    Signature,
    Algorithm,
    Issuer,
    Audience,
    UnknownKey,
    NoKeyId,
    Critical,
    /// A claim missing or malformed (`sub`, `tenant`, `roles`, `exp`).
    Claims,
    /// Lives longer than the service accepts.
    Lifetime,
}

/// A milestone (`code`) of `stage`, claimed where only the evidence stage's and the current
/// stage's are judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misplaced {
    pub code: String,
    pub stage: String,
    pub evidence: String,
    pub current: String,
}

/// What kind of playbook code an `unknown_code` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    Stage,
    Goal,
    Milestone,
    KeyAction,
    Tool,
    Signal,
    Note,
    EventType,
}

impl Code {
    /// The stable wire code.
    pub fn as_str(&self) -> &'static str {
        match self {
            Code::Required => "required",
            Code::TooLong { .. } => "too_long",
            Code::TooShort { .. } => "too_short",
            Code::TooMany { .. } => "too_many",
            Code::TooFew { .. } => "too_few",
            Code::TooLarge { .. } => "too_large",
            Code::InvalidCharacters => "invalid_characters",
            Code::InvalidFormat(_) => "invalid_format",
            Code::InvalidType { .. } => "invalid_type",
            Code::UnknownValue { .. } => "unknown_value",
            Code::UnknownField => "unknown_field",
            Code::OutOfRange { .. } => "out_of_range",
            Code::TooPrecise { .. } => "too_precise",
            Code::NotInAccount => "not_in_account",
            Code::NotFound => "not_found",
            Code::Archived => "archived",
            Code::UnknownCode { .. } => "unknown_code",
            Code::ReadOnly => "read_only",
            Code::NotAssessable(_) => "not_assessable",
            Code::Duplicate => "duplicate",
            Code::Cycle => "cycle",
            Code::PrivateAddress => "private_address",
            Code::Requires { .. } => "requires",
            Code::NotBefore { .. } => "not_before",
            Code::NotBelow { .. } => "not_below",
            Code::NotAllowed => "not_allowed",
            Code::Taken => "taken",
            Code::Fixed => "fixed",
            Code::MissingColumn { .. } => "missing_column",
            Code::NotIncreasing { .. } => "not_increasing",
            Code::KeyReused => "key_reused",
            Code::InUse => "in_use",
            Code::Stale => "stale",
            Code::InvalidToken(_) => "invalid_token",
            Code::UnsupportedType { .. } => "unsupported_type",
        }
    }

    /// Every wire code, for the document.
    pub const ALL: &'static [&'static str] = &[
        "required",
        "too_long",
        "too_short",
        "too_many",
        "too_few",
        "too_large",
        "invalid_characters",
        "invalid_format",
        "invalid_type",
        "unknown_value",
        "unknown_field",
        "out_of_range",
        "too_precise",
        "not_in_account",
        "not_found",
        "archived",
        "unknown_code",
        "read_only",
        "not_assessable",
        "duplicate",
        "cycle",
        "private_address",
        "requires",
        "not_before",
        "not_below",
        "not_allowed",
        "taken",
        "fixed",
        "missing_column",
        "not_increasing",
        "key_reused",
        "in_use",
        "stale",
        "invalid_token",
        "unsupported_type",
    ];

    /// `out_of_range` from `min` to `max`.
    pub fn range(min: i64, max: i64) -> Code {
        Code::OutOfRange {
            min: Some(min),
            max: Some(max),
        }
    }

    pub fn requires(other: &str) -> Code {
        Code::Requires {
            other: other.to_string(),
        }
    }
}

/// The English message, for logs and texts kept in English (a survey import's cell note).
impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::domain::texts::violation(self).en)
    }
}

impl std::error::Error for Code {}

impl From<Code> for String {
    fn from(c: Code) -> String {
        c.to_string()
    }
}

/// One finding: where the offending value is and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The body member (`name`, `tags[2]`, `sections.inventory[3].brand`, or a JSON pointer
    /// `/tags/2`), or the name of the parameter or header.
    pub path: String,
    pub location: In,
    pub code: Code,
}

impl Violation {
    /// A finding in the body.
    pub fn new(path: impl Into<String>, code: Code) -> Self {
        Violation {
            path: path.into(),
            location: In::Body,
            code,
        }
    }

    /// A finding in a query parameter, path parameter or header.
    pub fn at(location: In, name: impl Into<String>, code: Code) -> Self {
        Violation {
            path: name.into(),
            location,
            code,
        }
    }
}

/// A member path from a JSON pointer (`/sections/inventory/3/brand` is
/// `sections.inventory[3].brand`); anything else as it is.
pub fn member_path(pointer: &str) -> String {
    let Some(rest) = pointer.strip_prefix('/') else {
        return pointer.to_string();
    };
    let mut out = String::new();
    for part in rest.split('/') {
        let part = part.replace("~1", "/").replace("~0", "~");
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part);
        }
    }
    out
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
        errors.push(Violation::new(field, Code::InvalidCharacters));
        return None;
    }
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.chars().count() > max {
        errors.push(Violation::new(field, Code::TooLong { max: max as u64 }));
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
                errors.push(Violation::new(field, Code::Required));
            }
            String::new()
        }
    }
}

/// Collects field errors; `finish` turns them into one 422.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<Violation>,
    /// Where the checked values are (the body unless said).
    location: In,
}

fn has_forbidden_chars(s: &str) -> bool {
    s.chars()
        .any(|c| c == '\0' || (c.is_control() && c != '\n' && c != '\r' && c != '\t'))
}

impl Checker {
    pub fn new() -> Checker {
        Checker::default()
    }

    /// A checker of query parameters (list filters).
    pub fn query() -> Checker {
        Checker {
            location: In::Query,
            ..Checker::default()
        }
    }

    pub fn add(&mut self, field: impl Into<String>, code: Code) {
        self.errors.push(Violation::new(field, code));
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
            _ => self.add(field, Code::InvalidFormat(Format::Url)),
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
            self.add(field, Code::InvalidFormat(Format::Email));
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
            self.add(field, Code::InvalidFormat(Format::Phone));
        }
        Some(v)
    }

    /// Tags: trimmed, deduplicated (order kept), 1..=50 characters each, at most 50.
    pub fn tags(&mut self, field: &str, tags: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if tags.len() > 50 {
            self.add(field, Code::TooMany { max: 50 });
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
            return Ok(());
        }
        let location = self.location;
        Err(self
            .errors
            .into_iter()
            .map(|v| match v.location {
                In::Body => Violation { location, ..v },
                _ => v,
            })
            .collect())
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
    /// A list of at most this many items, none listed twice.
    Distinct(usize),
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
