//! Transactions whose `BEGIN` and `COMMIT` travel with their first and last statements.
//!
//! diesel-async's `transaction` sends `BEGIN` and `COMMIT` on their own and waits for each
//! answer: two of the round trips of every write. A pipelined transaction sends `BEGIN` as the
//! first statement of its first batch and `COMMIT` as the last of its last batch (statements
//! awaited together on the one connection go out at once, in the order their futures are
//! first polled; `futures_util::try_join!` polls in argument order).
//!
//! The order holds for statements being prepared too: each statement takes the connection's
//! statement-cache lock (first come, first served) before it is sent, and one prepared for the
//! first time keeps it until its own execution is sent. `BEGIN` and `COMMIT` are sent the same
//! way (as prepared statements), so they keep their place; sent as simple queries they would
//! overtake a statement still waiting for its `Parse`.
//!
//! The body receives a [`Begin`] and must give back a [`Committed`]: `Begin::send` is the
//! `BEGIN`, joined first with the first batch; `Open::commit` the `COMMIT`, joined last with
//! the last batch. diesel's transaction manager is told a transaction is open for the whole
//! body, so a nested `transaction` makes a savepoint and a connection abandoned in the middle
//! (a cancelled request) is dropped by the pool as broken. Any error rolls back: `ROLLBACK`
//! after a `COMMIT` that already ended the transaction only earns a warning from PostgreSQL.

use diesel::connection::{TransactionDepthChange, TransactionManagerStatus};
use diesel::result::Error;
use diesel::QueryResult;
use diesel_async::TransactionManager;
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

/// The right to send `BEGIN`: given to the body of [`run`].
#[must_use = "a pipelined transaction begins with `Begin::send`"]
pub struct Begin(());

/// A transaction begun: the right to send `COMMIT`.
#[must_use = "a pipelined transaction ends with `Open::commit`"]
pub struct Open(());

/// The proof that `COMMIT` succeeded.
pub struct Committed(());

/// A transaction-control statement, sent in its place in the batch (see the module
/// documentation).
async fn control(mut conn: &AsyncPgConnection, sql: &'static str) -> QueryResult<()> {
    crate::db::cached(diesel::sql_query(sql))
        .execute(&mut conn)
        .await
        .map(|_| ())
}

impl Begin {
    /// `BEGIN`: join it first with the transaction's first statements.
    pub async fn send(self, conn: &AsyncPgConnection) -> QueryResult<Open> {
        control(conn, "BEGIN").await?;
        Ok(Open(()))
    }
}

impl Open {
    /// `COMMIT`: join it last with the transaction's last statements. (When one of them fails,
    /// PostgreSQL ends the transaction with a rollback instead, and the failure is what the
    /// joined future returns.)
    pub async fn commit(self, conn: &AsyncPgConnection) -> QueryResult<Committed> {
        control(conn, "COMMIT").await?;
        Ok(Committed(()))
    }
}

fn change_depth(conn: &mut AsyncPgConnection, change: TransactionDepthChange) -> QueryResult<()> {
    match AnsiTransactionManager::transaction_manager_status_mut(conn) {
        TransactionManagerStatus::Valid(status) => status.change_transaction_depth(change),
        TransactionManagerStatus::InError => Err(Error::BrokenTransactionManager),
    }
}

fn in_transaction(conn: &mut AsyncPgConnection) -> QueryResult<bool> {
    Ok(AnsiTransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()?
        .is_some())
}

/// Runs `body` as one pipelined transaction (see the module documentation). Not nested: inside
/// another transaction it fails with `AlreadyInTransaction` before sending anything.
pub async fn run<R, E>(
    conn: &mut AsyncPgConnection,
    body: impl AsyncFnOnce(&mut AsyncPgConnection, Begin) -> Result<(R, Committed), E>,
) -> Result<R, E>
where
    E: From<Error>,
{
    if in_transaction(conn)? {
        return Err(Error::AlreadyInTransaction.into());
    }
    change_depth(conn, TransactionDepthChange::IncreaseDepth)?;
    match body(conn, Begin(())).await {
        Ok((value, Committed(()))) => {
            change_depth(conn, TransactionDepthChange::DecreaseDepth)?;
            Ok(value)
        }
        Err(e) => {
            match conn.batch_execute("ROLLBACK").await {
                Ok(()) => change_depth(conn, TransactionDepthChange::DecreaseDepth)?,
                // The connection's state is unknown: the pool drops it.
                Err(_) => {
                    AnsiTransactionManager::transaction_manager_status_mut(conn).set_in_error()
                }
            }
            Err(e)
        }
    }
}
