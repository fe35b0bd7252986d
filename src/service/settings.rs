//! Tenant settings (admins change them).

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::db::surveys::{self as q, DEFAULT_SURVEY_THRESHOLD};
use crate::domain::ids::TenantId;
use crate::error::{ApiError, ApiResult};
use crate::service::{Conn, Precondition, Principal, Role};

/// A merge patch of the settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchSettings {
    #[schema(minimum = 0, maximum = 100)]
    pub survey_completeness_threshold: Option<i32>,
}

/// The tenant's settings, defaults included.
#[derive(Debug)]
pub struct Settings {
    pub survey_completeness_threshold: i32,
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    /// 0 until first changed.
    pub version: i32,
}

/// The tenant's survey completeness threshold in percent (default 80).
pub(crate) async fn survey_threshold_in(conn: &mut Conn, tenant: TenantId) -> ApiResult<u8> {
    let t = q::settings(conn, tenant)
        .await?
        .map_or(DEFAULT_SURVEY_THRESHOLD, |s| {
            s.survey_completeness_threshold
        });
    u8::try_from(t).map_err(|_| {
        ApiError::internal(format!(
            "stored survey threshold {t} of tenant {tenant} is out of range"
        ))
    })
}

pub async fn get(conn: &mut Conn, who: &Principal) -> ApiResult<Settings> {
    Ok(match q::settings(conn, who.tenant).await? {
        Some(s) => Settings {
            survey_completeness_threshold: s.survey_completeness_threshold,
            updated_by: Some(s.updated_by),
            updated_at: Some(s.updated_at),
            version: s.version,
        },
        None => Settings {
            survey_completeness_threshold: DEFAULT_SURVEY_THRESHOLD,
            updated_by: None,
            updated_at: None,
            version: 0,
        },
    })
}

pub async fn update(
    conn: &mut Conn,
    who: &Principal,
    pre: &Precondition,
    patch: PatchSettings,
) -> ApiResult<Settings> {
    if !who.has(Role::Admin) {
        return Err(ApiError::Forbidden(
            "only tenant admins change settings".to_string(),
        ));
    }
    let threshold = patch.survey_completeness_threshold;
    if let Some(t) = threshold {
        if !(0..=100).contains(&t) {
            return Err(ApiError::validation(
                "survey_completeness_threshold",
                "must be 0-100",
            ));
        }
    }
    let s = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let current = q::settings(conn, who.tenant).await?;
            pre.check(current.as_ref().map_or(0, |s| s.version))?;
            let t = threshold.unwrap_or_else(|| {
                current.map_or(DEFAULT_SURVEY_THRESHOLD, |s| {
                    s.survey_completeness_threshold
                })
            });
            Ok(q::upsert_settings(conn, who.tenant, t, &who.sub).await?)
        })
        .await?;
    Ok(Settings {
        survey_completeness_threshold: s.survey_completeness_threshold,
        updated_by: Some(s.updated_by),
        updated_at: Some(s.updated_at),
        version: s.version,
    })
}
