//! Extractor configuration so that every malformed request answers problem+json, the JSON body
//! extractor that names the offending field, and the 404/405 fallback.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;

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
            ApiError::PayloadTooLarge(format!("the request body exceeds {limit} bytes"))
        }
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType(
            "send JSON: Content-Type application/json (or application/merge-patch+json for PATCH)"
                .to_string(),
        ),
        JsonPayloadError::Deserialize(e) => ApiError::BadRequest(format!("malformed JSON: {e}")),
        other => ApiError::BadRequest(format!("cannot read the request body: {other}")),
    }
}

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .content_type_required(true)
        .content_type(|m| is_json_mime(&m))
        .error_handler(|err, _req| json_error(&err).into())
}

/// A path parameter that does not parse is a 400, unless the path is a documented static
/// resource that a pattern route happened to match (`PATCH /v1/survey-records/template.xlsx`
/// reaching `/v1/survey-records/{survey_id}`): then the method is what is wrong, a 405.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, req| {
        let static_methods = req
            .app_data::<web::Data<KnownRoutes>>()
            .and_then(|routes| routes.static_allowed(req.path()));
        match static_methods {
            Some(allow) if !allow.iter().any(|m| m == req.method().as_str()) => {
                ApiError::MethodNotAllowed { allow }.into()
            }
            _ => ApiError::BadRequest(format!("invalid path parameter: {err}")).into(),
        }
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req| {
        ApiError::BadRequest(format!("invalid query parameter: {err}")).into()
    })
}

/// A JSON body deserialized into `T`. Syntax errors answer 400; well-formed JSON of the wrong
/// shape answers 422 with the path of the offending field.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
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

/// The documented routes (from the OpenAPI spec), for telling 405 from 404.
pub struct KnownRoutes(Vec<(actix_web::dev::ResourceDef, Vec<String>)>);

impl KnownRoutes {
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> KnownRoutes {
        let mut routes = Vec::new();
        for (path, item) in &api.paths.paths {
            let mut methods = Vec::new();
            let ops = [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ];
            for (m, present) in ops {
                if present {
                    methods.push(m.to_string());
                }
            }
            routes.push((actix_web::dev::ResourceDef::new(path.as_str()), methods));
        }
        KnownRoutes(routes)
    }

    /// Methods of the documented static path equal to `path`, if there is one.
    pub fn static_allowed(&self, path: &str) -> Option<Vec<String>> {
        self.0
            .iter()
            .find(|(def, _)| def.pattern() == Some(path))
            .map(|(_, methods)| methods.clone())
    }

    /// Methods allowed on `path`, when it is a known resource.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let mut allowed: Vec<String> = Vec::new();
        // A static path (`/v1/survey-records/template.xlsx`) is its own resource even where a
        // pattern (`/v1/survey-records/{survey_id}`) would match it too.
        let exact = self.0.iter().any(|(def, _)| def.pattern() == Some(path));
        for (def, methods) in &self.0 {
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
        None => Err(ApiError::NotFound(format!("no resource at {}", req.path()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u32,
    }

    #[derive(Debug, Deserialize)]
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
        assert_eq!(errs[0].path, "name");
        let e = decode::<Outer>(serde_json::json!({"name": "a", "inner": {"n": -1}}))
            .err()
            .unwrap();
        let ApiError::Validation(errs) = e else {
            panic!()
        };
        assert_eq!(errs[0].path, "inner.n");
        let e = decode::<Outer>(serde_json::json!({"name": "a", "bogus": 1}))
            .err()
            .unwrap();
        let ApiError::Validation(errs) = e else {
            panic!()
        };
        assert_eq!(errs[0].path, "bogus");
        let e = decode::<Outer>(serde_json::json!({})).err().unwrap();
        let ApiError::Validation(errs) = e else {
            panic!()
        };
        assert!(errs[0].message.contains("name"));
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
