//! `/healthz` and `/readyz`: public, no token.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::state::AppState;

/// Health status.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
    /// Service version.
    pub version: String,
}

/// Readiness status.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    pub status: String,
    /// Number of schema migrations applied.
    pub migrations_applied: usize,
}

/// Liveness: the process is up.
///
/// Liveness: 200 while the process serves HTTP. No database access, no token.
#[utoipa::path(
    tag = "health",
    security(()),
    responses((status = 200, description = "The process is up.", body = Health))
)]
#[get("/healthz")]
pub async fn get_healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// Readiness: the database is reachable and every migration of this build is applied.
///
/// Readiness: 200 when the database answers and every migration of this binary is applied; 503
/// with `Retry-After` otherwise. No token.
#[utoipa::path(
    tag = "health",
    security(()),
    responses(
        (status = 200, description = "Ready to serve.", body = Readiness),
        (status = 503, description = "The database is unreachable or migrations are pending.",
         body = crate::error::Problem, content_type = "application/problem+json",
         headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
    )
)]
#[get("/readyz")]
pub async fn get_readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let applied =
        crate::service::health::migrations_applied(&mut conn, &state.expected_migrations).await?;
    Ok(HttpResponse::Ok().json(Readiness {
        status: "ready".into(),
        migrations_applied: applied,
    }))
}
