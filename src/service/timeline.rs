//! The timeline of an account or an opportunity.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::{self, timeline as q};
use crate::domain::playbook::Lang;
use crate::domain::timeline::{Entry, TimelineItem, TimelineType};
use crate::error::ApiResult;
use crate::service::{accounts, corrupt, opportunities, Conn, Principal};

fn item(row: q::TimelineRow, lang: Lang) -> ApiResult<TimelineItem> {
    let kind: TimelineType = db::code("timeline entry type of", row.id, &row.kind)?;
    let missing = |what: &str| corrupt("timeline entry", row.id, format!("no {what}"));
    let entry = match kind {
        TimelineType::Activity => Entry::Activity {
            kind: db::code(
                "activities.kind of",
                row.id,
                row.a.as_deref().ok_or_else(|| missing("kind"))?,
            )?,
            subject: row.b.clone().ok_or_else(|| missing("subject"))?,
        },
        TimelineType::StageAssessment => Entry::StageAssessment {
            evidence_stage: row.a.clone().ok_or_else(|| missing("evidence stage"))?,
            from_stage: row.b.clone().ok_or_else(|| missing("stage"))?,
            ready: row.c.as_deref() == Some("true"),
        },
        TimelineType::StageChange => Entry::StageChange {
            from: row.a.clone().ok_or_else(|| missing("from stage"))?,
            to: row.b.clone().ok_or_else(|| missing("to stage"))?,
            reason: row.c.clone(),
        },
        TimelineType::SurveyRecord => Entry::SurveyRecord {
            completeness_percent: row
                .a
                .as_deref()
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| missing("completeness"))?,
        },
    };
    Ok(TimelineItem {
        item_type: kind,
        id: row.id,
        at: row.at,
        summary: entry.summary(lang),
    })
}

/// The account's timeline (all its opportunities), newest first.
pub async fn of_account(
    conn: &mut Conn,
    who: &Principal,
    account_id: Uuid,
    lang: Lang,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> ApiResult<Vec<TimelineItem>> {
    accounts::find_in(conn, who.tenant, account_id).await?;
    q::timeline(conn, who.tenant, account_id, None, after, limit)
        .await?
        .into_iter()
        .map(|r| item(r, lang))
        .collect()
}

/// The opportunity's timeline, newest first.
pub async fn of_opportunity(
    conn: &mut Conn,
    who: &Principal,
    opportunity_id: Uuid,
    lang: Lang,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> ApiResult<Vec<TimelineItem>> {
    let opp = opportunities::find_in(conn, who.tenant, opportunity_id).await?;
    q::timeline(conn, who.tenant, opp.account_id, Some(opp.id), after, limit)
        .await?
        .into_iter()
        .map(|r| item(r, lang))
        .collect()
}
