//! Extractor configuration so that every malformed request answers problem+json, the JSON body
//! extractor that names the offending field, and the 404/405 fallback.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;

use crate::domain::texts;
use crate::domain::validate::{Code, Format, In, Violation};
use crate::error::ApiError;
use crate::service::input::decode;

fn is_json_mime(mime: &mime::Mime) -> bool {
    mime.type_() == mime::APPLICATION
        && (mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
}

/// Maps actix's JSON payload errors to problem+json.
pub fn json_error(err: &JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            ApiError::PayloadTooLarge(Box::new(Violation::new(
                "",
                Code::TooLarge {
                    max_bytes: *limit as u64,
                },
            )))
        }
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType(Box::new(Violation::at(
            In::Header,
            "Content-Type",
            Code::UnsupportedType {
                allowed: vec![
                    "application/json".to_string(),
                    "application/merge-patch+json".to_string(),
                ],
            },
        ))),
        other => {
            log::debug!("unreadable JSON body: {other}");
            ApiError::BadRequest(vec![Violation::new("", Code::InvalidFormat(Format::Json))])
        }
    }
}

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .content_type_required(true)
        .content_type(|m| is_json_mime(&m))
        .error_handler(|err, _req| json_error(&err).into())
}

/// A path parameter that does not parse is a 400 naming it, unless the path is a documented
/// static resource that a pattern route happened to match (`PATCH
/// /v1/survey-records/template.xlsx` reaching `/v1/survey-records/{survey_id}`): then the
/// method is what is wrong, a 405.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, req| {
        let routes = req.app_data::<web::Data<KnownRoutes>>();
        let static_methods = routes.and_then(|routes| routes.static_allowed(req.path()));
        match static_methods {
            Some(allow) if !allow.iter().any(|m| m == req.method().as_str()) => {
                ApiError::MethodNotAllowed { allow }.into()
            }
            _ => {
                log::debug!("path parameters refused: {err}");
                let found = routes
                    .map(|r| r.parameter_violations(req, In::Path))
                    .unwrap_or_default();
                parameter_error(found, In::Path).into()
            }
        }
    })
}

/// A query that does not parse: every parameter that is wrong, by the document's parameter
/// schemas (400 when one does not parse as its type, 422 when all parse but one is refused).
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, req| {
        log::debug!("query refused: {err}");
        let found = req
            .app_data::<web::Data<KnownRoutes>>()
            .map(|r| r.parameter_violations(req, In::Query))
            .unwrap_or_default();
        parameter_error(found, In::Query).into()
    })
}

fn parameter_error(found: Vec<(bool, Violation)>, location: In) -> ApiError {
    if found.is_empty() {
        // The document and the extractor disagree: still name where.
        let name = if location == In::Path {
            "path"
        } else {
            "query"
        };
        return ApiError::malformed(location, name, Code::InvalidFormat(Format::Pattern));
    }
    let malformed = found.iter().any(|(m, _)| *m);
    let errors = found.into_iter().map(|(_, v)| v).collect();
    if malformed {
        ApiError::BadRequest(errors)
    } else {
        ApiError::Validation(errors)
    }
}

/// A JSON body deserialized into `T`. Syntax errors answer 400; well-formed JSON of the wrong
/// shape answers 422 with the path of the offending field.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + utoipa::ToSchema + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = fut.await?.into_inner();
            decode(value).map(JsonBody).map_err(Into::into)
        })
    }
}

/// A documented operation's parameters: name, where, schema.
type Parameters = Vec<(String, In, serde_json::Value)>;

/// A documented path: its pattern, methods, and each method's parameters.
type Route = (
    actix_web::dev::ResourceDef,
    Vec<String>,
    Vec<(String, Parameters)>,
);

/// The documented routes (from the OpenAPI spec), for telling 405 from 404 and for naming the
/// parameters a request got wrong.
pub struct KnownRoutes(Vec<Route>);

impl KnownRoutes {
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> KnownRoutes {
        let doc = serde_json::to_value(api).unwrap_or_default();
        let mut routes = Vec::new();
        let paths = doc.get("paths").and_then(|p| p.as_object());
        for (path, item) in paths.into_iter().flatten() {
            let mut methods = Vec::new();
            let mut operations = Vec::new();
            for m in ["get", "post", "put", "patch", "delete"] {
                let Some(op) = item.get(m) else { continue };
                methods.push(m.to_ascii_uppercase());
                let params = op
                    .get("parameters")
                    .and_then(|p| p.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|p| {
                        let name = p.get("name")?.as_str()?.to_string();
                        let location = match p.get("in")?.as_str()? {
                            "query" => In::Query,
                            "path" => In::Path,
                            _ => return None,
                        };
                        Some((name, location, p.get("schema").cloned().unwrap_or_default()))
                    })
                    .collect();
                operations.push((m.to_ascii_uppercase(), params));
            }
            routes.push((
                actix_web::dev::ResourceDef::new(path.as_str()),
                methods,
                operations,
            ));
        }
        KnownRoutes(routes)
    }

