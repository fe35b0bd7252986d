//! Texts as the service keeps them: parsed once, then carried as types that cannot hold
//! anything else. The rule is `validate::text`: trimmed, no NUL or control characters (other than
//! tab, CR and LF), within a length limit.

use crate::domain::validate::{required_text, Checker, Violation};

/// The name of an account, contact or opportunity: 1-200 characters, not blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Checker {
    /// A name (see [`Name`]); on a violation the result is never used, as `finish` fails.
    pub fn name(&mut self, field: &str, value: &str) -> Name {
        match Name::parse(field, value) {
            Ok(n) => n,
            Err(e) => {
                self.extend(e);
                Name::placeholder()
            }
        }
    }
}

impl Name {
    pub const MAX: usize = 200;

    /// Parses a name, naming `field` in the findings.
    pub fn parse(field: &str, value: &str) -> Result<Name, Vec<Violation>> {
        let mut errors = Vec::new();
        let v = required_text(&mut errors, field, value, Self::MAX);
        if errors.is_empty() {
            Ok(Name(v))
        } else {
            Err(errors)
        }
    }

    /// What a checker holds in place of an invalid name; its findings fail the check.
    pub(crate) fn placeholder() -> Name {
        Name(String::new())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_not_blank() {
        assert_eq!(Name::parse("name", "  华为 ").unwrap().as_str(), "华为");
        assert_eq!(Name::parse("name", " ").unwrap_err()[0].path, "name");
        assert!(Name::parse("name", &"x".repeat(201)).is_err());
        assert!(Name::parse("name", "a\u{0}").is_err());
    }
}
