//! The event log (a transactional outbox) and the dispatcher's position in it.
//!
//! A reader sees an event only when every transaction that started before the event's own has
//! ended (`txid` below the snapshot's xmin), so the order `(txid, seq)` never gains an entry
//! behind a position already read: a cursor never skips a late commit.

use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use crate::db::schema::{event_dispatch, events};
use crate::domain::ids::TenantId;

/// A position in the log: `(txid, seq)`.
pub type Position = (i64, i64);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events, check_for_backend(diesel::pg::Pg))]
pub struct EventRow {
    pub seq: i64,
    pub txid: i64,
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub data: Value,
}

impl EventRow {
    pub fn position(&self) -> Position {
        (self.txid, self.seq)
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = events)]
pub struct NewEvent {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub event_type: String,
    pub data: Value,
}

/// Appends events in the caller's transaction; returns when they were recorded.
pub async fn append(
    mut conn: &AsyncPgConnection,
    tenant: TenantId,
    new: Vec<NewEvent>,
) -> QueryResult<()> {
    debug_assert!(new.iter().all(|e| e.tenant_id == tenant.get()));
    // Nearly every write appends one event: that statement is kept prepared. A batch's text
    // depends on its length, so it is not.
    if new.len() == 1 {
        let query = diesel::insert_into(events::table).values(new);
        crate::db::cached(query).execute(&mut conn).await?;
    } else {
        diesel::insert_into(events::table)
            .values(new)
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}

/// A write and the event it publishes as one statement: `WITH w AS (<write>) INSERT INTO
/// events …`. PostgreSQL runs both in the statement (and the caller's transaction): one
/// statement instead of two on the write path. The write returns nothing.
#[derive(Debug)]
pub struct WithEvent<W> {
    write: W,
    event: NewEvent,
}

/// `write` with the append of `event` (see [`WithEvent`]): for writes `db::cached` may keep
/// prepared, since the event adds a fixed text.
pub fn with_event<W>(write: W, event: NewEvent) -> crate::db::Cached<WithEvent<W>> {
    crate::db::cached(WithEvent { write, event })
}

impl<W: diesel::query_builder::QueryFragment<diesel::pg::Pg>>
    diesel::query_builder::QueryFragment<diesel::pg::Pg> for WithEvent<W>
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        use diesel::sql_types::{Jsonb, Text, Uuid as SqlUuid};
        out.push_sql("WITH w AS (");
        self.write.walk_ast(out.reborrow())?;
        out.push_sql(") INSERT INTO events (id, tenant_id, event_type, data) VALUES (");
        out.push_bind_param::<SqlUuid, _>(&self.event.id)?;
        out.push_sql(", ");
        out.push_bind_param::<SqlUuid, _>(&self.event.tenant_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.event.event_type)?;
        out.push_sql(", ");
        out.push_bind_param::<Jsonb, _>(&self.event.data)?;
        out.push_sql(")");
        Ok(())
    }
}

impl<W> diesel::query_builder::QueryId for WithEvent<W> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// `(txid, seq) > position`: a row comparison, which the position indexes take as where to
/// start reading, in order, up to the limit. (Written as `txid > a OR (txid = a AND seq > b)`,
/// it was planned as a bitmap scan of every event after the position, sorted: the webhook
/// dispatcher spent 64 ms a poll, more than half the database's time during a bulk import.)
macro_rules! past {
    ($position:expr) => {
        sql::<Bool>("(events.txid, events.seq) > (")
            .bind::<diesel::sql_types::BigInt, _>($position.0)
            .sql(", ")
            .bind::<diesel::sql_types::BigInt, _>($position.1)
            .sql(")")
    };
}

fn settled() -> diesel::expression::SqlLiteral<Bool> {
    sql::<Bool>("events.txid < buyerpath_event_horizon()")
}

/// Keeps new positions after every stored one: after a restore into another cluster (whose
/// transaction ids are lower), raises the clock's offset. Run at start; returns the raise.
pub async fn align_clock(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Raised {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        raised: i64,
    }
    let rows: Vec<Raised> = diesel::sql_query(
        "WITH ahead AS (\
           SELECT coalesce(max(txid), 0) - buyerpath_event_txid() + 1 AS by FROM events) \
         UPDATE event_clock SET xid_offset = xid_offset + ahead.by FROM ahead \
         WHERE event_clock.id = 1 AND ahead.by > 0 \
         RETURNING ahead.by AS raised",
    )
    .load(conn)
    .await?;
    Ok(rows.iter().map(|r| r.raised).next().unwrap_or(0))
}

/// The tenant's events after `after`, in log order; `types` (exact names) when given.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    types: Option<&[&str]>,
    after: Option<Position>,
    limit: i64,
) -> QueryResult<Vec<EventRow>> {
    let mut q = events::table
        .filter(events::tenant_id.eq(tenant.get()))
        .filter(settled())
        .select(EventRow::as_select())
        .order((events::txid.asc(), events::seq.asc()))
        .limit(limit)
        .into_boxed();
    if let Some(position) = after {
        q = q.filter(past!(position));
    }
    if let Some(types) = types {
        let types: Vec<String> = types.iter().map(|t| t.to_string()).collect();
        q = q.filter(events::event_type.eq_any(types));
    }
    q.load(conn).await
}

/// Every tenant's settled events after `after` (the webhook dispatcher).
pub async fn after(
    conn: &mut AsyncPgConnection,
    after: Position,
    limit: i64,
) -> QueryResult<Vec<EventRow>> {
    events::table
        .filter(settled())
        .filter(past!(after))
        .select(EventRow::as_select())
        .order((events::txid.asc(), events::seq.asc()))
        .limit(limit)
        .load(conn)
        .await
}

/// The dispatcher's position, locked for this transaction; `None` while another replica
/// holds it.
pub async fn lock_dispatch(conn: &mut AsyncPgConnection) -> QueryResult<Option<Position>> {
    event_dispatch::table
        .filter(event_dispatch::id.eq(1i16))
        .select((event_dispatch::txid, event_dispatch::seq))
        .for_update()
        .skip_locked()
        .first(conn)
        .await
        .optional()
}

pub async fn set_dispatch(conn: &mut AsyncPgConnection, to: Position) -> QueryResult<()> {
    diesel::update(event_dispatch::table.filter(event_dispatch::id.eq(1i16)))
        .set((event_dispatch::txid.eq(to.0), event_dispatch::seq.eq(to.1)))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Deletes up to `batch` events recorded before `before`; returns how many went.
pub async fn prune(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
    batch: i64,
) -> QueryResult<usize> {
    let old: Vec<i64> = events::table
        .filter(events::occurred_at.lt(before))
        .select(events::seq)
        .order(events::seq.asc())
        .limit(batch)
        .load(conn)
        .await?;
    diesel::delete(events::table.filter(events::seq.eq_any(old)))
        .execute(conn)
        .await
}
