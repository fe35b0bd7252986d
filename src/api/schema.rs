//! Rules of the input texts stated in the OpenAPI document, in one place.
//!
//! Every text field with a length limit (`max_length` on the field) gets a pattern that refuses
//! what the service refuses: NUL and control characters other than tab, CR and LF; a required
//! text (`min_length = 1`) must also have a character that is not white space (the service trims).

use utoipa::openapi::schema::{ArrayItems, Object, Schema, SchemaType, Type};
use utoipa::openapi::{OpenApi, RefOr};

use crate::domain::validate::{Limit, Rule};

/// Characters a text may hold: no C0/C1 control characters except tab, LF and CR.
const ALLOWED: &str = r"[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]";
/// A character that counts after trimming.
const VISIBLE: &str = r"[^\s\x00-\x1F\x7F-\x9F]";

/// The pattern of an optional (possibly blank) text.
/// Documents `lang` (the language of error texts) on an operation that does not list it: every
/// operation takes it (list queries have the member; the others read no query).
pub fn state_lang(op: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{RefOr, Required};
    let params = op.parameters.get_or_insert_with(Vec::new);
    let listed = params
        .iter()
        .any(|p| matches!(p, RefOr::T(p) if p.name == "lang"));
    if listed {
        return;
    }
    let p = ParameterBuilder::new()
        .name("lang")
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(
            "The language of error texts: `zh` (default) or `en`; overrides `Accept-Language`.",
        ))
        .schema(Some(utoipa::openapi::Ref::from_schema_name("Lang")))
        .build();
    params.push(p.into());
}

pub fn text_pattern() -> String {
    format!("^{ALLOWED}*$")
}

/// The pattern of a required text: not blank.
pub fn required_text_pattern() -> String {
    format!("^{ALLOWED}*{VISIBLE}{ALLOWED}*$")
}

fn is_string(t: &SchemaType) -> bool {
    match t {
        SchemaType::Type(Type::String) => true,
        SchemaType::Array(types) => types.contains(&Type::String),
        _ => false,
    }
}

fn tighten_object(o: &mut Object) {
    if is_string(&o.schema_type) && o.max_length.is_some() && o.pattern.is_none() {
        o.pattern = Some(if o.min_length == Some(1) {
            required_text_pattern()
        } else {
            text_pattern()
        });
    }
    for p in o.properties.values_mut() {
        tighten(p);
    }
}

fn tighten(s: &mut RefOr<Schema>) {
    let RefOr::T(s) = s else { return };
    match s {
        Schema::Object(o) => tighten_object(o),
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                tighten(items);
            }
        }
        Schema::OneOf(x) => x.items.iter_mut().for_each(tighten),
        Schema::AllOf(x) => x.items.iter_mut().for_each(tighten),
        Schema::AnyOf(x) => x.items.iter_mut().for_each(tighten),
        _ => {}
    }
}

/// Adds the text patterns to every component schema and every parameter.
pub fn state_text_rules(api: &mut OpenApi) {
    if let Some(c) = api.components.as_mut() {
        c.schemas.values_mut().for_each(tighten);
    }
    for item in api.paths.paths.values_mut() {
        let ops = [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ];
        for op in ops.into_iter().flatten() {
            for p in op.parameters.iter_mut().flatten() {
                if let RefOr::T(p) = p {
                    if let Some(s) = p.schema.as_mut() {
                        tighten(s);
                    }
                }
            }
        }
    }
}

/// Writes limits stated in the domain (`domain::validate::Limit`) into the schemas they name;
/// gives the limits whose schema or member the document does not have (a test keeps it empty).
pub fn state_limits(api: &mut OpenApi, limits: &[Limit]) -> Vec<Limit> {
    let mut missing = Vec::new();
    for limit in limits {
        for name in limit.schemas {
            let member = api
                .components
                .as_mut()
                .and_then(|c| c.schemas.get_mut(*name))
                .and_then(|s| match s {
                    RefOr::T(Schema::Object(o)) => o.properties.get_mut(limit.member),
                    _ => None,
                });
            let stated = match member {
                Some(RefOr::T(schema)) => state_limit(schema, limit.rule),
                _ => false,
            };
            if !stated {
                missing.push(*limit);
            }
        }
    }
    missing
}

