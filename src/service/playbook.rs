//! The tenant's playbook: the built-in methodology with the tenant's authored stages on top,
//! its versions, and authoring.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;

use crate::db::documents;
use crate::db::playbook::{self as q, PlaybookVersion};
use crate::domain::event::EventType;
use crate::domain::ids::TenantId;
use crate::domain::playbook::{
    apply, author_stage, built_in, Overlay, Playbook, StageInput, BUILT_IN_VERSION,
};
use crate::domain::texts::{self, Noun, Refusal};
use crate::error::{ApiError, ApiResult};
use crate::service::{events, Conn, Precondition, Principal, Role};

/// A version of the tenant's playbook.
#[derive(Debug)]
pub struct VersionInfo {
    pub version: i32,
    /// The stage the change authored; None for the built-in version.
    pub stage_code: Option<String>,
    pub created_by: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

fn built_in_playbook() -> ApiResult<&'static Playbook> {
    built_in().map_err(ApiError::internal)
}

fn overlay_of(row: &PlaybookVersion) -> ApiResult<Overlay> {
    Ok(documents::playbook::read_overlay(
        row.overlay.clone(),
        row.version,
    )?)
}

/// The tenant's current playbook: its version, the tenant's overlay and the merged playbook.
pub(crate) async fn current_in(
    conn: &mut Conn,
    tenant: TenantId,
) -> ApiResult<(i32, Overlay, Playbook)> {
    let (version, overlay, p) = current_of(q::latest(conn, tenant).await?)?;
    Ok((version, overlay, p.into_owned()))
}

/// The current playbook from the tenant's newest stored version (none: the built-in one, not
/// copied).
pub(crate) fn current_of(
    latest: Option<PlaybookVersion>,
) -> ApiResult<(i32, Overlay, Cow<'static, Playbook>)> {
    let base = built_in_playbook()?;
    match latest {
        None => Ok((BUILT_IN_VERSION, Overlay::default(), Cow::Borrowed(base))),
        Some(row) => {
            let overlay = overlay_of(&row)?;
            let p = apply(base, &overlay);
            Ok((row.version, overlay, Cow::Owned(p)))
        }
    }
}

/// The current playbook and its version.
pub async fn current(conn: &mut Conn, who: &Principal) -> ApiResult<(i32, Playbook)> {
    let (version, _, p) = current_in(conn, who.tenant).await?;
    Ok((version, p))
}

/// Versions after `after`, oldest first; version 1 is the built-in methodology.
pub async fn versions(
    conn: &mut Conn,
    who: &Principal,
    after: i64,
    since: Option<DateTime<Utc>>,
    limit: i64,
) -> ApiResult<Vec<VersionInfo>> {
    let mut items = Vec::new();
    // The built-in version has no time: it never changes, so a sync from any time skips it.
    if after < i64::from(BUILT_IN_VERSION) && since.is_none() {
        items.push(VersionInfo {
            version: BUILT_IN_VERSION,
            stage_code: None,
            created_by: None,
            created_at: None,
        });
    }
    let after = i32::try_from(after.max(i64::from(BUILT_IN_VERSION))).unwrap_or(i32::MAX);
    let rows = q::list(conn, who.tenant, after, since, limit).await?;
    items.extend(rows.into_iter().map(|r| VersionInfo {
        version: r.version,
        stage_code: Some(r.stage_code),
        created_by: Some(r.created_by),
        created_at: Some(r.created_at),
    }));
    Ok(items)
}

/// One version of the playbook.
pub async fn version(conn: &mut Conn, who: &Principal, version: i32) -> ApiResult<Playbook> {
    let base = built_in_playbook()?;
    if version == BUILT_IN_VERSION {
        return Ok(base.clone());
    }
    let row = q::find(conn, who.tenant, version)
        .await?
        .ok_or_else(|| ApiError::NotFound(texts::not_found(Noun::PlaybookVersion)))?;
    Ok(apply(base, &overlay_of(&row)?))
}

/// Authors a stage (admins): a new playbook version.
pub async fn author(
    conn: &mut Conn,
    who: &Principal,
    code: &str,
    pre: &Precondition,
    input: StageInput,
) -> ApiResult<(i32, Playbook)> {
    if !who.has(Role::Admin) {
        return Err(ApiError::Forbidden(texts::forbidden(&Refusal::Playbook)));
    }
    let base = built_in_playbook()?;
    if base.stage(code).is_none() {
        return Err(ApiError::NotFound(texts::not_found(Noun::Stage)));
    }
    conn.transaction::<_, ApiError, _>(async |conn| {
        let (current_version, overlay, _) = current_in(conn, who.tenant).await?;
        pre.check(current_version)?;
        let next = author_stage(base, &overlay, code, &input)?;
        let row = q::insert(
            conn,
            PlaybookVersion {
                tenant_id: who.tenant.get(),
                version: current_version + 1,
                overlay: documents::playbook::write_overlay(&next).map_err(ApiError::internal)?,
                stage_code: code.to_string(),
                created_by: who.sub.clone(),
                created_at: Utc::now(),
            },
        )
        .await
        .map_err(|e| match ApiError::from(e) {
            ApiError::Conflict(_) => ApiError::Conflict(texts::playbook_changed()),
            other => other,
        })?;
        let mut data = serde_json::Map::new();
        data.insert("version".into(), row.version.into());
        data.insert("stage_code".into(), code.into());
        data.insert("actor".into(), who.sub.clone().into());
        events::emit(conn, who.tenant, EventType::PLAYBOOK_UPDATED, data).await?;
        Ok((row.version, apply(base, &next)))
    })
    .await
}
