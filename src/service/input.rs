//! Reading JSON input into typed use-case input: decoding with the path of the offending
//! field, and JSON merge patch (RFC 7396) helpers for PATCH use cases.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::domain::validate::Violation;
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

/// Deserializes a JSON value, naming the offending field on failure.
pub fn decode<T: DeserializeOwned>(mut value: serde_json::Value) -> Result<T, ApiError> {
    whole_numbers(&mut value);
    let is_object = value.is_object();
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() || !is_object {
            "body".to_string()
        } else {
            path
        };
        let message = e.inner().to_string();
        // "missing field `x`" errors point at the parent; name the field itself.
        let field = match message.strip_prefix("missing field `") {
            Some(rest) => {
                let name = rest.split('`').next().unwrap_or_default();
                if field == "body" {
                    name.to_string()
                } else {
                    format!("{field}.{name}")
                }
            }
            None => field,
        };
        ApiError::Validation(vec![Violation::new(field, message)])
    })
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
