//! Rows that create resources go in together (one statement a chunk), yet each row answers for
//! itself as if written alone: its own checks, its own report line, its own event; a batch the
//! database refuses is written again row by row.

use serde_json::{json, Value};

use crate::common::TestApp;
use crate::imports::{import, report, worker};

const ACCOUNTS: &str = "Id,Name,Industry\n\
A01,华东电力设计院,Energy\n\
A02,Acme,Manufacturing\n\
A04,已关闭客户,Retail\n";

async fn account_id(app: &TestApp, token: &str, reference: &str) -> String {
    let r = app
        .get(&format!("/v1/accounts?external_ref={reference}"), token)
        .await;
    r.json["items"][0]["id"].as_str().unwrap().to_string()
}

async fn contacts_of(app: &TestApp, token: &str, account: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/v1/accounts/{account}/contacts"), token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["items"].as_array().unwrap().clone()
}

fn named<'a>(people: &'a [Value], name: &str) -> &'a Value {
    people
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {people:?}"))
}

/// The report line of the row with `external_id` (the last one when it appears twice).
fn line_of<'a>(lines: &'a [Vec<String>], external_id: &str) -> &'a Vec<String> {
    lines
        .iter()
        .rev()
        .find(|l| l[3] == external_id)
        .unwrap_or_else(|| panic!("{external_id} in {lines:?}"))
}

