//! `db::tx`: a transaction whose BEGIN and COMMIT travel with its first and last statements; and
//! `db::events::with_event`: a write and its event in one statement.

use buyerpath::db::tx;
use diesel::sql_types::{BigInt, Integer};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::common::database_url;

#[derive(QueryableByName)]
struct Xid {
    #[diesel(sql_type = BigInt)]
    xid: i64,
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = Integer)]
    n: i32,
}

async fn xid(mut conn: &AsyncPgConnection) -> diesel::QueryResult<i64> {
    let x: Xid = diesel::sql_query("SELECT pg_current_xact_id()::text::bigint AS xid")
        .get_result(&mut conn)
        .await?;
    Ok(x.xid)
}

async fn insert(mut conn: &AsyncPgConnection, n: i32) -> diesel::QueryResult<usize> {
    diesel::sql_query("INSERT INTO tx_probe (n) VALUES ($1)")
        .bind::<Integer, _>(n)
        .execute(&mut conn)
        .await
}

fn numbers(rows: diesel::QueryResult<Vec<N>>) -> Vec<i32> {
    rows.unwrap().into_iter().map(|r| r.n).collect()
}

async fn stored(conn: &mut AsyncPgConnection) -> Vec<i32> {
    numbers(
        diesel::sql_query("SELECT n FROM tx_probe ORDER BY n")
            .load::<N>(conn)
            .await,
    )
}

async fn connection() -> AsyncPgConnection {
    let mut conn = AsyncPgConnection::establish(&database_url()).await.unwrap();
    conn.batch_execute("CREATE TEMP TABLE tx_probe (n integer PRIMARY KEY CHECK (n > 0))")
        .await
        .unwrap();
    conn
}

#[actix_web::test]
async fn begin_and_commit_sent_with_the_statements_enclose_them_all() {
    let mut conn = connection().await;
    let (first, last) = tx::run(&mut conn, async |conn, begin| {
        let c: &AsyncPgConnection = conn;
        let (open, first, _) = futures_util::try_join!(begin.send(c), xid(c), insert(c, 1))?;
        // Between the batches the connection is in a transaction for diesel too: a nested
        // transaction is a savepoint, and its failure rolls back only itself.
        let nested = conn
            .transaction::<(), diesel::result::Error, _>(async |conn| {
                insert(conn, 2).await?;
                insert(conn, 1).await?;
                Ok(())
            })
            .await;
        assert!(nested.is_err());
        let c: &AsyncPgConnection = conn;
        let (last, _, committed) = futures_util::try_join!(xid(c), insert(c, 3), open.commit(c))?;
        Ok::<_, diesel::result::Error>(((first, last), committed))
    })
    .await
    .unwrap();
    assert_eq!(first, last, "one transaction from BEGIN to COMMIT");
    assert_ne!(xid(&conn).await.unwrap(), last, "and it has ended");
    assert_eq!(stored(&mut conn).await, [1, 3]);
}

#[actix_web::test]
async fn an_error_anywhere_rolls_everything_back_and_the_connection_stays_usable() {
    let mut conn = connection().await;
    // An error of the body's own between the batches (a 404, a 422 …).
    let r: Result<(), diesel::result::Error> = tx::run(&mut conn, async |conn, begin| {
        let c: &AsyncPgConnection = conn;
        let (_open, _) = futures_util::try_join!(begin.send(c), insert(c, 1))?;
        Err(diesel::result::Error::NotFound)
    })
    .await;
    assert!(matches!(r, Err(diesel::result::Error::NotFound)));
    assert_eq!(stored(&mut conn).await, Vec::<i32>::new());

    // A statement that fails in the last batch, sent together with the COMMIT.
    let r: Result<(), diesel::result::Error> = tx::run(&mut conn, async |conn, begin| {
        let c: &AsyncPgConnection = conn;
        let (open, _) = futures_util::try_join!(begin.send(c), insert(c, 1))?;
        let (_, _, committed) =
            futures_util::try_join!(insert(c, 2), insert(c, -1), open.commit(c))?;
        Ok(((), committed))
    })
    .await;
    let e = r.unwrap_err().to_string();
    assert!(e.contains("tx_probe_n_check"), "{e}");
    assert_eq!(stored(&mut conn).await, Vec::<i32>::new());

    // The connection is out of any transaction, for PostgreSQL and for diesel alike.
    conn.transaction::<(), diesel::result::Error, _>(async |conn| {
        insert(conn, 5).await.map(|_| ())
    })
    .await
    .unwrap();
    assert_eq!(stored(&mut conn).await, [5]);
}

#[actix_web::test]
async fn inside_another_transaction_it_refuses_before_sending_anything() {
    let mut conn = connection().await;
    let r = conn
        .transaction::<(), diesel::result::Error, _>(async |conn| {
            insert(conn, 1).await?;
            tx::run(conn, async |conn, begin| {
                let c: &AsyncPgConnection = conn;
                let open = begin.send(c).await?;
                let committed = open.commit(c).await?;
                Ok::<_, diesel::result::Error>(((), committed))
            })
            .await
        })
        .await;
    assert!(
        matches!(r, Err(diesel::result::Error::AlreadyInTransaction)),
        "{r:?}"
    );
    assert_eq!(stored(&mut conn).await, Vec::<i32>::new());
}

/// `db::events::with_event`: the write and its event are one statement, stored together or
/// not at all.
#[actix_web::test]
async fn a_write_and_its_event_are_stored_together_or_not_at_all() {
    use buyerpath::db::events::{with_event, NewEvent};
    use diesel::sql_types::Uuid as SqlUuid;
    let mut conn = connection().await;
    let tenant = uuid::Uuid::now_v7();
    let event = |n: i32| NewEvent {
        id: uuid::Uuid::now_v7(),
        tenant_id: tenant,
        event_type: "probe.created".into(),
        data: serde_json::json!({"schema_version": 1, "data": {"n": n}}),
    };
    let events = async |conn: &mut AsyncPgConnection| -> Vec<i32> {
        numbers(
            diesel::sql_query(
                "SELECT (data->'data'->>'n')::int AS n FROM events WHERE tenant_id = $1 \
                 ORDER BY seq",
            )
            .bind::<SqlUuid, _>(tenant)
            .load::<N>(conn)
            .await,
        )
    };
    let write = |n: i32| diesel::sql_query(format!("INSERT INTO tx_probe (n) VALUES ({n})"));

    let stored_rows = with_event(write(1), event(1))
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        stored_rows, 1,
        "the event's row (the write returns nothing)"
    );
    // A write that fails (the CHECK refuses 0) takes its event with it.
    let err = with_event(write(0), event(0))
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("check"), "{err}");
    assert_eq!(stored(&mut conn).await, [1]);
    assert_eq!(events(&mut conn).await, [1]);
}
