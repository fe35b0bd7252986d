//! Input checked against the published contract: the OpenAPI document's schemas are the first
//! check of every JSON body and of query parameters that do not parse, so that a request with
//! several bad members hears of all of them at once (types, enumerations, lengths, patterns,
//! unknown members), with the same rules the document states. The use cases' own checks
//! (blank names, references, the playbook) run after, on input that has the right shape.
//!
//! The document is installed once at start (`install`); without it (unit tests) bodies are
//! only decoded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::error::{TypeKind, ValidationErrorKind as K};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use crate::domain::validate::{Code, Format, In, Violation};

/// The document's components and the validators built from them so far.
struct Contract {
    /// `{"components": {"schemas": …}}`: what `#/components/schemas/X` references resolve in.
    root: Value,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

static CONTRACT: OnceLock<Contract> = OnceLock::new();

/// Installs the OpenAPI document (as JSON) whose schemas check input. The first call wins; the
/// document does not change while the process runs.
pub fn install(document: &Value) {
    let root = serde_json::json!({ "components": document.get("components").cloned().unwrap_or(Value::Null) });
    let _ = CONTRACT.set(Contract {
        root,
        validators: Mutex::new(HashMap::new()),
    });
}

impl Contract {
    /// The validator of `schema` (a JSON schema whose `$ref`s point into the components).
    fn validator(&self, key: &str, schema: Value) -> Option<Arc<Validator>> {
        let mut cache = self.validators.lock().ok()?;
        if let Some(v) = cache.get(key) {
            return Some(v.clone());
        }
        let mut doc = self.root.clone();
        if let (Value::Object(d), Value::Object(s)) = (&mut doc, schema) {
            d.extend(s);
        }
        let built = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&doc);
        match built {
            Ok(v) => {
                let v = Arc::new(v);
                cache.insert(key.to_string(), v.clone());
                Some(v)
            }
            Err(e) => {
                log::error!("the schema {key} of the OpenAPI document does not compile: {e}");
                None
            }
        }
    }

    fn has_schema(&self, name: &str) -> bool {
        self.root
            .pointer(&format!("/components/schemas/{name}"))
            .is_some()
    }
}

/// What is wrong with `body` by the document's schema `name`; empty when it conforms or when
/// the document has no such schema.
pub fn body_violations(name: &str, body: &Value) -> Vec<Violation> {
    let Some(c) = CONTRACT.get() else {
        return Vec::new();
    };
    if !c.has_schema(name) {
        return Vec::new();
    }
    let schema = serde_json::json!({ "$ref": format!("#/components/schemas/{name}") });
    let Some(v) = c.validator(name, schema) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in v.iter_errors(body) {
        violations_of(&e, &mut out);
    }
    settle(out)
}

/// What is wrong with one query parameter's `value` by its `schema` (from the document), as a
/// 400 (`malformed`: it does not parse as the type) or 422 finding.
pub fn parameter_violation(name: &str, schema: &Value, value: &str) -> Option<(bool, Violation)> {
    let c = CONTRACT.get()?;
    let typed = match coerce(schema, &c.root, value) {
        Ok(v) => v,
        Err(format) => {
            return Some((
                true,
                Violation::at(In::Query, name, Code::InvalidFormat(format)),
            ));
        }
    };
    let v = c.validator(&format!("query:{name}:{schema}"), schema.clone())?;
    let mut found = Vec::new();
    for e in v.iter_errors(&typed) {
        violations_of(&e, &mut found);
    }
    let first = settle(found).into_iter().next()?;
    let malformed = matches!(
        first.code,
        Code::InvalidFormat(_) | Code::InvalidType { .. }
    );
    Some((malformed, Violation::at(In::Query, name, first.code)))
}

/// The JSON value of a query parameter by the type its schema states; `Err` names the syntax
/// it lacks.
fn coerce(schema: &Value, root: &Value, value: &str) -> Result<Value, Format> {
    let schema = resolve(schema, root);
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec!["string"],
    };
    if types.contains(&"integer") {
        return value
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| Format::Integer);
    }
    if types.contains(&"boolean") {
        return match value {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(Format::Boolean),
        };
    }
    Ok(Value::String(value.to_string()))
}

/// `schema`, or what its `$ref` (or a one-member `oneOf`/`allOf` of a ref) points at.
fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    let target = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|p| root.pointer(p));
    target.unwrap_or(schema)
}

/// One schema error as findings (`oneOf` with `null` and nested errors unwrapped).
fn violations_of(e: &ValidationError<'_>, out: &mut Vec<Violation>) {
    let at = e.instance_path().as_str().to_string();
    let instance: &Value = e.instance();
    match e.kind() {
        K::AnyOf { context } | K::OneOfNotValid { context } => {
            // A nullable member (`oneOf: [X, {type: null}]`): the branch that is not the null
            // tells what is wrong. Otherwise the value matches none of the forms.
            let branches: Vec<&Vec<ValidationError<'static>>> = context
                .iter()
                .filter(|b| !b.iter().all(|e| is_null_branch(e)))
                .collect();
            match branches.as_slice() {
                [one] => one.iter().for_each(|e| violations_of(e, out)),
                _ if instance.is_null() => out.push(Violation::new(at, Code::Required)),
                _ => out.push(Violation::new(at, Code::InvalidFormat(Format::Pattern))),
            }
        }
        K::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            out.push(Violation::new(
                format!("{at}/{}", escape(name)),
                Code::Required,
            ));
        }
        K::AdditionalProperties { unexpected } | K::UnevaluatedProperties { unexpected } => {
            for name in unexpected {
                out.push(Violation::new(
                    format!("{at}/{}", escape(name)),
                    Code::UnknownField,
                ));
            }
        }
        K::UniqueItems => {
            // Each item that repeats an earlier one, by its place.
            let items = instance.as_array().map(Vec::as_slice).unwrap_or_default();
            for (i, item) in items.iter().enumerate() {
                if items[..i].contains(item) {
                    out.push(Violation::new(format!("{at}/{i}"), Code::Duplicate));
                }
            }
        }
        kind => out.push(Violation::new(at, code_of(kind, instance))),
    }
}

