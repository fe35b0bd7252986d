//! `Idempotency-Key` on POST: replay, 422 for another request, 409 while the first runs.

use serde_json::{json, Value};

use crate::common::{Resp, TestApp};

async fn post_with_key(app: &TestApp, path: &str, token: &str, key: &str, body: Value) -> Resp {
    app.send(
        app.client
            .post(app.url(path))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&body),
    )
    .await
}

async fn count(app: &TestApp, token: &str, path: &str) -> usize {
    app.get(path, token).await.json["items"]
        .as_array()
        .unwrap()
        .len()
}

#[actix_web::test]
async fn a_repeated_post_is_replayed_not_repeated() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let key = "\"3f1c2a9e-8d7b-4c6a-9e5f-1a2b3c4d5e6f\"";
    let first = post_with_key(
        &app,
        "/v1/accounts",
        &admin,
        key,
        json!({"name": "Once Ltd"}),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert!(first.header("idempotent-replayed").is_none());
    let again = post_with_key(
        &app,
        "/v1/accounts",
        &admin,
        key,
        json!({"name": "Once Ltd"}),
    )
    .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.text, first.text);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("etag"), first.header("etag"));
    assert_eq!(again.header("content-type"), Some("application/json"));
    assert_eq!(count(&app, &admin, "/v1/accounts").await, 1);
    let events = crate::events::settled(&app, &admin, "/v1/events", 1).await;
    assert_eq!(
        events.json["items"].as_array().unwrap().len(),
        1,
        "one account.created"
    );

    // The same key with another body, or on another path, is 422 naming the header.
    let r = post_with_key(
        &app,
        "/v1/accounts",
        &admin,
        key,
        json!({"name": "Twice Ltd"}),
    )
    .await;
    assert_eq!(r.error_fields(), vec!["Idempotency-Key"]);
    let acc = first.id();
    let r = post_with_key(
        &app,
        &format!("/v1/accounts/{acc}/contacts"),
        &admin,
        key,
        json!({"name": "Once Ltd"}),
    )
    .await;
    assert_eq!(r.error_fields(), vec!["Idempotency-Key"]);
    assert_eq!(count(&app, &admin, "/v1/accounts").await, 1);

    // Keys are per user: another user's same key is a new request.
    let other = app.manager();
    let r = post_with_key(
        &app,
        "/v1/accounts",
        &other,
        key,
        json!({"name": "Once Ltd"}),
    )
    .await;
    assert_eq!(r.status, 201);
    assert!(r.header("idempotent-replayed").is_none());
    assert_eq!(count(&app, &admin, "/v1/accounts").await, 2);

    // A first answer that was an error is replayed too (nothing was stored the first time).
    let r1 = post_with_key(&app, "/v1/accounts", &admin, "bad-1", json!({"name": ""})).await;
    assert_eq!(r1.status, 422);
    let r2 = post_with_key(&app, "/v1/accounts", &admin, "bad-1", json!({"name": ""})).await;
    assert_eq!(r2.status, 422);
    assert_eq!(r2.header("idempotent-replayed"), Some("true"));

    // The same JSON with its members in another order and other white space is the same request.
    let raw = |body: &'static str| {
        app.client
            .post(app.url("/v1/accounts"))
            .bearer_auth(&admin)
            .header("idempotency-key", "order-1")
            .header("content-type", "application/json")
            .body(body)
    };
    let before = count(&app, &admin, "/v1/accounts").await;
    let r1 = app
        .send(raw(r#"{"name":"Order Ltd","region":"华东"}"#))
        .await;
    assert_eq!(r1.status, 201, "{}", r1.text);
    let r2 = app
        .send(raw("{ \"region\" : \"华东\",\n  \"name\": \"Order Ltd\" }"))
        .await;
    assert_eq!(r2.status, 201, "{}", r2.text);
    assert_eq!(r2.header("idempotent-replayed"), Some("true"));
    assert_eq!(r2.header("location"), r1.header("location"));
    assert_eq!(count(&app, &admin, "/v1/accounts").await, before + 1);

    // Malformed keys are 400; keys on other methods are ignored.
    for bad in ["\"unterminated", "has space", "\"\""] {
        let r = post_with_key(&app, "/v1/accounts", &admin, bad, json!({"name": "X"})).await;
        r.assert_problem(400, "bad_request");
    }
    let r = app
        .send(
            app.client
                .get(app.url("/v1/accounts"))
                .bearer_auth(&admin)
                .header("idempotency-key", "has space"),
        )
        .await;
    assert_eq!(r.status, 200);
    // Without a valid token the key changes nothing: 401.
    let r = post_with_key(&app, "/v1/accounts", "nope", "k-401", json!({"name": "X"})).await;
    r.assert_problem(401, "unauthenticated");
}

#[actix_web::test]
async fn a_repeat_while_the_first_runs_is_409_key_in_use() {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Busy Ltd").await;
    // Another session holds the account's lock, so the first request waits.
    let mut other = AsyncPgConnection::establish(&crate::common::database_url())
        .await
        .unwrap();
    other
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM accounts WHERE id = '{acc}' FOR UPDATE"
        ))
        .await
        .unwrap();
    let path = format!("/v1/accounts/{acc}/contacts");
    let first = {
        let client = app.client.clone();
        let url = app.url(&path);
        let admin = admin.clone();
        actix_web::rt::spawn(async move {
            client
                .post(url)
                .bearer_auth(admin)
                .header("idempotency-key", "busy-1")
                .json(&json!({"name": "王工"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
    let r = post_with_key(&app, &path, &admin, "busy-1", json!({"name": "王工"})).await;
    r.assert_problem(409, "idempotency_key_in_use");
    assert_eq!(r.header("retry-after"), Some("1"));
    other.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(first.await.unwrap(), 201);
    let r = post_with_key(&app, &path, &admin, "busy-1", json!({"name": "王工"})).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("idempotent-replayed"), Some("true"));
    assert_eq!(count(&app, &admin, &path).await, 1);
}

#[actix_web::test]
async fn the_workbook_import_honours_the_key() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Import Ltd").await;
    let record = app
        .post(
            &format!("/v1/accounts/{acc}/survey-records"),
            &admin,
            json!({"surveyed_at": "2026-11-20T09:30:00Z", "surveyor": "rita", "sections": {}}),
        )
        .await;
    assert_eq!(record.status, 201, "{}", record.text);
    let bytes = app
        .client
        .get(app.url(&format!("/v1/survey-records/{}/export.xlsx", record.id())))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let path = format!("/v1/accounts/{acc}/survey-records/import");
    let send = |bytes: Vec<u8>| {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes)
                .file_name("survey.xlsx")
                .mime_str("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                .unwrap(),
        );
        app.client
            .post(app.url(&path))
            .bearer_auth(&admin)
            .header("idempotency-key", "import-1")
            .multipart(form)
    };
    let first = app.send(send(bytes.clone())).await;
    assert_eq!(first.status, 201, "{}", first.text);
    // Each request has its own multipart boundary; the key still matches.
    let again = app.send(send(bytes)).await;
    assert_eq!(again.status, first.status, "{}", again.text);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.text, first.text);
    let listed = count(&app, &admin, &format!("/v1/accounts/{acc}/survey-records")).await;
    assert_eq!(listed, 2, "the original and one import");
}
