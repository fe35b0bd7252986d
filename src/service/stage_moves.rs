//! Stage moves of an opportunity: the history row and the `opportunity.stage_changed` event,
//! written together (by a PATCH of `current_stage`, or by an applied assessment).

use chrono::Utc;
use uuid::Uuid;

use crate::db::opportunities::{self as q, Opportunity, OpportunityChanges};
use crate::db::table::VersionedTable;
use crate::domain::event::EventType;
use crate::domain::opportunity::StageCode;
use crate::error::ApiResult;
use crate::service::{events, Conn, Principal};

/// Moves the opportunity to `stage` (a new version) and records the move, in the caller's
/// transaction.
pub(crate) async fn change_stage_in(
    conn: &mut Conn,
    who: &Principal,
    current: &Opportunity,
    stage: StageCode,
    reason: Option<String>,
    assessment_id: Option<Uuid>,
) -> ApiResult<Opportunity> {
    let changes = OpportunityChanges {
        current_stage: Some(stage.as_str().to_string()),
        stage_entered_at: Some(Utc::now()),
        ..OpportunityChanges::default()
    };
    let moved = Opportunity::update(conn, who.tenant, current.id, changes).await?;
    record_move_in(conn, who, current, &moved, reason, assessment_id).await?;
    Ok(moved)
}

/// Records the move from `before` to `moved` (already stored): the history row and
/// `opportunity.stage_changed` with the moved opportunity's version.
pub(crate) async fn record_move_in(
    conn: &mut Conn,
    who: &Principal,
    before: &Opportunity,
    moved: &Opportunity,
    reason: Option<String>,
    assessment_id: Option<Uuid>,
) -> ApiResult<()> {
    q::insert_stage_change(
        conn,
        who.tenant,
        before,
        &moved.current_stage,
        &who.sub,
        reason.clone(),
        assessment_id,
    )
    .await?;
    let mut data = events::data_with_object(conn, who, moved).await?;
    data.insert("previous_stage".into(), before.current_stage.clone().into());
    data.insert("current_stage".into(), moved.current_stage.clone().into());
    data.insert("reason".into(), reason.into());
    data.insert(
        "assessment_id".into(),
        assessment_id.map(|a| a.to_string()).into(),
    );
    data.insert("changed_by".into(), who.sub.clone().into());
    events::emit(conn, who.tenant, EventType::STAGE_CHANGED, data).await
}