/// The code of a schema error about the value itself.
fn code_of(kind: &K, instance: &Value) -> Code {
    match kind {
        K::Type { .. } if instance.is_null() => Code::Required,
        K::Type { kind } => Code::InvalidType {
            expected: type_names(kind),
        },
        K::Enum { options } => Code::UnknownValue {
            allowed: options
                .as_array()
                .map(|o| {
                    o.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        },
        K::Constant { expected_value } => Code::UnknownValue {
            allowed: expected_value
                .as_str()
                .map(str::to_string)
                .into_iter()
                .collect(),
        },
        K::MaxLength { limit } => Code::TooLong { max: *limit },
        K::MinLength { limit } if *limit <= 1 => Code::Required,
        K::MinLength { limit } => Code::TooShort { min: *limit },
        K::MaxItems { limit } => Code::TooMany { max: *limit },
        K::MinItems { limit } => Code::TooFew { min: *limit },
        K::Minimum { limit } | K::ExclusiveMinimum { limit } => Code::OutOfRange {
            min: limit.as_i64(),
            max: None,
        },
        K::Maximum { limit } | K::ExclusiveMaximum { limit } => Code::OutOfRange {
            min: None,
            max: limit.as_i64(),
        },
        K::Pattern { pattern } => pattern_code(pattern, instance),
        K::Format { format } => Code::InvalidFormat(format_of(format)),
        _ => Code::InvalidFormat(Format::Pattern),
    }
}

fn is_null_branch(e: &ValidationError<'_>) -> bool {
    matches!(e.kind(), K::Type { kind: TypeKind::Single(t) } if t.to_string() == "null")
}

fn type_names(kind: &TypeKind) -> String {
    let names: Vec<String> = match kind {
        TypeKind::Single(t) => vec![t.to_string()],
        TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
    };
    names
        .into_iter()
        .filter(|n| n != "null")
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a failed `pattern` means, by what the value holds and which pattern it is.
fn pattern_code(pattern: &str, instance: &Value) -> Code {
    use crate::domain::validate::{EMAIL_PATTERN, PHONE_PATTERN, URL_PATTERN};
    let text = instance.as_str().unwrap_or_default();
    if text
        .chars()
        .any(|c| c == '\0' || (c.is_control() && !matches!(c, '\n' | '\r' | '\t')))
    {
        return Code::InvalidCharacters;
    }
    if text.trim().is_empty() {
        return Code::Required;
    }
    let format = match pattern {
        p if p == EMAIL_PATTERN => Format::Email,
        p if p == URL_PATTERN => Format::Url,
        p if p == PHONE_PATTERN => Format::Phone,
        p if p == crate::domain::money::DECIMAL_PATTERN => Format::Amount,
        _ => Format::Pattern,
    };
    Code::InvalidFormat(format)
}

fn format_of(format: &str) -> Format {
    match format {
        "uuid" => Format::Uuid,
        "date-time" => Format::DateTime,
        "date" => Format::Date,
        "email" => Format::Email,
        "uri" | "url" => Format::Url,
        _ => Format::Pattern,
    }
}

fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// Findings in document order, one per place: the most basic (missing, then of the wrong
/// type) where a value breaks several rules.
fn settle(mut found: Vec<Violation>) -> Vec<Violation> {
    let rank = |c: &Code| match c {
        Code::Required => 0,
        Code::InvalidType { .. } => 1,
        _ => 2,
    };
    found.sort_by(|a, b| a.path.cmp(&b.path).then(rank(&a.code).cmp(&rank(&b.code))));
    found.dedup_by(|later, first| later.path == first.path);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_tell_blank_from_control_characters_from_format() {
        use crate::domain::validate::EMAIL_PATTERN;
        let s = |v: &str| Value::String(v.to_string());
        assert_eq!(
            pattern_code(EMAIL_PATTERN, &s("nobody")),
            Code::InvalidFormat(Format::Email)
        );
        assert_eq!(pattern_code("^x$", &s("  ")), Code::Required);
        assert_eq!(pattern_code("^x$", &s("a\u{1}")), Code::InvalidCharacters);
    }

    #[test]
    fn query_values_take_their_schema_type() {
        let root = Value::Null;
        let int = serde_json::json!({"type": "integer"});
        assert_eq!(coerce(&int, &root, "5"), Ok(Value::from(5)));
        assert_eq!(coerce(&int, &root, "five"), Err(Format::Integer));
        let flag = serde_json::json!({"type": ["boolean", "null"]});
        assert_eq!(coerce(&flag, &root, "yes"), Err(Format::Boolean));
        let text = serde_json::json!({"type": "string", "format": "date-time"});
        assert_eq!(
            coerce(&text, &root, "yesterday"),
            Ok(Value::from("yesterday"))
        );
    }
}
