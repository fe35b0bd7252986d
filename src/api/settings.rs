//! `/v1/settings`: tenant settings (admins change them).

use actix_web::{get, patch, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use std::collections::BTreeMap;

use crate::domain::activity::ActivityKind;
use crate::domain::import::ImportSource;
use crate::domain::opportunity::StageCode;
use crate::error::ApiResult;
use crate::http::etag::with_etag;
use crate::http::extract::JsonBody;
use crate::service::settings::{self as svc, PatchSettings, Settings};
use crate::service::{Precondition, Principal};
use crate::state::AppState;

/// Tenant settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsDto {
    /// Survey completeness (percent) from which milestone S1.M2's data check is `consistent`.
    pub survey_completeness_threshold: i32,
    /// A key person or IT leader not contacted for this many days is stale (default 60).
    pub stale_contact_days: i32,
    /// How far back an assessment from the record reads the account's activities that belong
    /// to no opportunity (default 180).
    pub record_window_days: i32,
    /// How each source's stage values map to stages in imports.
    #[schema(value_type = BTreeMap<ImportSource, BTreeMap<String, StageCode>>)]
    pub stage_mappings: BTreeMap<ImportSource, BTreeMap<String, StageCode>>,
    /// How each source's activity types map to kinds in imports.
    #[schema(value_type = BTreeMap<ImportSource, BTreeMap<String, ActivityKind>>)]
    pub activity_kind_mappings: BTreeMap<ImportSource, BTreeMap<String, ActivityKind>>,
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    /// 0 until the settings are first changed.
    pub version: i32,
}

fn dto(s: Settings) -> SettingsDto {
    SettingsDto {
        survey_completeness_threshold: s.values.survey_completeness_threshold,
        stale_contact_days: s.values.stale_contact_days,
        record_window_days: s.values.record_window_days,
        stage_mappings: s.mappings.stages,
        activity_kind_mappings: s.mappings.activity_kinds,
        updated_by: s.updated_by,
        updated_at: s.updated_at,
        version: s.version,
    }
}

/// Get the tenant settings.
///
/// Defaults until first changed (`version` 0).
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
    let dto = dto(svc::get(&mut conn, &principal).await?);
    Ok(with_etag(HttpResponse::Ok(), dto.version, &dto))
}

/// Change the tenant settings (admins).
///
/// Admins only. A stale `If-Match` is 412.
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
    if_match: Precondition,
    body: JsonBody<PatchSettings>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let dto = dto(svc::update(&mut conn, &principal, &if_match, body.0).await?);
    Ok(with_etag(HttpResponse::Ok(), dto.version, &dto))
}
