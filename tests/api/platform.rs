//! Cross-cutting behaviour: health, OpenAPI, 404/405, request ids, CORS, metrics, 503.

use serde_json::{json, Value};

use crate::common::{config_with, TestApp};

#[actix_web::test]
async fn health_endpoints_need_no_token() {
    let app = TestApp::spawn().await;
    let r = app.send(app.client.get(app.url("/healthz"))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["status"], "ok");
    let r = app.send(app.client.get(app.url("/readyz"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["status"], "ready");
    assert!(r.json["migrations_applied"].as_u64().unwrap() >= 1);
}

#[actix_web::test]
async fn database_down_is_503_with_retry_after() {
    let mut config = config_with(&[("BUYERPATH_DB_POOL_TIMEOUT_MS", "300")]);
    let url = "postgres://nobody@localhost:1/nothing?host=/nonexistent-socket-dir";
    config.database_url = Some(url.to_string());
    let keys = buyerpath::server::jwt_keys(&config).unwrap().0;
    let app = TestApp::spawn_config(config, keys, url).await;
    let r = app.get("/v1/accounts", &app.admin()).await;
    r.assert_problem(503, "unavailable");
    assert!(r.header("retry-after").is_some());
    assert!(
        !r.text.contains("nonexistent"),
        "no internals leak: {}",
        r.text
    );
    let r = app.send(app.client.get(app.url("/readyz"))).await;
    r.assert_problem(503, "unavailable");
    let r = app.send(app.client.get(app.url("/healthz"))).await;
    assert_eq!(r.status, 200, "liveness does not depend on the database");
}

#[actix_web::test]
async fn unknown_routes_and_wrong_methods() {
    let app = TestApp::spawn().await;
    let r = app.send(app.client.get(app.url("/v1/nothing-here"))).await;
    r.assert_problem(404, "not_found");
    let r = app.send(app.client.put(app.url("/v1/accounts"))).await;
    r.assert_problem(405, "method_not_allowed");
    assert_eq!(r.header("allow"), Some("GET, POST"));
    let r = app
        .send(
            app.client
                .post(app.url(&format!("/v1/accounts/{}", uuid::Uuid::now_v7()))),
        )
        .await;
    r.assert_problem(405, "method_not_allowed");
    assert_eq!(r.header("allow"), Some("DELETE, GET, PATCH"));
    let r = app.send(app.client.delete(app.url("/healthz"))).await;
    r.assert_problem(405, "method_not_allowed");
    // A static path is not swallowed by the pattern next to it.
    let r = app
        .send(
            app.client
                .patch(app.url("/v1/survey-records/template.xlsx"))
                .bearer_auth(app.admin()),
        )
        .await;
    r.assert_problem(405, "method_not_allowed");
    assert_eq!(r.header("allow"), Some("GET"));
}

#[actix_web::test]
async fn request_ids_are_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let r = app
        .send(
            app.client
                .get(app.url("/healthz"))
                .header("x-request-id", "abc-123"),
        )
        .await;
    assert_eq!(r.header("x-request-id"), Some("abc-123"));
    let r = app.send(app.client.get(app.url("/healthz"))).await;
    let generated = r.header("x-request-id").unwrap();
    assert!(uuid::Uuid::parse_str(generated).is_ok());
    let r = app
        .send(
            app.client
                .get(app.url("/healthz"))
                .header("x-request-id", "bad id with spaces"),
        )
        .await;
    assert_ne!(r.header("x-request-id"), Some("bad id with spaces"));
    let r = app.send(app.client.get(app.url("/v1/accounts"))).await;
    assert!(r.header("x-request-id").is_some(), "errors carry it too");
}

#[actix_web::test]
async fn cors_preflight_and_exposed_headers() {
    let app = TestApp::spawn_with(&[("BUYERPATH_CORS_ORIGINS", "https://crm.example.com")]).await;
    let r = app
        .send(
            app.client
                .request(reqwest::Method::OPTIONS, app.url("/v1/accounts"))
                .header("origin", "https://crm.example.com")
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "authorization, content-type, if-match",
                ),
        )
        .await;
    assert_eq!(r.status, 200, "preflight needs no token: {}", r.text);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://crm.example.com")
    );
    let r = app
        .send(
            app.client
                .post(app.url("/v1/accounts"))
                .bearer_auth(app.admin())
                .header("origin", "https://crm.example.com")
                .json(&json!({"name": "From the CRM"})),
        )
        .await;
    assert_eq!(r.status, 201);
    let exposed = r
        .header("access-control-expose-headers")
        .unwrap()
        .to_lowercase();
    assert!(
        exposed.contains("etag") && exposed.contains("location"),
        "{exposed}"
    );
    let r = app
        .send(
            app.client
                .request(reqwest::Method::OPTIONS, app.url("/v1/accounts"))
                .header("origin", "https://evil.example.com")
                .header("access-control-request-method", "POST"),
        )
        .await;
    assert!(r.header("access-control-allow-origin").is_none());
    assert_eq!(
        r.header("content-type"),
        Some("application/problem+json"),
        "{}",
        r.text
    );
}

#[actix_web::test]
async fn metrics_mask_unknown_paths() {
    let app = TestApp::spawn().await;
    for i in 0..3 {
        app.send(app.client.get(app.url(&format!("/random/{i}"))))
            .await;
    }
    app.send(app.client.get(app.url("/healthz"))).await;
    let r = app.send(app.client.get(app.url("/metrics"))).await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("buyerpath_http_requests_total"));
    assert!(r.text.contains("endpoint=\"/healthz\""));
    assert!(r.text.contains("UNKNOWN"));
    assert!(!r.text.contains("/random/1"), "404 paths are masked");
}