#[actix_web::test]
async fn new_rows_go_in_together_yet_each_answers_for_itself() {
    let app = TestApp::spawn().await;
    let _worker = worker();
    let admin = app.admin();
    let job = import(
        &app,
        &admin,
        "resource=accounts&source=salesforce",
        ACCOUNTS,
    )
    .await;
    assert_eq!(job["created"], 3, "{job}");
    let a01 = account_id(&app, &admin, "salesforce:A01").await;
    let a02 = account_id(&app, &admin, "salesforce:A02").await;
    let a04 = account_id(&app, &admin, "salesforce:A04").await;
    let r = app
        .delete(&format!("/v1/accounts/{a04}"), &admin, None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    // One contact is there before the import (its row updates it).
    let r = app
        .put(
            "/v1/contacts/by-ref/salesforce/C09",
            &admin,
            json!({"account_ref": "A01", "name": "赵六", "title": "旧职位"}),
            None,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let contacts = "Id,AccountId,FirstName,LastName,Title,Email,ReportsToId\n\
        C01,A01,建国,王,工程师,,C02\n\
        C02,A01,明,李,信息中心主任,li@example.cn,\n\
        C03,A01,芳,张,,,C02\n\
        C04,A02,Ada,Lovelace,,,C02\n\
        C05,A04,关,闭,,,\n\
        C08,A02,Ada,Byron,,,\n\
        C09,A01,六,赵,新职位,,\n\
        C07,NONE,无,名,,,\n\
        C08,A02,Ada,King,Countess,,\n\
        C10,A01,十,钱,,,C09\n";
    let job = import(
        &app,
        &admin,
        "resource=contacts&source=salesforce",
        contacts,
    )
    .await;
    assert_eq!(
        (
            job["created"].as_i64(),
            job["updated"].as_i64(),
            job["failed_rows"].as_i64()
        ),
        (Some(5), Some(2), Some(3)),
        "{job}"
    );
    let lines = report(&app, &admin, &job).await;
    let status = |id: &str| line_of(&lines, id)[1].clone();
    assert_eq!(
        ["C01", "C02", "C03", "C09"].map(status),
        ["created", "created", "created", "updated"],
        "{lines:?}"
    );
    assert_eq!(
        lines[5][1], "created",
        "the first C08 creates it: {lines:?}"
    );
    assert_eq!(
        lines[8][1], "updated",
        "the second C08 updates it: {lines:?}"
    );
    // Each refused row is named by its column, as if written alone.
    assert!(
        line_of(&lines, "C04")[4].starts_with("ReportsToId: not_in_account"),
        "{lines:?}"
    );
    assert!(line_of(&lines, "C05")[4].contains("archived"), "{lines:?}");
    assert!(
        line_of(&lines, "C07")[4].starts_with("AccountId: not_found"),
        "{lines:?}"
    );
    let people = contacts_of(&app, &admin, &a01).await;
    let li = named(&people, "李明")["id"].clone();
    assert_eq!(
        named(&people, "王建国")["reports_to"],
        li,
        "a manager later in the file"
    );
    assert_eq!(
        named(&people, "张芳")["reports_to"],
        li,
        "a manager earlier in the chunk"
    );
    assert_eq!(named(&people, "赵六")["title"], "新职位");
    assert_eq!(
        named(&people, "钱十")["reports_to"],
        named(&people, "赵六")["id"],
        "a manager there before the import"
    );
    let acme = contacts_of(&app, &admin, &a02).await;
    assert_eq!(acme.len(), 1, "{acme:?}");
    assert_eq!(acme[0]["title"], "Countess");
    assert!(contacts_of(&app, &admin, &a04).await.is_empty());
    // One `contact.created` event per created contact, carrying it as GET showed it then.
    let events = app
        .get("/v1/events?types=contact.created&limit=100", &admin)
        .await;
    let created: Vec<&Value> = events.json["items"].as_array().unwrap().iter().collect();
    assert_eq!(created.len(), 6, "5 imported and 1 before: {}", events.text);
    let li_event = created
        .iter()
        .find(|e| e["data"]["id"] == li)
        .expect("李明's event");
    assert_eq!(li_event["data"]["version"], 1);
    assert_eq!(li_event["data"]["object"]["name"], "李明");
    assert_eq!(li_event["data"]["object"]["email"], "li@example.cn");
    assert_eq!(
        li_event["data"]["object"]["external_refs"],
        json!([{"system": "salesforce", "id": "C02"}])
    );
}

#[actix_web::test]
async fn a_batch_the_database_refuses_is_written_again_row_by_row() {
    let app = TestApp::spawn().await;
    let _worker = worker();
    let admin = app.admin();
    import(
        &app,
        &admin,
        "resource=accounts&source=salesforce",
        ACCOUNTS,
    )
    .await;
    // C06's e-mail is refused by the checks of a create, after the row was read; C12 reports
    // to it, so inserting the others together breaks the manager's key and the batch is
    // refused whole: row by row, C06 is an error and C12 goes in without a manager.
    let contacts = "Id,AccountId,FirstName,LastName,Email,ReportsToId\n\
        C06,A01,坏,邮件,not-an-email,\n\
        C12,A01,下,属,,C06\n\
        C13,A02,其,他,,\n";
    let job = import(
        &app,
        &admin,
        "resource=contacts&source=salesforce",
        contacts,
    )
    .await;
    let lines = report(&app, &admin, &job).await;
    // C12 goes in, and its row is an error for the manager nobody holds (as a row whose
    // manager is missing always is).
    assert_eq!(
        (job["created"].as_i64(), job["failed_rows"].as_i64()),
        (Some(1), Some(2)),
        "{job} {lines:?}"
    );
    assert_eq!(lines.len(), 3, "one line a row: {lines:?}");
    assert!(
        lines[0][4].starts_with("Email: invalid_format"),
        "{lines:?}"
    );
    assert_eq!(lines[1][1], "error", "{lines:?}");
    assert!(
        lines[1][4].starts_with("ReportsToId: not_found"),
        "{lines:?}"
    );
    assert_eq!(lines[2][1], "created", "{lines:?}");
    let a01 = account_id(&app, &admin, "salesforce:A01").await;
    let people = contacts_of(&app, &admin, &a01).await;
    assert_eq!(people.len(), 1, "{people:?}");
    assert_eq!(people[0]["reports_to"], Value::Null);
    let events = app
        .get("/v1/events?types=contact.created&limit=100", &admin)
        .await;
    assert_eq!(
        events.json["items"].as_array().unwrap().len(),
        2,
        "{}",
        events.text
    );
}

/// The job's file parts still stored for the test's tenant.
async fn stored_parts(tenant: uuid::Uuid) -> i64 {
    use diesel::prelude::*;
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut db = AsyncPgConnection::establish(&crate::common::database_url())
        .await
        .unwrap();
    let c: Count =
        diesel::sql_query("SELECT count(*) AS n FROM import_file_parts WHERE tenant_id = $1")
            .bind::<diesel::sql_types::Uuid, _>(tenant)
            .get_result(&mut db)
            .await
            .unwrap();
    c.n
}

#[actix_web::test]
async fn a_file_of_several_parts_is_read_whole_and_dropped_when_its_job_ends() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    // 2.5 MiB: three parts of the stored file, rows straddling their ends.
    let mut csv = String::from("Id,Name,Description\n");
    let mut n = 0;
    while csv.len() < 5 << 19 {
        csv.push_str(&format!("P{n:06},客户 {n},\"{}\"\n", "长".repeat(60)));
        n += 1;
    }
    let queued = crate::imports::upload(
        &app,
        &admin,
        "resource=accounts&source=salesforce",
        "text/csv",
        csv.clone().into_bytes(),
    )
    .await;
    assert_eq!(queued.status, 202, "{}", queued.text);
    // Cancelled (while queued, unless another test's worker took it up first): its file goes
    // once it has ended.
    let location = queued.header("location").unwrap().to_string();
    let id = queued.json["id"].as_str().unwrap();
    let r = app
        .post(&format!("/v1/imports/{id}/cancel"), &admin, json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    crate::imports::finished(&app, &admin, &location).await;
    assert_eq!(stored_parts(app.tenant).await, 0);
    let _worker = worker();
    let job = import(&app, &admin, "resource=accounts&source=salesforce", &csv).await;
    // (Rows the cancelled job wrote, if another test's worker ran it before the cancel, are
    // unchanged now.)
    assert_eq!(
        (
            job["status"].as_str(),
            job["created"].as_i64().unwrap() + job["unchanged"].as_i64().unwrap(),
            job["failed_rows"].as_i64()
        ),
        (Some("succeeded"), n, Some(0)),
        "{job}"
    );
    assert_eq!(stored_parts(app.tenant).await, 0, "dropped at the end");
    // The report is streamed a page of 5,000 lines at a time: every line once, in order.
    let lines = report(&app, &admin, &job).await;
    assert!(n > 10_000, "{n}");
    assert_eq!(lines.len() as i64, n);
    assert!(lines
        .iter()
        .enumerate()
        .all(|(i, l)| l[0] == (i + 1).to_string()));
    let last = app
        .get(
            &format!("/v1/accounts?external_ref=salesforce:P{:06}", n - 1),
            &admin,
        )
        .await;
    assert_eq!(last.json["items"][0]["name"], format!("客户 {}", n - 1));
}
