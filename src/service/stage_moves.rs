//! Stage moves of an opportunity: the history row and the `opportunity.stage_changed` event,
//! written together (by a PATCH of `current_stage`, or by an applied assessment).

use uuid::Uuid;

use crate::db::opportunities::{self as q, Opportunity};
use crate::domain::event::EventType;
use crate::domain::opportunity::StageCode;
use crate::error::ApiResult;
use crate::service::{events, Conn, Principal};

/// Moves the opportunity to `stage` (history row + `opportunity.stage_changed`), in the
/// caller's transaction.
pub(crate) async fn change_stage_in(
    conn: &mut Conn,
    who: &Principal,
    current: &Opportunity,
    stage: StageCode,
    reason: Option<String>,
    assessment_id: Option<Uuid>,
) -> ApiResult<Opportunity> {
    let moved = q::change_stage(
        conn,
        who.tenant,
        current,
        stage,
        &who.sub,
        reason.clone(),
        assessment_id,
    )
    .await?;
    let mut data = events::data_of(who, &moved);
    data.insert(
        "previous_stage".into(),
        current.current_stage.clone().into(),
    );
    data.insert("current_stage".into(), moved.current_stage.clone().into());
    data.insert("reason".into(), reason.into());
    data.insert(
        "assessment_id".into(),
        assessment_id.map(|a| a.to_string()).into(),
    );
    data.insert("changed_by".into(), who.sub.clone().into());
    events::emit(conn, who.tenant, EventType::STAGE_CHANGED, data).await?;
    Ok(moved)
}
