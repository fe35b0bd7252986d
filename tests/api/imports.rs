//! CSV imports: jobs over HTTP, run by the import worker; references make a second import
//! change nothing.

use serde_json::{json, Value};

use crate::common::{database_url, Resp, TestApp};

/// Starts an import worker in this test process (it runs any tenant's jobs).
pub(crate) fn worker() -> tokio::sync::watch::Sender<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    actix_web::rt::spawn(buyerpath::import_worker::run(database_url(), rx));
    tx
}

pub(crate) async fn upload(
    app: &TestApp,
    token: &str,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Resp {
    app.send(
        app.client
            .post(app.url(&format!("/v1/imports?{query}")))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body),
    )
    .await
}

/// Waits for the job to end; the job.
pub(crate) async fn finished(app: &TestApp, token: &str, location: &str) -> Value {
    for _ in 0..300 {
        let r = app.get(location, token).await;
        assert_eq!(r.status, 200, "{}", r.text);
        if ["succeeded", "failed", "cancelled"].contains(&r.json["status"].as_str().unwrap_or("")) {
            return r.json;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the job did not end");
}

pub(crate) async fn import(app: &TestApp, token: &str, query: &str, csv: &str) -> Value {
    let r = upload(app, token, query, "text/csv", csv.as_bytes().to_vec()).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let location = r.header("location").unwrap().to_string();
    finished(app, token, &location).await
}

pub(crate) async fn report(app: &TestApp, token: &str, job: &Value) -> Vec<Vec<String>> {
    let r = app
        .get(
            &format!(
                "/v1/imports/{}/report.csv?lang=en",
                job["id"].as_str().unwrap()
            ),
            token,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let text = r.text.trim_start_matches('\u{feff}');
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

pub(crate) const SF_ACCOUNTS: &str = "Id,Name,Industry,Website,Phone,BillingStreet,BillingCity,BillingState,BillingCountry,ParentId,OwnerId\n\
0015g00000AAA01,华东电力设计院,Energy,https://ecepdi.example.cn,021-1234,\"上海市\n武宁路 409 号\",上海,上海,中国,,0055g000001\n\
0015g00000AAA02,\"Acme, Inc.\",Manufacturing,,,,Boston,MA,USA,,0055g000001\n\
0015g00000AAA03,,Retail,,,,,,,,\n";

#[actix_web::test]
async fn a_salesforce_account_export_goes_in_once_and_again_changes_nothing() {
    let app = TestApp::spawn().await;
    let _worker = worker();
    let manager = app.manager();
    let job = import(
        &app,
        &manager,
        "resource=accounts&source=salesforce",
        SF_ACCOUNTS,
    )
    .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        (job["total_rows"].as_i64(), job["processed_rows"].as_i64()),
        (Some(3), Some(3))
    );
    assert_eq!(
        (job["created"].as_i64(), job["failed_rows"].as_i64()),
        (Some(2), Some(1)),
        "{job}"
    );
    assert_eq!(
        job["ignored_columns"],
        json!([
            "Phone",
            "BillingStreet",
            "BillingCountry",
            "ParentId",
            "OwnerId"
        ])
    );
    let found = app
        .get(
            "/v1/accounts?external_ref=salesforce:0015g00000AAA01",
            &manager,
        )
        .await;
    let acc = &found.json["items"][0];
    assert_eq!(acc["name"], "华东电力设计院", "{}", found.text);
    assert_eq!(
        (acc["industry"].as_str(), acc["region"].as_str()),
        (Some("Energy"), Some("上海"))
    );
    assert_eq!(acc["owner"], "manager-user");
    let lines = report(&app, &manager, &job).await;
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0][..2], ["1", "created"]);
    assert_eq!(lines[0][2], acc["id"].as_str().unwrap());
    assert_eq!(lines[0][3], "0015g00000AAA01");
    assert_eq!(lines[2][..2], ["3", "error"]);
    assert!(
        lines[2][4].starts_with("Name: required: "),
        "{:?}",
        lines[2]
    );
    let events = crate::events::settled(&app, &manager, "/v1/events?types=account.*", 2).await;
    assert_eq!(
        events.json["items"].as_array().unwrap().len(),
        2,
        "every write publishes"
    );

    let again = import(
        &app,
        &manager,
        "resource=accounts&source=salesforce",
        SF_ACCOUNTS,
    )
    .await;
    assert_eq!(
        (
            again["created"].as_i64(),
            again["updated"].as_i64(),
            again["unchanged"].as_i64()
        ),
        (Some(0), Some(0), Some(2)),
        "{again}"
    );
    let list = app.get("/v1/accounts", &manager).await;
    assert_eq!(
        list.json["items"].as_array().unwrap().len(),
        2,
        "no duplicates"
    );
    let changed = SF_ACCOUNTS.replace("Manufacturing", "Aerospace");
    let third = import(
        &app,
        &manager,
        "resource=accounts&source=salesforce",
        &changed,
    )
    .await;
    assert_eq!(
        (third["updated"].as_i64(), third["unchanged"].as_i64()),
        (Some(1), Some(1)),
        "{third}"
    );
}

#[actix_web::test]
async fn contacts_find_their_accounts_and_managers_later_in_the_file_in_gb18030() {
    let app = TestApp::spawn().await;
    let _worker = worker();
    let admin = app.admin();
    import(
        &app,
        &admin,
        "resource=accounts&source=salesforce",
        SF_ACCOUNTS,
    )
    .await;
    let contacts = "Id;AccountId;FirstName;LastName;Title;Email;Phone;ReportsToId\r\n\
                    0035g00000C01;0015g00000AAA01;建国;王;工程师;wang@example.cn;138 0000 0001;0035g00000C02\r\n\
                    0035g00000C02;0015g00000AAA01;明;李;信息中心主任;li@example.cn;;\r\n\
                    0035g00000C03;0015g00000NONE;Ada;Lovelace;;;;\r\n";
    let (bytes, _, _) = encoding_rs::GB18030.encode(contacts);
    let r = upload(
        &app,
        &admin,
        "resource=contacts&source=salesforce",
        "text/csv",
        bytes.to_vec(),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let job = finished(&app, &admin, r.header("location").unwrap()).await;
    assert_eq!(
        (job["created"].as_i64(), job["failed_rows"].as_i64()),
        (Some(2), Some(1)),
        "{job}"
    );
    let wang = app
        .get(
            "/v1/accounts?external_ref=salesforce:0015g00000AAA01",
            &admin,
        )
        .await;
    let account = wang.json["items"][0]["id"].as_str().unwrap().to_string();
    let people = app
        .get(&format!("/v1/accounts/{account}/contacts"), &admin)
        .await;
    let items = people.json["items"].as_array().unwrap();
    let by_name = |n: &str| {
        items
            .iter()
            .find(|c| c["name"] == n)
            .unwrap_or_else(|| panic!("{n} in {}", people.text))
    };
    assert_eq!(
        by_name("王建国")["reports_to"],
        by_name("李明")["id"],
        "the manager came later in the file"
    );
    assert_eq!(by_name("李明")["title"], "信息中心主任");
    let lines = report(&app, &admin, &job).await;
    assert_eq!(lines[2][1], "error");
    assert!(
        lines[2][4].starts_with("AccountId: not_found"),
        "{:?}",
        lines[2]
    );
}

#[actix_web::test]
async fn a_dry_run_lists_unmapped_stages_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let _worker = worker();
    let admin = app.admin();
    import(
        &app,
        &admin,
        "resource=accounts&source=salesforce",
        SF_ACCOUNTS,
    )
    .await;
    let opps = "Id,AccountId,Name,StageName,Amount,CloseDate,Probability\n\
                0065g00000O01,0015g00000AAA01,网络改造,Needs Analysis,\"1,200,000.50\",2027/03/31,20\n\
                0065g00000O02,0015g00000AAA01,机房扩容,Proposal/Price Quote,300000,2027-06-30,50\n\
                0065g00000O03,0015g00000AAA02,Ops,Needs Analysis,10,2027-06-30,50\n";
    let dry = import(
        &app,
        &admin,
        "resource=opportunities&source=salesforce&dry_run=true",
        opps,
    )
    .await;
    assert_eq!(dry["status"], "succeeded", "{dry}");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["failed_rows"], 3);
    assert_eq!(
        dry["unmapped_values"],
        json!(["Needs Analysis", "Proposal/Price Quote"])
    );
    let none = app.get("/v1/opportunities", &admin).await;
    assert_eq!(none.json["items"], json!([]));

    let mapped = app
        .patch(
            "/v1/settings",
            &admin,
            json!({"stage_mappings": {"salesforce": {"Needs Analysis": "S2", "Proposal/Price Quote": "S3"}}}),
            None,
        )
        .await;
    assert_eq!(mapped.status, 200, "{}", mapped.text);
    let dry = import(
        &app,
        &admin,
        "resource=opportunities&source=salesforce&dry_run=true",
        opps,
    )
    .await;
    assert_eq!(
        (dry["created"].as_i64(), dry["failed_rows"].as_i64()),
        (Some(3), Some(0)),
        "{dry}"
    );
    assert_eq!(
        app.get("/v1/opportunities", &admin).await.json["items"],
        json!([]),
        "a dry run stores nothing"
    );
    let events = app.get("/v1/events?types=opportunity.*", &admin).await;
    assert_eq!(events.json["items"], json!([]), "nor publishes");

    let real = import(
        &app,
        &admin,
        "resource=opportunities&source=salesforce",
        opps,
    )
    .await;
    assert_eq!(real["created"], 3, "{real}");
    let o = app
        .get(
            "/v1/opportunities?external_ref=salesforce:0065g00000O01",
            &admin,
        )
        .await;
    let o = &o.json["items"][0];
    assert_eq!(
        (
            o["current_stage"].as_str(),
            o["estimated_amount"].as_str(),
            o["currency"].as_str(),
            o["deadline"].as_str()
        ),
        (
            Some("S2"),
            Some("1200000.50"),
            Some("CNY"),
            Some("2027-03-31")
        ),
        "{o}"
    );
}

