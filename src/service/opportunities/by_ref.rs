//! An opportunity written whole by its reference in another system
//! (`PUT /v1/opportunities/by-ref/…`): its account may be named by its reference in the same
//! system.

use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{create_at, write, CreateOpportunity, OpportunityView, PatchOpportunity, KIND};
use crate::db::opportunities::Opportunity;
use crate::db::table::VersionedTable;
use crate::domain::external_ref::{including, ExternalRef};
use crate::domain::money::Amount;
use crate::domain::opportunity::{Competitor, OpportunityStatus, StageCode};
use crate::error::{ApiError, ApiResult};
use crate::service::external_refs::{self, account_of, Upserted};
use crate::service::{Conn, Precondition, Principal};

/// An opportunity written whole by its reference in another system.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutOpportunity {
    /// The opportunity's account (this or `account_ref`); it cannot change once the
    /// opportunity exists.
    pub account_id: Option<Uuid>,
    /// The account by its reference in the path's system (this or `account_id`).
    #[schema(
        example = "0015g00000AbCdE",
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub account_ref: Option<String>,
    #[schema(example = "数据中心网络改造", min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// With `currency`: a decimal string with at most the currency's minor digits, or a whole
    /// number.
    pub estimated_amount: Option<Amount>,
    /// ISO 4217 code, e.g. CNY.
    #[schema(pattern = r"^\s*[A-Z]{3}\s*$")]
    pub currency: Option<String>,
    pub expected_start: Option<NaiveDate>,
    /// Not before `expected_start`.
    pub deadline: Option<NaiveDate>,
    /// Defaults to `open`.
    pub status: Option<OpportunityStatus>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub competitors: Vec<Competitor>,
    /// Defaults to the caller when created; left out, the current owner stays. Only managers
    /// and admins may name someone else.
    #[schema(min_length = 1, max_length = 200)]
    pub owner: Option<String>,
    /// The stage (S1-S6): where a new opportunity starts (default S1); for an existing one a
    /// change is recorded in the stage history with `stage_reason`. Left out, it stays.
    pub current_stage: Option<StageCode>,
    /// Why the stage changed (with `current_stage`).
    #[schema(max_length = 2000)]
    pub stage_reason: Option<String>,
    /// References of other systems; left out, the current ones stay. The path's is always kept.
    #[schema(max_items = 20)]
    pub external_refs: Option<Vec<ExternalRef>>,
}

/// Writes the opportunity known by `reference` whole: creates it, or replaces what `b` gives
/// (left-out members are cleared, except `owner`, `current_stage` and `external_refs`, which
/// stay).
pub async fn upsert(
    conn: &mut Conn,
    who: &Principal,
    reference: ExternalRef,
    pre: &Precondition,
    mut b: PutOpportunity,
) -> ApiResult<Upserted<OpportunityView>> {
    let tenant = who.tenant;
    let existing = external_refs::target(conn, tenant, KIND, &reference, pre).await?;
    let current = match existing {
        Some(id) => Opportunity::find(conn, tenant, id)
            .await?
            .map(|o| o.account_id),
        None => None,
    };
    let mut errors = Vec::new();
    let named = (b.account_id, b.account_ref.as_deref());
    let account = account_of(conn, tenant, &reference.system, named, current, &mut errors).await?;
    let (Some(account), true) = (account, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    b.external_refs = b
        .external_refs
        .map(|refs| external_refs::with_path(refs, &reference, existing));
    let Some(id) = existing else {
        let refs = Some(including(
            b.external_refs.take().unwrap_or_default(),
            &reference,
        ));
        let stage = b.current_stage.unwrap_or(StageCode::S1);
        let created = create_at(conn, who, account, creating(&b, refs.clone()), stage).await;
        if !external_refs::lost_race(&created, &reference) {
            return Upserted::created(created);
        }
        let Some(id) = external_refs::holder(conn, tenant, KIND, &reference).await? else {
            return Upserted::created(created);
        };
        return Upserted::updated(write(conn, who, id, pre, replacing(&b, refs)).await);
    };
    let refs = b.external_refs.take();
    Upserted::updated(write(conn, who, id, pre, replacing(&b, refs)).await)
}

fn creating(b: &PutOpportunity, refs: Option<Vec<ExternalRef>>) -> CreateOpportunity {
    CreateOpportunity {
        name: b.name.clone(),
        description: b.description.clone(),
        estimated_amount: b.estimated_amount.clone(),
        currency: b.currency.clone(),
        expected_start: b.expected_start,
        deadline: b.deadline,
        status: b.status,
        competitors: b.competitors.clone(),
        owner: b.owner.clone(),
        external_refs: refs,
    }
}

/// The merge patch that makes an opportunity what `b` says (a `PUT`).
fn replacing(b: &PutOpportunity, refs: Option<Vec<ExternalRef>>) -> PatchOpportunity {
    PatchOpportunity {
        name: Some(Some(b.name.clone())),
        description: Some(b.description.clone()),
        estimated_amount: Some(b.estimated_amount.clone()),
        currency: Some(b.currency.clone()),
        expected_start: Some(b.expected_start),
        deadline: Some(b.deadline),
        status: Some(Some(b.status.unwrap_or(OpportunityStatus::Open))),
        competitors: Some(Some(b.competitors.clone())),
        owner: b.owner.clone().map(Some),
        current_stage: b.current_stage.map(Some),
        stage_reason: b.stage_reason.clone(),
        external_refs: refs.map(Some),
    }
}
