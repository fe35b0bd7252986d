//! References of other systems: the id a record has in the CRM of record (Salesforce,
//! HubSpot, …), kept on accounts, contacts, opportunities and activities so a sync or an import
//! finds what it wrote before instead of writing it again.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::validate::{Checker, Code, Format, Limit, Rule};

/// At most this many references on one resource.
pub const MAX_REFS: usize = 20;
/// An id is at most this many characters.
pub const MAX_ID_CHARS: usize = 255;
/// A system name is at most this many characters.
pub const MAX_SYSTEM_CHARS: usize = 32;

/// The inputs that carry references.
const INPUTS: &[&str] = &[
    "CreateAccount",
    "PatchAccount",
    "CreateContact",
    "PatchContact",
    "PutContact",
    "CreateOpportunity",
    "PatchOpportunity",
    "PutOpportunity",
    "ActivityInput",
    "ActivityPatch",
    "PutActivity",
];

/// The limits of a resource's references, as the OpenAPI document states them.
pub const LIMITS: &[Limit] = &[Limit {
    schemas: INPUTS,
    member: "external_refs",
    rule: Rule::Distinct(MAX_REFS),
}];

/// A reference of another system: the resource is `id` there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalRef {
    /// The system: a lowercase letter, then up to 31 of a-z, 0-9, `_` and `-`.
    #[schema(example = "salesforce", pattern = "^[a-z][a-z0-9_-]{0,31}$")]
    pub system: String,
    /// The resource's id there: 1-255 characters, no control characters; kept exactly.
    #[schema(
        example = "0015g00000AbCdE",
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub id: String,
}

impl ExternalRef {
    pub fn new(system: impl Into<String>, id: impl Into<String>) -> Self {
        ExternalRef {
            system: system.into(),
            id: id.into(),
        }
    }

    /// `<system>:<id>`, as stored and as the `external_ref` filter takes it.
    pub fn key(&self) -> String {
        format!("{}:{}", self.system, self.id)
    }

    /// From `<system>:<id>` (the first colon ends the system, which has none); `None` when
    /// there is no colon.
    pub fn from_key(s: &str) -> Option<ExternalRef> {
        let (system, id) = s.split_once(':')?;
        Some(ExternalRef::new(system, id))
    }

    /// From `<system>:<id>`, checked: the `external_ref` filter of the lists.
    pub fn parse(s: &str) -> Option<ExternalRef> {
        let r = ExternalRef::from_key(s)?;
        (system_fault(&r.system).is_none() && id_fault(&r.id).is_none()).then_some(r)
    }
}

/// What is wrong with a system name, if anything.
pub fn system_fault(system: &str) -> Option<Code> {
    let mut chars = system.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if system.is_empty() {
        Some(Code::Required)
    } else if !(first_ok && rest_ok) || system.len() > MAX_SYSTEM_CHARS {
        Some(Code::InvalidFormat(Format::ExternalSystem))
    } else {
        None
    }
}

/// What is wrong with an id of another system, if anything.
pub fn id_fault(id: &str) -> Option<Code> {
    if id.is_empty() {
        Some(Code::Required)
    } else if id.chars().any(|c| c.is_control()) {
        Some(Code::InvalidCharacters)
    } else if id.chars().count() > MAX_ID_CHARS {
        Some(Code::TooLong {
            max: MAX_ID_CHARS as u64,
        })
    } else {
        None
    }
}

/// Checks the references given for one resource (`field`: where they are) and returns them as
/// stored, in the order given; a reference listed twice is reported.
pub fn check(c: &mut Checker, field: &str, refs: &[ExternalRef]) -> Vec<String> {
    if refs.len() > MAX_REFS {
        c.add(
            field,
            Code::TooMany {
                max: MAX_REFS as u64,
            },
        );
    }
    let mut out: Vec<String> = Vec::with_capacity(refs.len());
    for (i, r) in refs.iter().enumerate() {
        let mut ok = true;
        if let Some(code) = system_fault(&r.system) {
            c.add(format!("{field}[{i}].system"), code);
            ok = false;
        }
        if let Some(code) = id_fault(&r.id) {
            c.add(format!("{field}[{i}].id"), code);
            ok = false;
        }
        let key = r.key();
        if ok && out.contains(&key) {
            c.add(format!("{field}[{i}]"), Code::Duplicate);
        } else if ok {
            out.push(key);
        }
    }
    out
}

/// The stored references of a row, as the API shows them; `Err` names the first element that
/// is not `<system>:<id>` (a row that cannot be read).
pub fn from_stored(stored: &[Option<String>]) -> Result<Vec<ExternalRef>, String> {
    stored
        .iter()
        .map(|s| match s.as_deref().and_then(ExternalRef::from_key) {
            Some(r) => Ok(r),
            None => Err(format!("{s:?}")),
        })
        .collect()
}

/// `refs` with `keep` first where missing (a write by reference keeps the reference it was
/// made by).
pub fn including(mut refs: Vec<ExternalRef>, keep: &ExternalRef) -> Vec<ExternalRef> {
    if !refs.contains(keep) {
        refs.insert(0, keep.clone());
    }
    refs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_at_the_first_colon() {
        let r = ExternalRef::from_key("hubspot:a:b").unwrap();
        assert_eq!((r.system.as_str(), r.id.as_str()), ("hubspot", "a:b"));
        assert_eq!(r.key(), "hubspot:a:b");
        assert!(ExternalRef::from_key("nocolon").is_none());
        assert!(ExternalRef::parse("Sales:1").is_none());
        assert!(ExternalRef::parse("sales:").is_none());
        assert!(ExternalRef::parse("sales_force-2:x y").is_some());
    }

    #[test]
    fn systems_and_ids_are_checked() {
        assert_eq!(system_fault(""), Some(Code::Required));
        assert_eq!(
            system_fault("1sf"),
            Some(Code::InvalidFormat(Format::ExternalSystem))
        );
        assert_eq!(
            system_fault(&"a".repeat(33)),
            Some(Code::InvalidFormat(Format::ExternalSystem))
        );
        assert_eq!(system_fault(&"a".repeat(32)), None);
        assert_eq!(id_fault("a\u{7}"), Some(Code::InvalidCharacters));
        assert_eq!(id_fault(&"é".repeat(255)), None);
        assert_eq!(id_fault(&"é".repeat(256)), Some(Code::TooLong { max: 255 }));
    }

    #[test]
    fn a_list_reports_each_bad_element_and_duplicates() {
        let mut c = Checker::new();
        let refs = vec![
            ExternalRef::new("salesforce", "001"),
            ExternalRef::new("Bad", ""),
            ExternalRef::new("salesforce", "001"),
        ];
        let out = check(&mut c, "external_refs", &refs);
        assert_eq!(out, vec!["salesforce:001".to_string()]);
        let errors = c.finish().unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "external_refs[1].system",
                "external_refs[1].id",
                "external_refs[2]"
            ]
        );
    }

    #[test]
    fn the_reference_written_by_is_kept_first() {
        let (sf, hs) = (ExternalRef::new("sf", "1"), ExternalRef::new("hs", "2"));
        assert_eq!(
            including(vec![hs.clone()], &sf),
            vec![sf.clone(), hs.clone()]
        );
        assert_eq!(including(vec![hs.clone(), sf.clone()], &sf), vec![hs, sf]);
    }
}
