//! JSON merge patch (RFC 7396) for flat resources: an absent member leaves a field alone,
//! `null` clears it, a value replaces it (arrays are replaced whole).

use serde::{Deserialize, Deserializer};

/// For `Option<Option<T>>` fields with `#[serde(default, deserialize_with = "double_option")]`:
/// absent → `None`, `null` → `Some(None)`, value → `Some(Some(v))`.
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
