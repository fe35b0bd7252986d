//! A survey record as clients see it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::surveys::SurveyRecord;
use crate::domain::playbook::built_in;
use crate::domain::survey::{self, Completeness, Sections};
use crate::error::{ApiError, ApiResult};

/// A survey record.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SurveyRecordDto)]
pub struct SurveyRecordView {
    #[schema(read_only)]
    pub id: Uuid,
    #[schema(read_only)]
    pub account_id: Uuid,
    pub opportunity_id: Option<Uuid>,
    pub surveyed_at: DateTime<Utc>,
    pub surveyor: String,
    pub respondents: Vec<Uuid>,
    pub sections: Sections,
    /// Which of the 12 sections are filled ("servers and storage" counts when the inventory has
    /// server or storage items).
    #[schema(read_only)]
    pub completeness: Completeness,
    #[schema(read_only)]
    pub created_by: String,
    #[schema(read_only)]
    pub created_at: DateTime<Utc>,
    #[schema(read_only)]
    pub updated_at: DateTime<Utc>,
    #[schema(read_only)]
    pub archived_at: Option<DateTime<Utc>>,
    #[schema(read_only)]
    pub version: i32,
}

/// The view of a stored record: its sections decoded, its completeness computed.
pub(super) fn view(r: SurveyRecord) -> ApiResult<SurveyRecordView> {
    let sections = super::sections_of(&r)?;
    let playbook = built_in().map_err(ApiError::internal)?;
    Ok(SurveyRecordView {
        id: r.id,
        account_id: r.account_id,
        opportunity_id: r.opportunity_id,
        surveyed_at: r.surveyed_at,
        surveyor: r.surveyor,
        respondents: r.respondents.into_iter().flatten().collect(),
        completeness: survey::completeness(playbook, &sections),
        sections,
        created_by: r.created_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
        archived_at: r.archived_at,
        version: r.version,
    })
}
