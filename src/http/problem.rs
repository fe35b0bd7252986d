//! Renders `ApiError` as an RFC 9457 `application/problem+json` response.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{web, HttpResponse, ResponseError};

use crate::domain::texts;
use crate::domain::validate::{Code, Format, In, Violation};
use crate::http::lang::request_lang;
use crate::state::AppState;

use crate::domain::playbook::Lang;
use crate::error::{ApiError, PROBLEM_JSON};

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        res.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        match self {
            ApiError::Unauthenticated(_) => {
                res.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"buyerpath\""),
                ));
            }
            ApiError::MethodNotAllowed { allow } => {
                if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                    res.insert_header((header::ALLOW, v));
                }
            }
            ApiError::PreconditionFailed {
                current_version: Some(v),
                ..
            } => {
                res.insert_header((header::ETAG, crate::http::etag::etag(*v)));
            }
            ApiError::KeyInUse => {
                res.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
            }
            ApiError::Unavailable(_) => {
                res.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
            }
            ApiError::RateLimited {
                retry_after_secs, ..
            } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        // The default language; `problem_catch_all` renders it again in the request's.
        let body =
            serde_json::to_vec(&self.problem(Lang::default())).unwrap_or_else(|_| b"{}".to_vec());
        res.body(body)
    }
}

/// Every error response leaves as problem+json in the request's language: one rendered by
/// `ResponseError` (in zh) is rendered again in the request's language; one that is not a
/// problem yet (actix internals, CORS rejections) becomes one, keeping its status.
pub fn catch_all<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    let lang = request_lang(res.request());
    if is_problem {
        let api = res
            .response()
            .error()
            .and_then(|e| e.as_error::<ApiError>());
        let body = match api {
            Some(e) if lang != Lang::default() => serde_json::to_vec(&e.problem(lang)).ok(),
            _ => None,
        };
        return Ok(ErrorHandlerResponse::Response(match body {
            Some(b) => {
                let (req, old) = res.into_parts();
                let new = old.set_body(BoxBody::new(b));
                ServiceResponse::new(req, new).map_body(|_, b| EitherBody::right(b))
            }
            None => res.map_into_left_body(),
        }));
    }
    let status = res.status();
    let err = error_for_status(&res);
    let (req, old) = res.into_parts();
    let mut new = err.error_response();
    if lang != Lang::default() {
        if let Ok(b) = serde_json::to_vec(&err.problem(lang)) {
            new = new.set_body(BoxBody::new(b));
        }
    }
    // Keep the original status (e.g. 408, 431) even when it has no dedicated error kind.
    *new.status_mut() = status;
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && !new.headers().contains_key(name)
        {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    new.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    let res = ServiceResponse::new(req, new).map_into_boxed_body();
    Ok(ErrorHandlerResponse::Response(
        res.map_body(|_, b| EitherBody::right(b)),
    ))
}

