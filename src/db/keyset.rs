//! Keyset paging, in one place: where a page of a list starts and in which order it runs.
//!
//! Lists page by a key, never by an offset: the id (time-ordered), a time and the id (newest
//! first), or — when syncing with `updated_since` — the time a row last changed and the id.
//! The functions take the list's query (boxed) and the columns of its order.

use chrono::{DateTime, Utc};
use diesel::dsl;
use diesel::expression::Expression;
use diesel::prelude::*;
use diesel::query_dsl::methods::{FilterDsl, OrderDsl};
use diesel::sql_types::{Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

/// Where a page of a list starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyset<K> {
    /// The list's own order, after this key.
    After(Option<K>),
    /// Sync: rows changed at or after `since` (archived ones included), in `(changed, id)`
    /// order, after this key.
    Changed {
        since: DateTime<Utc>,
        after: Option<(DateTime<Utc>, Uuid)>,
    },
}

impl<K> Keyset<K> {
    /// Whether archived rows are listed: always when syncing.
    pub fn with_archived(&self, asked: bool) -> bool {
        asked || matches!(self, Keyset::Changed { .. })
    }
}

/// `(time > $at OR (time = $at AND id > $id))`, or with `<` for a descending order.
type After<T, I> =
    dsl::Or<dsl::Gt<T, DateTime<Utc>>, dsl::And<dsl::Eq<T, DateTime<Utc>>, dsl::Gt<I, Uuid>>>;
type Before<T, I> =
    dsl::Or<dsl::Lt<T, DateTime<Utc>>, dsl::And<dsl::Eq<T, DateTime<Utc>>, dsl::Lt<I, Uuid>>>;

/// A boxed list query that can be ordered and started by `time` and `id` in every way this
/// module pages.
pub trait Pageable<T, I>:
    Sized
    + OrderDsl<dsl::Asc<I>, Output = Self>
    + OrderDsl<dsl::Desc<I>, Output = Self>
    + OrderDsl<(dsl::Asc<T>, dsl::Asc<I>), Output = Self>
    + OrderDsl<(dsl::Desc<T>, dsl::Desc<I>), Output = Self>
    + FilterDsl<dsl::Gt<I, Uuid>, Output = Self>
    + FilterDsl<dsl::Lt<I, Uuid>, Output = Self>
    + FilterDsl<dsl::GtEq<T, DateTime<Utc>>, Output = Self>
    + FilterDsl<After<T, I>, Output = Self>
    + FilterDsl<Before<T, I>, Output = Self>
where
    T: Expression<SqlType = Timestamptz> + ExpressionMethods + Copy,
    I: Expression<SqlType = SqlUuid> + ExpressionMethods + Copy,
{
}

impl<Q, T, I> Pageable<T, I> for Q
where
    T: Expression<SqlType = Timestamptz> + ExpressionMethods + Copy,
    I: Expression<SqlType = SqlUuid> + ExpressionMethods + Copy,
    Q: OrderDsl<dsl::Asc<I>, Output = Q>
        + OrderDsl<dsl::Desc<I>, Output = Q>
        + OrderDsl<(dsl::Asc<T>, dsl::Asc<I>), Output = Q>
        + OrderDsl<(dsl::Desc<T>, dsl::Desc<I>), Output = Q>
        + FilterDsl<dsl::Gt<I, Uuid>, Output = Q>
        + FilterDsl<dsl::Lt<I, Uuid>, Output = Q>
        + FilterDsl<dsl::GtEq<T, DateTime<Utc>>, Output = Q>
        + FilterDsl<After<T, I>, Output = Q>
        + FilterDsl<Before<T, I>, Output = Q>,
{
}

/// Id order (ids are time-ordered: oldest first), after the key; or the sync order by
/// `changed` (the row's `updated_at`, or the creation time of rows never changed).
pub fn oldest_first<Q, T, I>(q: Q, changed: T, id: I, keyset: &Keyset<Uuid>) -> Q
where
    Q: Pageable<T, I>,
    T: Expression<SqlType = Timestamptz> + ExpressionMethods + Copy,
    I: Expression<SqlType = SqlUuid> + ExpressionMethods + Copy,
{
    match keyset {
        Keyset::After(after) => {
            let q = OrderDsl::order(q, id.asc());
            match after {
                Some(a) => FilterDsl::filter(q, id.gt(*a)),
                None => q,
            }
        }
        Keyset::Changed { since, after } => changed_since(q, changed, id, since, after),
    }
}

/// Newest id first, before the key; or the sync order by `changed`.
pub fn newest_id_first<Q, T, I>(q: Q, changed: T, id: I, keyset: &Keyset<Uuid>) -> Q
where
    Q: Pageable<T, I>,
    T: Expression<SqlType = Timestamptz> + ExpressionMethods + Copy,
    I: Expression<SqlType = SqlUuid> + ExpressionMethods + Copy,
{
    match keyset {
        Keyset::After(before) => {
            let q = OrderDsl::order(q, id.desc());
            match before {
                Some(b) => FilterDsl::filter(q, id.lt(*b)),
                None => q,
            }
        }
        Keyset::Changed { since, after } => changed_since(q, changed, id, since, after),
    }
}

/// `(time DESC, id DESC)` after a `(time, id)` key; or the sync order by `changed`.
pub fn newest_first<Q, T, C, I>(
    q: Q,
    time: T,
    changed: C,
    id: I,
    keyset: &Keyset<(DateTime<Utc>, Uuid)>,
) -> Q
where
    Q: Pageable<T, I> + Pageable<C, I>,
    T: Expression<SqlType = Timestamptz> + ExpressionMethods + Copy,
    C: Expression<SqlType = Timestamptz> + ExpressionMethods + Copy,
    I: Expression<SqlType = SqlUuid> + ExpressionMethods + Copy,
{
    match keyset {
        Keyset::After(after) => {
            let q = OrderDsl::order(q, (time.desc(), id.desc()));
            match after {
                Some((at, i)) => FilterDsl::filter(q, time.lt(*at).or(time.eq(*at).and(id.lt(*i)))),
                None => q,
            }
        }
        Keyset::Changed { since, after } => changed_since(q, changed, id, since, after),
    }
}

/// `(changed, id)` order from `since`, after the key.
fn changed_since<Q, T, I>(
    q: Q,
    changed: T,
    id: I,
    since: &DateTime<Utc>,
    after: &Option<(DateTime<Utc>, Uuid)>,
) -> Q
where
    Q: Pageable<T, I>,
    T: Expression<SqlType = Timestamptz> + ExpressionMethods + Copy,
    I: Expression<SqlType = SqlUuid> + ExpressionMethods + Copy,
{
    let q = OrderDsl::order(q, (changed.asc(), id.asc()));
    let q = FilterDsl::filter(q, changed.ge(*since));
    match after {
        Some((ts, i)) => FilterDsl::filter(q, changed.gt(*ts).or(changed.eq(*ts).and(id.gt(*i)))),
        None => q,
    }
}
