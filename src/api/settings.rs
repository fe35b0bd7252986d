//! `/v1/settings`: tenant settings (admins change them).

use actix_web::{get, patch, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::with_etag;
use crate::auth::{Principal, Role};
use crate::db::surveys::{self as q, DEFAULT_SURVEY_THRESHOLD};
use crate::error::{ApiError, ApiResult};
use crate::http::etag::IfMatch;
use crate::http::extract::JsonBody;
use crate::state::AppState;

/// Tenant settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsDto {
    /// Survey completeness (percent) from which milestone S1.M2's data check is `consistent`.
    pub survey_completeness_threshold: i32,
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    /// 0 until the settings are first changed.
    pub version: i32,
}

/// A merge patch of the settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchSettings {
    #[schema(minimum = 0, maximum = 100)]
    pub survey_completeness_threshold: Option<i32>,
}

/// The tenant's survey completeness threshold (default 80 %).
pub async fn survey_threshold(
    conn: &mut diesel_async::AsyncPgConnection,
    tenant: uuid::Uuid,
) -> ApiResult<i32> {
    Ok(q::settings(conn, tenant)
        .await?
        .map_or(DEFAULT_SURVEY_THRESHOLD, |s| {
            s.survey_completeness_threshold
        }))
}

/// Get the tenant settings.
#[utoipa::path(
    tag = "settings",
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The settings.", body = SettingsDto,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[get("/v1/settings")]
pub async fn get_settings(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let dto = match q::settings(&mut conn, principal.tenant).await? {
        Some(s) => SettingsDto {
            survey_completeness_threshold: s.survey_completeness_threshold,
            updated_by: Some(s.updated_by),
            updated_at: Some(s.updated_at),
            version: s.version,
        },
        None => SettingsDto {
            survey_completeness_threshold: DEFAULT_SURVEY_THRESHOLD,
            updated_by: None,
            updated_at: None,
            version: 0,
        },
    };
    Ok(with_etag(HttpResponse::Ok(), dto.version, &dto))
}

/// Change the tenant settings (admins).
#[utoipa::path(
    tag = "settings",
    params(("If-Match" = Option<String>, Header, description = "ETag of the settings being changed")),
    request_body(content = PatchSettings, content_type = "application/merge-patch+json"),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The new settings.", body = SettingsDto,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[patch("/v1/settings")]
pub async fn patch_settings(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: IfMatch,
    body: JsonBody<PatchSettings>,
) -> ApiResult<HttpResponse> {
    if !principal.has(Role::Admin) {
        return Err(ApiError::Forbidden(
            "only tenant admins change settings".to_string(),
        ));
    }
    let threshold = body.0.survey_completeness_threshold;
    if let Some(t) = threshold {
        if !(0..=100).contains(&t) {
            return Err(ApiError::validation(
                "survey_completeness_threshold",
                "must be 0-100",
            ));
        }
    }
    let mut conn = state.conn().await?;
    let s = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let current = q::settings(conn, principal.tenant).await?;
            if_match.check(current.as_ref().map_or(0, |s| s.version))?;
            let t = threshold.unwrap_or_else(|| {
                current.map_or(DEFAULT_SURVEY_THRESHOLD, |s| {
                    s.survey_completeness_threshold
                })
            });
            Ok(q::upsert_settings(conn, principal.tenant, t, &principal.sub).await?)
        })
        .await?;
    let dto = SettingsDto {
        survey_completeness_threshold: s.survey_completeness_threshold,
        updated_by: Some(s.updated_by),
        updated_at: Some(s.updated_at),
        version: s.version,
    };
    Ok(with_etag(HttpResponse::Ok(), dto.version, &dto))
}
