//! buyerpath: a REST/JSON service that models the customer's purchase process for B2B
//! IT-solution sales teams.
//!
//! `build_app` is the one place the HTTP application is assembled; `main` and the integration
//! tests both use it.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod logging;
pub mod server;
pub mod service;
pub mod state;
pub mod worker;
pub mod xlsx;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{self, Condition, ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, App, ResponseError};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::domain::playbook::Lang;
use crate::domain::texts;
use crate::domain::validate::{Code, Format, In, Violation};
use crate::error::{ApiError, PROBLEM_JSON};
use crate::http::extract::{self, KnownRoutes};
use crate::http::request_id;
use crate::state::AppState;

/// Builds the application: routes, OpenAPI + Swagger UI, extractor configuration, middleware.
pub fn build_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, api) = App::new()
        .into_utoipa_app()
        .openapi(api::ApiDoc::openapi())
        .configure(api::routes)
        .split_for_parts();
    let api = api::finalize(api);
    if let Ok(doc) = serde_json::to_value(&api) {
        service::contract::install(&doc);
    }
    let known = web::Data::new(KnownRoutes::from_openapi(&api));
    let document = web::Data::new(http::document::Document::new(&api));
    let cors = cors(&state.config.cors_origins);
    let cors_enabled = !state.config.cors_origins.is_empty();
    let metrics = state.metrics.clone();
    let body_limit = state.config.body_limit;
    let jwt = web::Data::from(state.jwt.clone());
    let limits = web::Data::from(state.limits.clone());

    app.app_data(state)
        .app_data(jwt)
        .app_data(limits)
        .app_data(known)
        .app_data(extract::json_config(body_limit))
        .app_data(extract::path_config())
        .app_data(extract::query_config())
        .app_data(document)
        // Before Swagger UI's own handler of the path: this one answers with an ETag.
        .route("/openapi.json", web::get().to(http::document::get_document))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", api))
        .service(web::redirect("/docs", "/docs/"))
        .default_service(web::to(extract::fallback))
        .wrap(middleware::from_fn(http::idempotency::middleware))
        .wrap(middleware::from_fn(http::conditional::middleware))
        .wrap(middleware::from_fn(http::rate_limit::middleware))
        .wrap(Condition::new(cors_enabled, cors))
        .wrap(ErrorHandlers::new().default_handler(problem_catch_all))
        .wrap(middleware::from_fn(http::compress::middleware))
        .wrap(metrics)
        .wrap(middleware::from_fn(http::access_log::middleware))
        .wrap(middleware::from_fn(request_id::middleware))
}

fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            header::HeaderName::from_static(request_id::HEADER),
            header::HeaderName::from_static(crate::service::idempotency::HEADER),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::HeaderName::from_static(request_id::HEADER),
            header::HeaderName::from_static("idempotent-replayed"),
            header::HeaderName::from_static("ratelimit"),
            header::HeaderName::from_static("ratelimit-policy"),
        ])
        .max_age(3600);
    for o in origins {
        cors = cors.allowed_origin(o);
    }
    cors
}

/// Turns any error response that is not problem+json yet (actix internals, CORS rejections)
/// into one, keeping its status.
fn problem_catch_all<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    let lang = http::lang::request_lang(res.request());
    if is_problem {
        // Rendered in the default language by `ResponseError`; here, with the request at hand,
        // in the request's.
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
    let allow = res.headers().get(header::ALLOW).cloned();
    let reason = status.canonical_reason().unwrap_or("error").to_string();
    let whole_body = || vec![Violation::new("", Code::InvalidFormat(Format::Pattern))];
    let err = match status.as_u16() {
        400 => ApiError::BadRequest(whole_body()),
        401 => ApiError::Unauthenticated(Box::new(Violation::at(
            In::Header,
            "Authorization",
            Code::Required,
        ))),
        403 => ApiError::Forbidden(texts::title("forbidden")),
        404 => ApiError::NotFound(texts::no_resource(res.request().path())),
        405 => ApiError::MethodNotAllowed {
            allow: allow
                .as_ref()
                .and_then(|v| v.to_str().ok())
                .map(|s| s.split(',').map(|m| m.trim().to_string()).collect())
                .unwrap_or_default(),
        },
        409 => ApiError::Conflict(texts::title("conflict")),
        412 => ApiError::PreconditionFailed {
            current_version: None,
        },
        413 => ApiError::PayloadTooLarge(Box::new(Violation::new(
            "",
            Code::TooLarge { max_bytes: 0 },
        ))),
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
    };
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