    /// The parameters (`location`) of `req` that its operation's schemas refuse, each with
    /// whether it is malformed (400) rather than unacceptable (422). A query parameter the
    /// operation does not have is malformed.
    pub fn parameter_violations(&self, req: &HttpRequest, location: In) -> Vec<(bool, Violation)> {
        let path = req.path();
        let exact = self.0.iter().any(|(def, _, _)| def.pattern() == Some(path));
        let route = self.0.iter().find(|(def, _, _)| {
            if exact {
                def.pattern() == Some(path)
            } else {
                def.is_match(path)
            }
        });
        let Some((def, _, operations)) = route else {
            return Vec::new();
        };
        let Some((_, params)) = operations.iter().find(|(m, _)| m == req.method().as_str()) else {
            return Vec::new();
        };
        let given: Vec<(String, String)> = match location {
            In::Query => url::form_urlencoded::parse(req.query_string().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            _ => {
                let mut p = actix_web::dev::Path::new(path);
                def.capture_match_info(&mut p);
                p.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }
        };
        let mut found = Vec::new();
        for (name, value) in given {
            let schema = params
                .iter()
                .find(|(n, l, _)| *n == name && *l == location)
                .map(|(_, _, s)| s);
            match schema {
                None if location == In::Query => {
                    found.push((true, Violation::at(location, name, Code::UnknownField)));
                }
                None => {}
                Some(schema) => {
                    let v = crate::service::contract::parameter_violation(&name, schema, &value);
                    if let Some((malformed, mut v)) = v {
                        v.location = location;
                        found.push((malformed, v));
                    }
                }
            }
        }
        found
    }

    /// Methods of the documented static path equal to `path`, if there is one.
    pub fn static_allowed(&self, path: &str) -> Option<Vec<String>> {
        self.0
            .iter()
            .find(|(def, _, _)| def.pattern() == Some(path))
            .map(|(_, methods, _)| methods.clone())
    }

    /// Methods allowed on `path`, when it is a known resource.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let mut allowed: Vec<String> = Vec::new();
        // A static path (`/v1/survey-records/template.xlsx`) is its own resource even where a
        // pattern (`/v1/survey-records/{survey_id}`) would match it too.
        let exact = self.0.iter().any(|(def, _, _)| def.pattern() == Some(path));
        for (def, methods, _) in &self.0 {
            if def.is_match(path) && (!exact || def.pattern() == Some(path)) {
                allowed.extend(methods.iter().cloned());
            }
        }
        if allowed.is_empty() {
            None
        } else {
            allowed.sort();
            allowed.dedup();
            Some(allowed)
        }
    }
}

/// Default service: 405 with `Allow` on a known path, 404 otherwise.
pub async fn fallback(
    req: HttpRequest,
    routes: web::Data<KnownRoutes>,
) -> Result<HttpResponse, ApiError> {
    match routes.allowed(req.path()) {
        Some(allow) => Err(ApiError::MethodNotAllowed { allow }),
        None => Err(ApiError::NotFound(texts::no_resource(req.path()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, utoipa::ToSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u32,
    }

    #[derive(Debug, Deserialize, utoipa::ToSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Option<Inner>,
    }

    #[test]
    fn decode_names_fields() {
        let e = decode::<Outer>(serde_json::json!({"name": 5}))
            .err()
            .unwrap();
        let ApiError::Validation(errs) = e else {
            panic!()
        };
        assert_eq!(errs[0].path, "/name");
        assert_eq!(
            errs[0].code,
            Code::InvalidType {
                expected: "string".into()
            }
        );
        let e = decode::<Outer>(serde_json::json!({"name": "a", "inner": {"n": -1}}))
            .err()
            .unwrap();
        let ApiError::Validation(errs) = e else {
            panic!()
        };
        assert_eq!(errs[0].path, "/inner/n");
        assert_eq!(
            errs[0].code,
            Code::OutOfRange {
                min: Some(0),
                max: None
            }
        );
        let e = decode::<Outer>(serde_json::json!({"name": "a", "bogus": 1}))
            .err()
            .unwrap();
        let ApiError::Validation(errs) = e else {
            panic!()
        };
        assert_eq!(errs[0].path, "/bogus");
        assert_eq!(errs[0].code, Code::UnknownField);
        let e = decode::<Outer>(serde_json::json!({})).err().unwrap();
        let ApiError::Validation(errs) = e else {
            panic!()
        };
        assert_eq!(errs[0].path, "/name");
        assert_eq!(errs[0].code, Code::Required);
    }

    #[test]
    fn json_mime() {
        assert!(is_json_mime(&"application/json".parse().unwrap()));
        assert!(is_json_mime(
            &"application/merge-patch+json".parse().unwrap()
        ));
        assert!(is_json_mime(
            &"application/json; charset=utf-8".parse().unwrap()
        ));
        assert!(!is_json_mime(&"text/plain".parse().unwrap()));
    }
}
