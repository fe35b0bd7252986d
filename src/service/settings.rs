//! Tenant settings (admins change them).

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::Deserialize;
use utoipa::ToSchema;

use std::collections::BTreeMap;

use crate::db::documents::mappings::{read_mappings, write_mappings};
use crate::db::surveys::{self as q, SettingValues};
use crate::domain::activity::ActivityKind;
use crate::domain::ids::TenantId;
use crate::domain::import::{ImportMappings, ImportSource};
use crate::domain::opportunity::StageCode;
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
    /// How each source's stage values map to stages, replacing the current mappings:
    /// `{"salesforce": {"Qualification": "S1", "Needs Analysis": "S2"}}`. An import reads a
    /// stage code (`S3`) as itself; an unmapped value is a row error, and a dry run lists them.
    #[schema(value_type = Option<BTreeMap<ImportSource, BTreeMap<String, StageCode>>>)]
    pub stage_mappings: Option<BTreeMap<ImportSource, BTreeMap<String, StageCode>>>,
    /// How each source's activity types map to kinds, replacing the current mappings:
    /// `{"salesforce": {"Meeting": "visit"}}`. Without one, calls, e-mails, meetings and visits
    /// are their kinds, events are meetings, anything else `other`.
    #[schema(value_type = Option<BTreeMap<ImportSource, BTreeMap<String, ActivityKind>>>)]
    pub activity_kind_mappings: Option<BTreeMap<ImportSource, BTreeMap<String, ActivityKind>>>,
}

/// The tenant's settings, defaults included.
#[derive(Debug)]
pub struct Settings {
    pub values: SettingValues,
    pub mappings: ImportMappings,
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

/// The import mappings of a stored row (none: no mappings).
pub(crate) fn mappings_of(row: Option<&q::TenantSettings>) -> ApiResult<ImportMappings> {
    match row {
        Some(s) => Ok(read_mappings(s.import_mappings.clone(), s.tenant_id)?),
        None => Ok(ImportMappings::default()),
    }
}

fn settings(s: Option<q::TenantSettings>) -> ApiResult<Settings> {
    let mappings = mappings_of(s.as_ref())?;
    Ok(match s {
        Some(s) => Settings {
            mappings,
            values: SettingValues::from(&s),
            updated_by: Some(s.updated_by),
            updated_at: Some(s.updated_at),
            version: s.version,
        },
        None => Settings {
            mappings,
            values: SettingValues::default(),
            updated_by: None,
            updated_at: None,
            version: 0,
        },
    })
}

pub async fn get(conn: &mut Conn, who: &Principal) -> ApiResult<Settings> {
    settings(q::settings(conn, who.tenant).await?)
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
    check_keys(&mut c, "stage_mappings", patch.stage_mappings.as_ref());
    check_keys(
        &mut c,
        "activity_kind_mappings",
        patch.activity_kind_mappings.as_ref(),
    );
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
            let mut mappings = mappings_of(current.as_ref())?;
            if let Some(m) = patch.stage_mappings.clone() {
                mappings.stages = m;
            }
            if let Some(m) = patch.activity_kind_mappings.clone() {
                mappings.activity_kinds = m;
            }
            let same = |c: &q::TenantSettings| {
                SettingValues::from(c) == values
                    && mappings_of(Some(c)).ok().as_ref() == Some(&mappings)
            };
            if let Some(current) = current.filter(same) {
                // Nothing changes: same version, same ETag.
                return Ok(current);
            }
            let doc = write_mappings(&mappings).map_err(ApiError::internal)?;
            Ok(q::upsert_settings(conn, who.tenant, values, &doc, &who.sub).await?)
        })
        .await?;
    settings(Some(s))
}

/// A mapping's values (a source's names for stages or kinds): 1-200 characters, at most 500
/// a source.
fn check_keys<T>(
    c: &mut Checker,
    field: &str,
    m: Option<&BTreeMap<ImportSource, BTreeMap<String, T>>>,
) {
    for (source, values) in m.into_iter().flatten() {
        let at = format!("{field}.{}", source.as_str());
        if values.len() > 500 {
            c.add(at.clone(), Code::TooMany { max: 500 });
        }
        for key in values.keys() {
            if key.trim().is_empty() {
                c.add(at.clone(), Code::Required);
            } else if key.chars().count() > 200 {
                c.add(at.clone(), Code::TooLong { max: 200 });
            }
        }
    }
}
