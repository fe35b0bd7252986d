//! An opportunity as clients see it, and its stage history.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db;
use crate::db::documents;
use crate::db::opportunities::{Opportunity, StageChangeRow};
use crate::domain::ids::TenantId;
use crate::domain::money::{format_minor, Currency};
use crate::domain::opportunity::{Competitor, OpportunityStatus, StageCode};
use crate::domain::survey::SurveySummary;
use crate::error::{ApiError, ApiResult};
use crate::service::{corrupt, surveys, Conn};

/// A purchase project.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OpportunityDto)]
pub struct OpportunityView {
    #[schema(read_only)]
    pub id: Uuid,
    #[schema(read_only)]
    pub account_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// Estimated amount: a decimal string with the currency's minor digits.
    #[schema(example = "1250000.50", pattern = r"^[0-9]+(\.[0-9]+)?$")]
    pub estimated_amount: Option<String>,
    /// ISO 4217 code, e.g. CNY.
    #[schema(example = "CNY")]
    pub currency: Option<String>,
    pub expected_start: Option<NaiveDate>,
    pub deadline: Option<NaiveDate>,
    pub status: OpportunityStatus,
    /// The purchase stage the opportunity is in (S1-S6).
    #[schema(example = "S1")]
    pub current_stage: StageCode,
    #[schema(read_only)]
    pub stage_entered_at: DateTime<Utc>,
    /// Whole days since the opportunity entered its current stage.
    #[schema(read_only)]
    pub days_in_stage: i64,
    pub competitors: Vec<Competitor>,
    pub owner: String,
    /// References of other systems (the CRM of record's ids).
    pub external_refs: Vec<crate::domain::external_ref::ExternalRef>,
    #[schema(read_only)]
    pub created_by: String,
    /// When the latest stage assessment was recorded.
    #[schema(read_only)]
    pub last_assessed_at: Option<DateTime<Utc>>,
    #[schema(read_only)]
    pub created_at: DateTime<Utc>,
    #[schema(read_only)]
    pub updated_at: DateTime<Utc>,
    #[schema(read_only)]
    pub archived_at: Option<DateTime<Utc>>,
    #[schema(read_only)]
    pub version: i32,
    /// Budget and timeline from the account's latest survey, next to the opportunity's own
    /// amount and deadline.
    #[schema(read_only)]
    pub latest_survey: Option<SurveySummary>,
}

/// The view of a stored opportunity, with its account's latest survey.
pub(super) fn view_of(
    o: Opportunity,
    latest_survey: Option<SurveySummary>,
) -> ApiResult<OpportunityView> {
    let status = status_of(&o)?;
    let competitors = competitors_of(&o)?;
    let currency = currency_of(&o)?;
    let current_stage = stage_of(&o)?;
    Ok(OpportunityView {
        id: o.id,
        account_id: o.account_id,
        name: o.name,
        description: o.description,
        estimated_amount: match (o.amount_minor, &currency) {
            (Some(m), Some(c)) => Some(format_minor(m, c)),
            _ => None,
        },
        currency: currency.map(|c| c.as_str().to_string()),
        expected_start: o.expected_start,
        deadline: o.deadline,
        status,
        current_stage,
        stage_entered_at: o.stage_entered_at,
        days_in_stage: (Utc::now() - o.stage_entered_at).num_days().max(0),
        competitors,
        owner: o.owner,
        external_refs: crate::service::external_refs::of_row(
            "opportunities.external_refs of",
            o.id,
            &o.external_refs,
        )?,
        created_by: o.created_by,
        last_assessed_at: o.last_assessed_at,
        created_at: o.created_at,
        updated_at: o.updated_at,
        archived_at: o.archived_at,
        version: o.version,
        latest_survey,
    })
}

/// The stored competitors of an opportunity.
pub(super) fn competitors_of(o: &Opportunity) -> ApiResult<Vec<Competitor>> {
    Ok(documents::opportunity::read_competitors(
        o.competitors.clone(),
        o.id,
    )?)
}

/// The stored status of an opportunity.
pub(super) fn status_of(o: &Opportunity) -> ApiResult<OpportunityStatus> {
    Ok(db::code("opportunities.status of", o.id, &o.status)?)
}

/// The stored stage of an opportunity.
pub(super) fn stage_of(o: &Opportunity) -> ApiResult<StageCode> {
    Ok(db::code(
        "opportunities.current_stage of",
        o.id,
        &o.current_stage,
    )?)
}

/// The stored currency of an opportunity.
pub(super) fn currency_of(o: &Opportunity) -> ApiResult<Option<Currency>> {
    o.currency
        .as_deref()
        .map(|c| Currency::parse(c).map_err(|e| corrupt("opportunity currency", o.id, e)))
        .transpose()
}

/// Views with the latest survey of each opportunity's account (one query for all).
pub(super) async fn views(
    conn: &mut Conn,
    tenant: TenantId,
    rows: Vec<Opportunity>,
) -> ApiResult<Vec<OpportunityView>> {
    let mut accounts: Vec<Uuid> = rows.iter().map(|o| o.account_id).collect();
    accounts.sort();
    accounts.dedup();
    let surveys: HashMap<Uuid, SurveySummary> =
        surveys::latest_summaries_in(conn, tenant, &accounts).await?;
    rows.into_iter()
        .map(|o| {
            let latest = surveys.get(&o.account_id).cloned();
            view_of(o, latest)
        })
        .collect()
}

pub(super) async fn view(
    conn: &mut Conn,
    tenant: TenantId,
    row: Opportunity,
) -> ApiResult<OpportunityView> {
    views(conn, tenant, vec![row])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("opportunity vanished"))
}

/// One recorded stage change.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StageChangeDto)]
pub struct StageChangeView {
    /// For paging; not shown.
    #[serde(skip)]
    pub id: Uuid,
    pub from: StageCode,
    pub to: StageCode,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
    pub reason: Option<String>,
    /// The assessment that applied the change, if any.
    pub assessment_id: Option<Uuid>,
}

/// The view of a recorded stage change.
pub(super) fn stage_change(r: StageChangeRow) -> ApiResult<StageChangeView> {
    Ok(StageChangeView {
        id: r.id,
        from: db::code("stage_history.from_stage of", r.id, &r.from_stage)?,
        to: db::code("stage_history.to_stage of", r.id, &r.to_stage)?,
        changed_at: r.changed_at,
        changed_by: r.changed_by,
        reason: r.reason,
        assessment_id: r.assessment_id,
    })
}
