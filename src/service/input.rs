//! Reading JSON input into typed use-case input: decoding with the path of the offending
//! field, and JSON merge patch (RFC 7396) helpers for PATCH use cases.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::domain::validate::{Code, Format, Violation};
use crate::error::ApiError;

/// Tells an absent member (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// Applies a JSON merge patch (RFC 7396) to `target`: objects merge member by member, `null`
/// removes a member, anything else replaces.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    match patch {
        Value::Object(members) => {
            if !target.is_object() {
                *target = Value::Object(serde_json::Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in members {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// JSON (and JSON Schema) do not tell `3.0` from `3`: a number without a fraction is read as an
/// integer wherever one is expected. Amounts of money stay exact: `980.5` is still refused.
fn whole_numbers(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            if let Some(x) = n.as_f64() {
                // Only where the integer is exact (|x| < 2^53).
                if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
                    *v = Value::from(x as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(members) => members.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// Reads a JSON body into `T`: first against `T`'s schema in the published document (every
/// finding at once), then by serde (what the schema cannot say). Findings name the member as a
/// JSON pointer.
pub fn decode<T: DeserializeOwned + utoipa::ToSchema>(
    mut value: serde_json::Value,
) -> Result<T, ApiError> {
    whole_numbers(&mut value);
    let found = crate::service::contract::body_violations(&T::name(), &value);
    if !found.is_empty() {
        return Err(ApiError::Validation(found));
    }
    let is_object = value.is_object();
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut pointer = String::new();
        for segment in e.path().iter() {
            use serde_path_to_error::Segment as S;
            match segment {
                S::Seq { index } => pointer.push_str(&format!("/{index}")),
                S::Map { key } | S::Enum { variant: key } => {
                    pointer.push('/');
                    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                }
                S::Unknown => {}
            }
        }
        if !is_object {
            pointer.clear();
        }
        let (code, member) = serde_code(&e.inner().to_string());
        if let Some(m) = member {
            pointer.push('/');
            pointer.push_str(&m);
        }
        ApiError::Validation(vec![Violation::new(pointer, code)])
    })
}

/// The code of a serde error message (what the schema did not catch), and the member it names
/// when it names one below the path (`missing field`).
fn serde_code(message: &str) -> (Code, Option<String>) {
    let quoted = |s: &str| -> Vec<String> {
        s.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default().to_string();
        return (Code::Required, Some(name));
    }
    if message.starts_with("unknown field") {
        return (Code::UnknownField, None);
    }
    if message.starts_with("unknown variant") {
        let allowed = message
            .split_once("expected")
            .map(|(_, e)| quoted(e))
            .unwrap_or_default();
        return (Code::UnknownValue { allowed }, None);
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let expected = rest.split_once(", expected ").map_or("", |(_, e)| e);
        let name = match expected {
            e if e.contains("string") => "string",
            e if e.contains("sequence") => "array",
            e if e.contains("map") || e.contains("struct") => "object",
            e if e.contains("bool") => "boolean",
            e if e.starts_with('u') || e.starts_with('i') || e.contains("integer") => "integer",
            e if e.starts_with('f') || e.contains("number") => "number",
            _ => "string",
        };
        return (
            Code::InvalidType {
                expected: name.to_string(),
            },
            None,
        );
    }
    if message.starts_with("invalid value: integer") || message.contains("must not be negative") {
        return (
            Code::OutOfRange {
                min: Some(0),
                max: None,
            },
            None,
        );
    }
    let format = if message.contains("UUID") {
        Format::Uuid
    } else if message.contains("decimal string") {
        Format::Amount
    } else if [
        "input contains invalid characters",
        "premature end of input",
        "trailing input",
        "input is out of range",
        "no possible date",
        "input is not enough",
    ]
    .iter()
    .any(|m| message.contains(m))
    {
        Format::DateTime
    } else {
        Format::Pattern
    };
    (Code::InvalidFormat(format), None)
}

/// A tag of an account (schema only): 1-50 characters, not blank.
pub struct Tag;

impl utoipa::PartialSchema for Tag {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(50))
            .description(Some("A tag: 1-50 characters, not blank."))
            .into()
    }
}

impl utoipa::ToSchema for Tag {}

/// A binary body (a workbook): `type: string, format: binary`.
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for Binary {}

/// A workbook uploaded as a form.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // only a schema: the handler reads the parts itself
pub struct WorkbookForm {
    /// The `.xlsx` file (the first file part of the form is read).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// A CSV file uploaded as a form.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // only a schema: the handler reads the parts itself
pub struct CsvForm {
    /// The CSV file (the first file part of the form is read; its `charset=` is honoured).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        // The example of RFC 7396 section 3.
        let mut target = serde_json::json!({
            "title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"},
            "tags": ["example", "sample"], "content": "This will be unchanged"
        });
        let patch = serde_json::json!({
            "title": "Hello!", "phoneNumber": "+01-123-456-7890",
            "author": {"familyName": null}, "tags": ["example"]
        });
        merge_patch(&mut target, &patch);
        assert_eq!(
            target,
            serde_json::json!({
                "title": "Hello!", "author": {"givenName": "John"}, "tags": ["example"],
                "content": "This will be unchanged", "phoneNumber": "+01-123-456-7890"
            })
        );
    }

    #[derive(Deserialize)]
    struct P {
        #[serde(default, deserialize_with = "double_option")]
        a: Option<Option<String>>,
    }

    #[test]
    fn absent_null_and_value_differ() {
        let p: P = serde_json::from_str("{}").unwrap();
        assert_eq!(p.a, None);
        let p: P = serde_json::from_str(r#"{"a":null}"#).unwrap();
        assert_eq!(p.a, Some(None));
        let p: P = serde_json::from_str(r#"{"a":"x"}"#).unwrap();
        assert_eq!(p.a, Some(Some("x".into())));
    }
}