#[actix_web::test]
async fn imports_are_for_managers_one_at_a_time_and_files_are_checked_first() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let rep = upload(
        &app,
        &app.rep("rep-1"),
        "resource=accounts&source=salesforce",
        "text/csv",
        SF_ACCOUNTS.into(),
    )
    .await;
    rep.assert_problem(403, "forbidden");
    let viewer = app.get("/v1/imports", &app.viewer()).await;
    viewer.assert_problem(403, "forbidden");
    let no_id = upload(
        &app,
        &admin,
        "resource=accounts&source=salesforce",
        "text/csv",
        b"Name,Industry\nA,B\n".to_vec(),
    )
    .await;
    assert_eq!(no_id.error_fields(), ["file"]);
    assert_eq!(no_id.json["errors"][0]["code"], "missing_column");
    let empty = upload(
        &app,
        &admin,
        "resource=accounts&source=salesforce",
        "text/csv",
        Vec::new(),
    )
    .await;
    assert_eq!(empty.error_fields(), ["file"]);
    let wrong = upload(
        &app,
        &admin,
        "resource=accounts&source=salesforce",
        "application/json",
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(wrong.status, 415, "{}", wrong.text);
    let bad = upload(
        &app,
        &admin,
        "resource=robots&source=salesforce",
        "text/csv",
        SF_ACCOUNTS.into(),
    )
    .await;
    assert!(bad.status == 400 || bad.status == 422, "{}", bad.text);

    // While one job is queued or running (long enough to still be, whichever worker of the
    // test process takes it), a second is refused.
    let first = upload(
        &app,
        &admin,
        "resource=accounts&source=salesforce",
        "text/csv",
        many_accounts(3000).into(),
    )
    .await;
    assert_eq!(
        (first.status, first.json["status"].as_str()),
        (202, Some("queued")),
        "{}",
        first.text
    );
    let second = upload(
        &app,
        &admin,
        "resource=accounts&source=hubspot",
        "text/csv",
        b"Record ID,Company name\n1,X\n".to_vec(),
    )
    .await;
    second.assert_problem(409, "conflict");
    let other = upload(
        &app,
        &app.other_tenant(buyerpath::auth::Role::Admin),
        "resource=accounts&source=salesforce",
        "text/csv",
        b"Id,Name\nx,y\n".to_vec(),
    )
    .await;
    assert_eq!(
        other.status, 202,
        "another tenant has its own queue: {}",
        other.text
    );
    let id = first.json["id"].as_str().unwrap();
    let hidden = app
        .get(
            &format!("/v1/imports/{id}"),
            &app.other_tenant(buyerpath::auth::Role::Admin),
        )
        .await;
    hidden.assert_problem(404, "not_found");
    let cancelled = app
        .post(&format!("/v1/imports/{id}/cancel"), &admin, json!({}))
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    let ended = finished(&app, &admin, &format!("/v1/imports/{id}")).await;
    assert_eq!(ended["status"], "cancelled", "{ended}");
    let list = app.get("/v1/imports", &admin).await;
    assert_eq!(list.json["items"][0]["id"], id);
    let next = upload(
        &app,
        &admin,
        "resource=accounts&source=hubspot",
        "text/csv",
        b"Record ID,Company name\n1,X\n".to_vec(),
    )
    .await;
    assert_eq!(next.status, 202, "{}", next.text);
    let other_id = other.json["id"].as_str().unwrap();
    app.post(
        &format!("/v1/imports/{other_id}/cancel"),
        &app.other_tenant(buyerpath::auth::Role::Admin),
        json!({}),
    )
    .await;
    let next_id = next.json["id"].as_str().unwrap();
    app.post(&format!("/v1/imports/{next_id}/cancel"), &admin, json!({}))
        .await;
}