fn committed_spec() -> Value {
    let path = format!("{}/openapi/openapi.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[actix_web::test]
async fn served_spec_matches_the_committed_one() {
    let app = TestApp::spawn().await;
    let served = app.send(app.client.get(app.url("/openapi.json"))).await;
    assert_eq!(served.status, 200);
    let generated = serde_json::to_value(buyerpath::api::openapi()).unwrap();
    assert_eq!(
        served.json, generated,
        "served spec differs from api::openapi()"
    );
    assert!(
        committed_spec() == generated,
        "openapi/openapi.json is stale; regenerate it with:\n    cargo run -q -- openapi > openapi/openapi.json"
    );
    // Served with an ETag of its bytes: a client polling it gets a 304 while it is the same.
    let etag = served.header("etag").expect("an ETag").to_string();
    let again = app
        .send(
            app.client
                .get(app.url("/openapi.json"))
                .header("if-none-match", etag.as_str()),
        )
        .await;
    assert_eq!(again.status, 304);
}

#[actix_web::test]
async fn every_documented_operation_is_routed_and_complete() {
    let app = TestApp::spawn().await;
    let spec = serde_json::to_value(buyerpath::api::openapi()).unwrap();
    let mut count = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(!id.is_empty(), "{method} {path} lacks an operationId");
            assert!(op["summary"].is_string(), "{id} lacks a summary");
            assert!(
                op["description"]
                    .as_str()
                    .is_some_and(|d| !d.trim().is_empty()),
                "{id} lacks a description"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{id} lacks a tag"
            );
            assert!(
                op["security"].is_array(),
                "{id} lacks a security requirement"
            );
            for (status, resp) in op["responses"].as_object().unwrap() {
                assert!(
                    resp["description"].is_string(),
                    "{id} {status} lacks a description"
                );
            }
            // Every path parameter gets a well-formed value, so only the token is missing.
            let mut concrete = path.replace("{version}", "1").replace("{code}", "S2");
            while let Some(start) = concrete.find('{') {
                let end = concrete[start..].find('}').unwrap() + start;
                concrete.replace_range(start..=end, &uuid::Uuid::now_v7().to_string());
            }
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app.send(app.client.request(m, app.url(&concrete))).await;
            let public = op["security"] == json!([{}]);
            if public {
                assert!(r.status == 200 || r.status == 503, "{id}: {}", r.status);
            } else {
                assert_eq!(r.status, 401, "{id} must be routed and require a token");
                assert!(op["responses"]["401"].is_object(), "{id} documents 401");
            }
        }
    }
    assert!(count >= 40, "{count} operations");
    // Schema names are unique: the error document is not shadowed by a same-named type.
    let problem = &spec["components"]["schemas"]["Problem"];
    assert_eq!(
        problem["required"],
        json!(["type", "title", "status", "detail", "code"]),
        "{problem}"
    );
    let docs = app.send(app.client.get(app.url("/docs/"))).await;
    assert_eq!(docs.status, 200);
    assert!(
        docs.text.contains("swagger"),
        "Swagger UI is served offline"
    );
    let redirect = app.send(app.client.get(app.url("/docs"))).await;
    assert!(redirect.status == 307 || redirect.status == 308 || redirect.status == 301);
}

#[actix_web::test]
async fn a_locked_row_answers_503_instead_of_hanging() {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let app = TestApp::spawn_with(&[("BUYERPATH_DB_STATEMENT_TIMEOUT_MS", "300")]).await;
    let admin = app.admin();
    let id = app.account(&admin, "Locked").await;
    // Another session holds the row lock.
    let mut other = AsyncPgConnection::establish(&crate::common::database_url())
        .await
        .unwrap();
    other
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM accounts WHERE id = '{id}' FOR UPDATE"
        ))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let r = app
        .patch(
            &format!("/v1/accounts/{id}"),
            &admin,
            json!({"region": "x"}),
            None,
        )
        .await;
    r.assert_problem(503, "unavailable");
    assert!(r.header("retry-after").is_some());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "answered within the timeout"
    );
    other.batch_execute("ROLLBACK").await.unwrap();
    let r = app
        .patch(
            &format!("/v1/accounts/{id}"),
            &admin,
            json!({"region": "x"}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[actix_web::test]
async fn a_stored_row_that_cannot_be_read_is_an_opaque_500_never_a_default() {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Corrupt").await;
    let opp = app
        .post(
            &format!("/v1/accounts/{acc}/opportunities"),
            &admin,
            json!({"name": "Deal", "competitors": [{"name": "Vendor X"}]}),
        )
        .await
        .id();
    let mut db = AsyncPgConnection::establish(&crate::common::database_url())
        .await
        .unwrap();
    db.batch_execute(&format!(
        "UPDATE opportunities SET competitors = '{{\"schema_version\": 2, \"competitors\": [{{\"strengths\": 1}}]}}' WHERE id = '{opp}'"
    ))
    .await
    .unwrap();
    let r = app.get(&format!("/v1/opportunities/{opp}"), &admin).await;
    r.assert_problem(500, "internal");
    assert!(
        !r.text.contains("competitors"),
        "no detail leaks: {}",
        r.text
    );
    let list = app.get("/v1/opportunities", &admin).await;
    list.assert_problem(500, "internal");
}
