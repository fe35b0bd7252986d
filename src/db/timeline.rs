//! The timeline of an account or an opportunity: activities, assessments, stage changes and
//! survey records merged newest first, in one query.

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::domain::ids::TenantId;

/// One entry, with the columns its summary is written from (`a`, `b`, `c` depend on `kind`).
#[derive(Debug, Clone, QueryableByName)]
pub struct TimelineRow {
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    pub at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    pub a: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub b: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub c: Option<String>,
}

/// Entries of the account (all its opportunities), or of one opportunity, newest first, after
/// the `(at, id)` cursor.
pub async fn timeline(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    account: Uuid,
    opportunity: Option<Uuid>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> diesel::QueryResult<Vec<TimelineRow>> {
    crate::db::cached(
        diesel::sql_query(
            "SELECT kind, id, at, a, b, c FROM ( \
               SELECT 'activity' AS kind, id, occurred_at AS at, kind AS a, subject AS b, NULL::text AS c \
                 FROM activities \
                WHERE tenant_id = $1 AND account_id = $2 AND archived_at IS NULL \
                  AND ($3::uuid IS NULL OR opportunity_id = $3) \
               UNION ALL \
               SELECT 'stage_assessment', s.id, s.created_at, s.evidence_stage, s.from_stage, \
                      s.judgement->>'ready_to_advance' \
                 FROM stage_assessments s JOIN opportunities o \
                   ON o.tenant_id = s.tenant_id AND o.id = s.opportunity_id \
                WHERE s.tenant_id = $1 AND o.account_id = $2 \
                  AND ($3::uuid IS NULL OR s.opportunity_id = $3) \
               UNION ALL \
               SELECT 'stage_change', h.id, h.changed_at, h.from_stage, h.to_stage, h.reason \
                 FROM stage_history h JOIN opportunities o \
                   ON o.tenant_id = h.tenant_id AND o.id = h.opportunity_id \
                WHERE h.tenant_id = $1 AND o.account_id = $2 \
                  AND ($3::uuid IS NULL OR h.opportunity_id = $3) \
               UNION ALL \
               SELECT 'survey_record', id, surveyed_at, completeness_percent::text, surveyor, NULL \
                 FROM survey_records \
                WHERE tenant_id = $1 AND account_id = $2 AND archived_at IS NULL \
                  AND ($3::uuid IS NULL OR opportunity_id = $3) \
             ) t \
             WHERE $4::timestamptz IS NULL OR (at, id) < ($4, $5) \
             ORDER BY at DESC, id DESC \
             LIMIT $6",
        )
        .bind::<SqlUuid, _>(tenant.get())
        .bind::<SqlUuid, _>(account)
        .bind::<Nullable<SqlUuid>, _>(opportunity)
        .bind::<Nullable<Timestamptz>, _>(after.map(|(at, _)| at))
        .bind::<SqlUuid, _>(after.map_or(Uuid::nil(), |(_, id)| id))
        .bind::<BigInt, _>(limit),
    )
    .load(conn)
    .await
}