/// The error a bare error response of actix stands for.
fn error_for_status<B>(res: &ServiceResponse<B>) -> ApiError {
    let status = res.status();
    let reason = status.canonical_reason().unwrap_or("error").to_string();
    let whole_body = || vec![Violation::new("", Code::InvalidFormat(Format::Pattern))];
    match status.as_u16() {
        400 => ApiError::BadRequest(whole_body()),
        401 => ApiError::Unauthenticated(Box::new(Violation::at(
            In::Header,
            "Authorization",
            Code::Required,
        ))),
        403 => ApiError::Forbidden(texts::title("forbidden")),
        404 => ApiError::NotFound(texts::no_resource(res.request().path())),
        405 => ApiError::MethodNotAllowed {
            allow: res
                .headers()
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.split(',').map(|m| m.trim().to_string()).collect())
                .unwrap_or_default(),
        },
        409 => ApiError::Conflict(texts::title("conflict")),
        412 => ApiError::PreconditionFailed {
            current_version: None,
        },
        413 => {
            let max_bytes = res
                .request()
                .app_data::<web::Data<AppState>>()
                .map_or(0, |s| s.config.body_limit as u64);
            ApiError::PayloadTooLarge(Box::new(Violation::new("", Code::TooLarge { max_bytes })))
        }
        415 => ApiError::UnsupportedMediaType(Box::new(Violation::at(
            In::Header,
            "Content-Type",
            Code::UnsupportedType {
                allowed: vec!["application/json".into()],
            },
        ))),
        503 => ApiError::Unavailable(reason),
        s if s >= 500 => ApiError::internal(reason),
        _ => ApiError::BadRequest(whole_body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::texts::Text;
    use crate::domain::validate::{Code, In, Violation};
    use actix_web::body::MessageBody;

    fn body_json(e: &ApiError) -> serde_json::Value {
        let res = e.error_response();
        let bytes = res.into_body().try_into_bytes().unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn internal_errors_are_opaque() {
        let e = ApiError::internal("password=secret in SQL");
        let v = body_json(&e);
        assert_eq!(v["status"], 500);
        assert_eq!(v["code"], "internal");
        assert!(!v["detail"].as_str().unwrap().contains("secret"));
    }

    #[test]
    fn internal_errors_keep_their_causes_for_the_log_only() {
        let disk = std::io::Error::other("disk full at /var/lib/secret");
        let e = ApiError::internal_in("storing the survey workbook", disk);
        assert_eq!(
            e.to_string(),
            "internal error: storing the survey workbook: disk full at /var/lib/secret"
        );
        let v = body_json(&e);
        assert_eq!(v["code"], "internal");
        assert!(!v.to_string().contains("disk"), "{v}");
        let db: ApiError = diesel::result::Error::RollbackTransaction.into();
        assert!(
            db.to_string()
                .starts_with("internal error: database error: "),
            "{}",
            db.to_string()
        );
    }

    #[test]
    fn pointers() {
        let p = |s: &str| crate::error::pointer(&Violation::new(s, Code::Required));
        assert_eq!(p("name"), "/name");
        assert_eq!(
            p("sections.inventory[3].brand"),
            "/sections/inventory/3/brand"
        );
        assert_eq!(p("a[1][2]"), "/a/1/2");
        assert_eq!(p("/already/0"), "/already/0");
        assert_eq!(p("body"), "");
        let q = Violation::at(In::Query, "limit", Code::range(1, 200));
        assert_eq!(crate::error::pointer(&q), "limit");
        let _ = Text::new("zh", "en");
    }

    #[test]
    fn unavailable_sets_retry_after() {
        let res = ApiError::Unavailable("pool timeout".into()).error_response();
        assert_eq!(res.status(), 503);
        assert!(res.headers().get(header::RETRY_AFTER).is_some());
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_JSON
        );
    }

    #[test]
    fn validation_lists_fields() {
        let e = ApiError::Validation(vec![
            Violation::new("name", Code::Required),
            Violation::new("tags[1]", Code::TooLong { max: 50 }),
        ]);
        let v = body_json(&e);
        assert_eq!(v["status"], 422);
        assert_eq!(v["errors"][1]["field"], "/tags/1");
        assert_eq!(v["errors"][1]["in"], "body");
        assert_eq!(v["errors"][1]["code"], "too_long");
        assert_eq!(v["errors"][1]["message"], "最多 50 个字符");
        assert!(v["detail"].as_str().unwrap().contains("/name"));
        let en = serde_json::to_value(e.problem(Lang::En)).unwrap();
        assert_eq!(en["errors"][1]["message"], "must be at most 50 characters");
        assert_eq!(en["title"], "Validation failed");
    }

    #[test]
    fn unauthenticated_has_www_authenticate() {
        let res = ApiError::Unauthenticated(Box::new(Violation::at(
            In::Header,
            "Authorization",
            Code::Required,
        )))
        .error_response();
        assert!(res.headers().get(header::WWW_AUTHENTICATE).is_some());
    }

    #[test]
    fn method_not_allowed_has_allow() {
        let res = ApiError::MethodNotAllowed {
            allow: vec!["GET".into(), "POST".into()],
        }
        .error_response();
        assert_eq!(res.headers().get(header::ALLOW).unwrap(), "GET, POST");
    }
}