fn many_accounts(n: usize) -> String {
    let mut csv = String::from("Id,Name,Industry\n");
    for i in 0..n {
        csv.push_str(&format!("001BULK{i:07},客户 {i},Energy\n"));
    }
    csv
}

#[actix_web::test]
async fn a_job_whose_worker_dies_is_resumed_without_duplicates() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let first = actix_web::rt::spawn(buyerpath::import_worker::run(database_url(), rx));
    let r = upload(
        &app,
        &admin,
        "resource=accounts&source=salesforce",
        "text/csv",
        many_accounts(1500).into(),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let location = r.header("location").unwrap().to_string();
    for _ in 0..600 {
        let j = app.get(&location, &admin).await;
        if j.json["processed_rows"].as_i64().unwrap_or(0) > 0 {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The worker dies mid-job: its connections, and the job's lock with them, go away.
    first.abort();
    let _ = first.await;
    let stopped = app.get(&location, &admin).await;
    let done_before = stopped.json["processed_rows"].as_i64().unwrap();
    assert!(
        done_before < 1500,
        "the job was interrupted: {}",
        stopped.text
    );
    let _second = worker();
    let job = finished(&app, &admin, &location).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["processed_rows"], 1500);
    let written = job["created"].as_i64().unwrap() + job["unchanged"].as_i64().unwrap();
    assert_eq!(written, 1500, "{job}");
    let mut count = 0;
    let mut cursor = String::new();
    loop {
        let page = app
            .get(&format!("/v1/accounts?limit=200&cursor={cursor}"), &admin)
            .await;
        count += page.json["items"].as_array().unwrap().len();
        match page.json["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert_eq!(count, 1500, "no account twice");
    assert_eq!(report(&app, &admin, &job).await.len(), 1500);
}

#[actix_web::test]
async fn a_job_that_cannot_run_fails_once_instead_of_retrying_forever() {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let app = TestApp::spawn().await;
    let admin = app.admin();
    // Settings a newer binary wrote: this one cannot read them, so the job cannot run.
    app.patch(
        "/v1/settings",
        &admin,
        json!({"stale_contact_days": 30}),
        None,
    )
    .await;
    let mut db = AsyncPgConnection::establish(&database_url()).await.unwrap();
    db.batch_execute(&format!(
        "UPDATE tenant_settings SET import_mappings = '{{\"schema_version\": 99}}' WHERE tenant_id = '{}'",
        app.tenant
    ))
    .await
    .unwrap();
    let _worker = worker();
    let r = upload(
        &app,
        &admin,
        "resource=accounts&source=salesforce",
        "text/csv",
        SF_ACCOUNTS.into(),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let job = finished(&app, &admin, r.header("location").unwrap()).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert!(
        job["error"].as_str().unwrap().contains("internal error"),
        "{job}"
    );
    let next = upload(
        &app,
        &admin,
        "resource=accounts&source=salesforce",
        "text/csv",
        SF_ACCOUNTS.into(),
    )
    .await;
    assert_eq!(
        next.status, 202,
        "the tenant may import again: {}",
        next.text
    );
    app.post(
        &format!("/v1/imports/{}/cancel", next.json["id"].as_str().unwrap()),
        &admin,
        json!({}),
    )
    .await;
}
