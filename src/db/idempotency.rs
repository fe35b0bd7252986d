//! Idempotency keys: the first response to a POST, kept per tenant, user and key.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::schema::idempotency_keys as k;
use crate::domain::ids::TenantId;

/// Who sent the request and under which key.
#[derive(Debug, Clone, Copy)]
pub struct KeyRef<'a> {
    pub tenant: TenantId,
    pub principal: &'a str,
    pub key: &'a str,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = k, check_for_backend(diesel::pg::Pg))]
pub struct Stored {
    pub request_hash: String,
    pub created_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    pub response_status: Option<i32>,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub etag: Option<String>,
    pub response_body: Option<Vec<u8>>,
}

/// A response to keep.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: i32,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub etag: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Debug)]
pub enum Begin {
    /// This request holds the key: run it.
    Started,
    /// The key is in use (running or done).
    Existing(Stored),
}

macro_rules! this_key {
    ($r:expr) => {
        k::table
            .filter(k::tenant_id.eq($r.tenant.get()))
            .filter(k::principal.eq($r.principal))
            .filter(k::key.eq($r.key))
    };
}

/// Takes the key for a request with `hash`, unless it is in use: a key whose record is older
/// than `expired_before`, or whose first request was abandoned (its lock ran out with no
/// response) with the same request, is taken over.
pub async fn begin(
    conn: &mut AsyncPgConnection,
    r: KeyRef<'_>,
    hash: &str,
    lock_until: DateTime<Utc>,
    expired_before: DateTime<Utc>,
) -> QueryResult<Begin> {
    let inserted = diesel::insert_into(k::table)
        .values((
            k::tenant_id.eq(r.tenant.get()),
            k::principal.eq(r.principal),
            k::key.eq(r.key),
            k::request_hash.eq(hash),
            k::locked_until.eq(lock_until),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if inserted == 1 {
        return Ok(Begin::Started);
    }
    let now = Utc::now();
    let taken = diesel::update(
        this_key!(r).filter(
            k::created_at.lt(expired_before).or(k::response_status
                .is_null()
                .and(k::locked_until.lt(now))
                .and(k::request_hash.eq(hash))),
        ),
    )
    .set((
        k::request_hash.eq(hash),
        k::created_at.eq(now),
        k::locked_until.eq(lock_until),
        k::response_status.eq(None::<i32>),
        k::content_type.eq(None::<String>),
        k::location.eq(None::<String>),
        k::etag.eq(None::<String>),
        k::response_body.eq(None::<Vec<u8>>),
    ))
    .execute(conn)
    .await?;
    if taken == 1 {
        return Ok(Begin::Started);
    }
    match this_key!(r)
        .select(Stored::as_select())
        .first(conn)
        .await
        .optional()?
    {
        Some(s) => Ok(Begin::Existing(s)),
        // Expired and deleted in between: a rare race; the caller may simply retry.
        None => Ok(Begin::Existing(Stored {
            request_hash: hash.to_string(),
            created_at: now,
            locked_until: Some(now),
            response_status: None,
            content_type: None,
            location: None,
            etag: None,
            response_body: None,
        })),
    }
}

/// Keeps the response of the request holding the key.
pub async fn complete(
    conn: &mut AsyncPgConnection,
    r: KeyRef<'_>,
    res: Response,
) -> QueryResult<()> {
    diesel::update(this_key!(r))
        .set((
            k::locked_until.eq(None::<DateTime<Utc>>),
            k::response_status.eq(res.status),
            k::content_type.eq(res.content_type),
            k::location.eq(res.location),
            k::etag.eq(res.etag),
            k::response_body.eq(res.body),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Lets the key go (the request failed on the server's side and may be retried).
pub async fn release(conn: &mut AsyncPgConnection, r: KeyRef<'_>) -> QueryResult<()> {
    diesel::delete(this_key!(r).filter(k::response_status.is_null()))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Deletes keys recorded before `before`.
pub async fn prune(conn: &mut AsyncPgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(k::table.filter(k::created_at.lt(before)))
        .execute(conn)
        .await
}
