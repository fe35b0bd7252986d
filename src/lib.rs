//! buyerpath: a REST/JSON service that models the customer's purchase process for B2B
//! IT-solution sales teams.
//!
//! `build_app` is the one place the HTTP application is assembled; `main` and the integration
//! tests both use it.

pub mod api;
pub mod auth;
pub mod cli;
pub mod client;
pub mod config;
pub mod db;
pub mod delimited;
pub mod domain;
pub mod error;
pub mod http;
pub mod import_worker;
pub mod logging;
pub mod server;
pub mod service;
pub mod state;
pub mod worker;
pub mod xlsx;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{self, Condition, ErrorHandlers};
use actix_web::{web, App};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

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
        .wrap(middleware::from_fn(http::lang::middleware))
        .wrap(middleware::from_fn(http::idempotency::middleware))
        .wrap(middleware::from_fn(http::conditional::middleware))
        .wrap(middleware::from_fn(http::rate_limit::middleware))
        .wrap(Condition::new(cors_enabled, cors))
        .wrap(ErrorHandlers::new().default_handler(http::problem::catch_all))
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
