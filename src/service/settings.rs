//! Tenant settings (admins change them).

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::db::surveys::{self as q, SettingValues};
use crate::domain::ids::TenantId;
use crate::domain::texts::{self, Refusal};
use crate::domain::validate::Checker;
use crate::domain::validate::Code;
use crate::error::{ApiError, ApiResult};
use crate::service::{Conn, Precondition, Principal, Role};

/// A merge patch of the settings: absent members stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchSettings {
    /// Survey completeness (percent) from which milestone S1.M2's data check is `consistent`.
    #[schema(minimum = 0, maximum = 100)]
    pub survey_completeness_threshold: Option<i32>,
    /// A key person or IT leader not contacted for this many days is stale.
    #[schema(minimum = 1, maximum = 3650)]
    pub stale_contact_days: Option<i32>,
    /// How far back an assessment from the record reads the account's activities that belong
    /// to no opportunity.
    #[schema(minimum = 1, maximum = 3650)]
    pub record_window_days: Option<i32>,
}

/// The tenant's settings, defaults included.
#[derive(Debug)]
pub struct Settings {
    pub values: SettingValues,
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    /// 0 until first changed.
    pub version: i32,
}

/// The setting values of a stored row (none: the defaults).
pub(crate) fn values_of(row: Option<&q::TenantSettings>) -> SettingValues {
    row.map_or_else(SettingValues::default, SettingValues::from)
}

/// The survey completeness threshold in percent.
pub(crate) fn threshold_percent(values: &SettingValues, tenant: TenantId) -> ApiResult<u8> {
    let t = values.survey_completeness_threshold;
    u8::try_from(t).map_err(|_| {
        ApiError::internal(format!(
            "stored survey threshold {t} of tenant {tenant} is out of range"
        ))
    })
}

fn settings(s: Option<q::TenantSettings>) -> Settings {
    match s {
        Some(s) => Settings {
            values: SettingValues::from(&s),
            updated_by: Some(s.updated_by),
            updated_at: Some(s.updated_at),
            version: s.version,
        },
        None => Settings {
            values: SettingValues::default(),
            updated_by: None,
            updated_at: None,
            version: 0,
        },
    }
}

pub async fn get(conn: &mut Conn, who: &Principal) -> ApiResult<Settings> {
    Ok(settings(q::settings(conn, who.tenant).await?))
}

pub async fn update(
    conn: &mut Conn,
    who: &Principal,
    pre: &Precondition,
    patch: PatchSettings,
) -> ApiResult<Settings> {
    if !who.has(Role::Admin) {
        return Err(ApiError::Forbidden(texts::forbidden(&Refusal::Settings)));
    }
    let mut c = Checker::new();
    let mut range = |field: &str, v: Option<i32>, min: i32, max: i32| {
        if v.is_some_and(|v| !(min..=max).contains(&v)) {
            c.add(field, Code::range(i64::from(min), i64::from(max)));
        }
    };
    range(
        "survey_completeness_threshold",
        patch.survey_completeness_threshold,
        0,
        100,
    );
    range("stale_contact_days", patch.stale_contact_days, 1, 3650);
    range("record_window_days", patch.record_window_days, 1, 3650);
    c.finish()?;
    let s = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let current = q::settings(conn, who.tenant).await?;
            pre.check(current.as_ref().map_or(0, |s| s.version))?;
            let old = current
                .as_ref()
                .map_or_else(SettingValues::default, SettingValues::from);
            let values = SettingValues {
                survey_completeness_threshold: patch
                    .survey_completeness_threshold
                    .unwrap_or(old.survey_completeness_threshold),
                stale_contact_days: patch.stale_contact_days.unwrap_or(old.stale_contact_days),
                record_window_days: patch.record_window_days.unwrap_or(old.record_window_days),
            };
            if let Some(current) = current.filter(|c| SettingValues::from(c) == values) {
                // Nothing changes: same version, same ETag.
                return Ok(current);
            }
            Ok(q::upsert_settings(conn, who.tenant, values, &who.sub).await?)
        })
        .await?;
    Ok(settings(Some(s)))
}
