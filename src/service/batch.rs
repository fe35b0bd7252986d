//! Creating many resources in one statement (an import's chunk of new rows): the rows are
//! prepared with the checks of a single create, inserted together with their `*.created`
//! events, and each body gets its own answer. A batch the database refuses as a whole (a
//! reference another resource holds) leaves nothing behind: the caller then writes its bodies
//! one by one, which names the problem row by row.

use diesel::query_builder::{InsertStatement, Query};
use diesel::Insertable;
use diesel_async::methods::LoadQuery;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use crate::db::table::{InsertRow, VersionedTable};
use crate::domain::event::Lifecycle;
use crate::error::{ApiError, ApiResult};
use crate::service::events::{self, Published};
use crate::service::{Conn, Principal};

/// Each body's answer, in order; `None` when the database refused the batch (nothing of it is
/// stored).
pub type Created<V> = Option<Vec<ApiResult<V>>>;

/// The bodies of a batch as they were prepared: refused ones with their answer, the others as
/// rows to insert (with their ids).
pub struct Prepared<N, V> {
    answers: Vec<Option<ApiResult<V>>>,
    rows: Vec<(usize, Uuid, N)>,
}

impl<N, V> Prepared<N, V> {
    pub fn with_capacity(n: usize) -> Self {
        Prepared {
            answers: Vec::with_capacity(n),
            rows: Vec::new(),
        }
    }

    /// The next body: its row (with its id), or why it is refused.
    pub fn push(&mut self, prepared: ApiResult<(Uuid, N)>) {
        match prepared {
            Ok((id, row)) => {
                self.rows.push((self.answers.len(), id, row));
                self.answers.push(None);
            }
            Err(e) => self.answers.push(Some(Err(e))),
        }
    }
}

/// Inserts the prepared rows and their `created` events in one transaction (a savepoint in the
/// caller's). `view` is the resource as GET returns it, `id` a row's id.
pub async fn insert<R, N>(
    conn: &mut Conn,
    who: &Principal,
    prepared: Prepared<N, R::View>,
    view: impl Fn(R) -> ApiResult<R::View> + Send + Sync,
    id: impl Fn(&R) -> Uuid + Send + Sync,
) -> ApiResult<Created<R::View>>
where
    R: VersionedTable + Published + Clone,
    R::View: Sync,
    N: Send,
    Vec<N>: Insertable<R::Table> + Send,
    InsertStatement<R::Table, <Vec<N> as Insertable<R::Table>>::Values>: Send,
    InsertRow<R, Vec<N>>: Query + LoadQuery<'static, AsyncPgConnection, R> + Send + 'static,
{
    let Prepared { mut answers, rows } = prepared;
    let (places, new): (Vec<(usize, Uuid)>, Vec<N>) =
        rows.into_iter().map(|(i, id, n)| ((i, id), n)).unzip();
    let inserted = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let stored = R::insert_all(conn, new).await?;
            let mut written = Vec::with_capacity(stored.len());
            for row in stored {
                let shown = view(row.clone())?;
                written.push((row, shown));
            }
            events::lifecycle_all(conn, who, &written, Lifecycle::Created).await?;
            Ok(written)
        })
        .await;
    let written = match inserted {
        Ok(w) => w,
        Err(e @ (ApiError::Unavailable(_) | ApiError::Internal(_))) => return Err(e),
        Err(_) => return Ok(None),
    };
    let mut by_id: std::collections::HashMap<Uuid, R::View> =
        written.into_iter().map(|(r, v)| (id(&r), v)).collect();
    for (i, key) in places {
        let answer = by_id
            .remove(&key)
            .ok_or_else(|| ApiError::internal("a batch's row was not returned"));
        answers[i] = Some(answer);
    }
    answers
        .into_iter()
        .map(|a| a.ok_or_else(|| ApiError::internal("a batch's body has no answer")))
        .collect::<ApiResult<Vec<_>>>()
        .map(Some)
}