fn state_limit(schema: &mut Schema, rule: Rule) -> bool {
    match (schema, rule) {
        (Schema::Object(o), Rule::Text { required, max }) => {
            o.max_length = Some(max);
            o.min_length = required.then_some(1);
            true
        }
        (Schema::Object(o), Rule::AtMost(max)) => {
            o.minimum = Some(0.into());
            o.maximum = Some(max.into());
            true
        }
        (Schema::Array(a), Rule::Items(max)) => {
            a.max_items = Some(max);
            true
        }
        (Schema::Array(a), Rule::Distinct(max)) => {
            a.max_items = Some(max);
            a.unique_items = true;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, s: &str) -> bool {
        regex::Regex::new(pattern).unwrap().is_match(s)
    }

    #[test]
    fn url_email_and_phone_patterns_say_what_the_checker_says() {
        use crate::domain::validate::{Checker, EMAIL_PATTERN, PHONE_PATTERN, URL_PATTERN};
        let urls = [
            "https://a.cn",
            " http://x ",
            "",
            "ftp://x",
            "https://",
            "https://a b",
            "example.com",
        ];
        for s in urls {
            let mut c = Checker::new();
            c.optional_url("f", Some(s));
            assert_eq!(c.finish().is_ok(), matches(URL_PATTERN, s), "{s:?}");
        }
        let mails = [
            "a@b.cn", " a@b.cn ", "", "a@b", "a@.b", "a@b.", "@b.cn", "a@b@c.d", "a b@c.d",
        ];
        for s in mails {
            let mut c = Checker::new();
            c.optional_email("f", Some(s));
            assert_eq!(c.finish().is_ok(), matches(EMAIL_PATTERN, s), "{s:?}");
        }
        let phones = [
            "+86 (10) 1234-5678",
            "123",
            "12",
            "",
            "call me",
            "1-2-3 ext 4",
            "12a3",
        ];
        for s in phones {
            let mut c = Checker::new();
            c.optional_phone("f", Some(s));
            assert_eq!(c.finish().is_ok(), matches(PHONE_PATTERN, s), "{s:?}");
        }
    }

    #[test]
    fn the_document_carries_the_same_patterns() {
        use crate::domain::validate::{EMAIL_PATTERN, PHONE_PATTERN, URL_PATTERN};
        let spec = serde_json::to_value(crate::api::openapi()).unwrap();
        let props = |schema: &str| spec["components"]["schemas"][schema]["properties"].clone();
        assert_eq!(props("CreateAccount")["website"]["pattern"], URL_PATTERN);
        assert_eq!(props("CreateContact")["email"]["pattern"], EMAIL_PATTERN);
        assert_eq!(props("CreateContact")["phone"]["pattern"], PHONE_PATTERN);
        assert_eq!(props("PatchContact")["email"]["pattern"], EMAIL_PATTERN);
        assert_eq!(props("PatchAccount")["website"]["pattern"], URL_PATTERN);
        assert_eq!(
            props("CreateAccount")["name"]["pattern"],
            required_text_pattern()
        );
    }

    #[test]
    fn patterns_say_what_the_checker_says() {
        use crate::domain::validate::Checker;
        for s in [
            "华为", " a ", "a\tb", "", "   ", "a\u{0}b", "a\u{7f}", "x\u{85}", "\n",
        ] {
            let mut c = Checker::new();
            c.required_text("f", s, 100);
            assert_eq!(
                c.finish().is_ok(),
                matches(&required_text_pattern(), s),
                "{s:?}"
            );
            let mut c = Checker::new();
            c.optional_text("f", Some(s), 100);
            assert_eq!(c.finish().is_ok(), matches(&text_pattern(), s), "{s:?}");
        }
    }

    #[test]
    fn every_limit_stated_in_the_domain_is_in_the_document() {
        let mut api = crate::api::openapi_unfinished();
        for limits in crate::api::LIMITS {
            let missing = state_limits(&mut api, limits);
            assert!(missing.is_empty(), "{missing:?}");
        }
    }
}
