//! Webhook endpoints and deliveries, with a real receiver on loopback and the Standard Webhooks
//! reference library verifying every signature.

use serde_json::{json, Value};

use crate::common::TestApp;
use crate::receiver::{start_worker, Receiver};

const ALLOW_PRIVATE: &[(&str, &str)] = &[("BUYERPATH_WEBHOOK_ALLOW_PRIVATE", "true")];

async fn endpoint(app: &TestApp, admin: &str, url: &str, types: Value) -> (String, String) {
    let r = app
        .post(
            "/v1/webhook-endpoints",
            admin,
            json!({"url": url, "event_types": types, "description": "CRM sync"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    (r.id(), r.json["secret"].as_str().unwrap().to_string())
}

/// GETs `path` until `done` holds for its body (the worker acts asynchronously), at most 10 s;
/// returns the last body.
async fn poll(app: &TestApp, path: &str, token: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut body = Value::Null;
    for _ in 0..100 {
        body = app.get(path, token).await.json;
        if done(&body) {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    body
}

#[actix_web::test]
async fn endpoints_are_for_admins_of_their_tenant_and_validated() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let r = app
        .post(
            "/v1/webhook-endpoints",
            &app.manager(),
            json!({"url": "https://crm.example.com/hook", "event_types": ["*"]}),
        )
        .await;
    r.assert_problem(403, "forbidden");
    // Without BUYERPATH_WEBHOOK_ALLOW_PRIVATE: https to public addresses only.
    for url in [
        "http://crm.example.com/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "ftp://crm.example.com/",
    ] {
        let r = app
            .post(
                "/v1/webhook-endpoints",
                &admin,
                json!({"url": url, "event_types": ["*"]}),
            )
            .await;
        assert_eq!(r.error_fields(), vec!["url"], "{url}");
    }
    let r = app
        .post(
            "/v1/webhook-endpoints",
            &admin,
            json!({"url": "https://crm.example.com/hook", "event_types": ["opportunity.moved"]}),
        )
        .await;
    assert_eq!(r.error_fields(), vec!["event_types[0]"]);
    let r = app
        .post(
            "/v1/webhook-endpoints",
            &admin,
            json!({"url": "https://crm.example.com/hook", "event_types": []}),
        )
        .await;
    assert_eq!(r.error_fields(), vec!["event_types"]);

    let r = app
        .post(
            "/v1/webhook-endpoints",
            &admin,
            json!({"url": "https://crm.example.com/hook", "event_types": ["opportunity.*", "opportunity.*"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.id();
    let secret = r.json["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_") && secret.len() >= 6 + 44);
    assert_eq!(r.json["event_types"], json!(["opportunity.*"]));
    assert_eq!(
        r.header("location").unwrap(),
        format!("/v1/webhook-endpoints/{id}")
    );

    let got = app
        .get(&format!("/v1/webhook-endpoints/{id}"), &admin)
        .await;
    assert_eq!(got.status, 200);
    assert!(got.json.get("secret").is_none(), "the secret is shown once");
    let etag = got.header("etag").unwrap().to_string();

    let r = app
        .patch(
            &format!("/v1/webhook-endpoints/{id}"),
            &admin,
            json!({"enabled": false, "event_types": ["*"]}),
            Some(&etag),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["enabled"], false);
    assert!(r.json["disabled_reason"]
        .as_str()
        .unwrap()
        .contains("admin-user"));
    let r = app
        .patch(
            &format!("/v1/webhook-endpoints/{id}"),
            &admin,
            json!({"enabled": true}),
            Some(&etag),
        )
        .await;
    r.assert_problem(412, "precondition_failed");
    let r = app
        .patch(
            &format!("/v1/webhook-endpoints/{id}"),
            &admin,
            json!({"url": "http://insecure.example.com/"}),
            None,
        )
        .await;
    assert_eq!(r.error_fields(), vec!["url"]);
    // A patch that changes nothing keeps the version.
    let now = app
        .get(&format!("/v1/webhook-endpoints/{id}"), &admin)
        .await;
    let same = app
        .patch(
            &format!("/v1/webhook-endpoints/{id}"),
            &admin,
            json!({"event_types": ["*"], "enabled": false}),
            None,
        )
        .await;
    assert_eq!(same.status, 200, "{}", same.text);
    assert_eq!(same.json["version"], now.json["version"]);
    assert_eq!(same.header("etag"), now.header("etag"));

    // Another tenant's admin sees nothing.
    let other = app.other_tenant(buyerpath::auth::Role::Admin);
    let r = app
        .get(&format!("/v1/webhook-endpoints/{id}"), &other)
        .await;
    r.assert_problem(404, "not_found");
    let r = app.get("/v1/webhook-endpoints", &other).await;
    assert_eq!(r.json["items"], json!([]));
    let r = app
        .post(
            &format!("/v1/webhook-endpoints/{id}/rotate-secret"),
            &other,
            json!({}),
        )
        .await;
    r.assert_problem(404, "not_found");
    let r = app
        .delete(&format!("/v1/webhook-endpoints/{id}"), &other, None)
        .await;
    r.assert_problem(404, "not_found");

    let r = app.get("/v1/webhook-endpoints", &admin).await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 1);
    let r = app
        .delete(&format!("/v1/webhook-endpoints/{id}"), &admin, None)
        .await;
    assert_eq!(r.status, 204);
    let r = app
        .get(&format!("/v1/webhook-endpoints/{id}"), &admin)
        .await;
    r.assert_problem(404, "not_found");
}

#[actix_web::test]
async fn deliveries_carry_the_event_and_a_signature_the_reference_library_accepts() {
    start_worker();
    let app = TestApp::spawn_with(ALLOW_PRIVATE).await;
    let admin = app.admin();
    let rx = Receiver::start().await;
    let (_, secret) = endpoint(&app, &admin, &rx.url, json!(["opportunity.*"])).await;
    // Another tenant's endpoint, subscribed to everything, hears nothing of this tenant.
    let other_rx = Receiver::start().await;
    let other = app.other_tenant(buyerpath::auth::Role::Admin);
    endpoint(&app, &other, &other_rx.url, json!(["*"])).await;
    let acc = app.account(&admin, "华东电力设计院").await;
    let opp = app
        .post(
            &format!("/v1/accounts/{acc}/opportunities"),
            &admin,
            json!({"name": "数据中心扩容"}),
        )
        .await
        .id();
    let r = app
        .patch(
            &format!("/v1/opportunities/{opp}"),
            &admin,
            json!({"current_stage": "S2", "stage_reason": "需求已确认"}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let got = rx.wait_for(3, 20).await;
    for g in &got {
        g.verify(&secret)
            .expect("a valid Standard Webhooks signature");
        assert!(g.verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(g.header("webhook-id").starts_with("evt_"));
        let ts: i64 = g.header("webhook-timestamp").parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - ts).abs() < 60);
        assert_eq!(g.header("content-type"), "application/json");
    }
    let types: Vec<String> = got
        .iter()
        .map(|g| g.json()["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "opportunity.created",
            "opportunity.stage_changed",
            "opportunity.updated"
        ]
    );
    let moved = got[1].json();
    assert_eq!(moved["data"]["id"], opp.as_str());
    assert_eq!(moved["data"]["account_id"], acc.as_str());
    assert_eq!(moved["data"]["previous_stage"], "S1");
    assert_eq!(moved["data"]["current_stage"], "S2");
    assert_eq!(moved["data"]["reason"], "需求已确认");
    assert_eq!(moved["data"]["changed_by"], "admin-user");
    assert_eq!(moved["data"]["version"], r.json["version"]);
    assert!(moved["timestamp"].as_str().unwrap().ends_with('Z'));

    // The webhook-id is the event's id in the log.
    let log = crate::events::settled(&app, &admin, "/v1/events?types=opportunity.*", 3).await;
    let ids: Vec<&str> = log.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            got[0].header("webhook-id"),
            got[1].header("webhook-id"),
            got[2].header("webhook-id")
        ]
    );
    // Each body is exactly the event as the feed returns it, `id` included.
    for (g, e) in got.iter().zip(log.json["items"].as_array().unwrap()) {
        assert_eq!(&g.json(), e);
        assert_eq!(g.json()["id"], g.header("webhook-id"));
    }

    // Nothing else arrives (account.created is not subscribed).
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1500)).await;
    let bodies: Vec<String> = rx.received().iter().map(|r| r.body.clone()).collect();
    assert_eq!(bodies.len(), 3, "{bodies:?}");
    assert!(other_rx.received().is_empty(), "no event crosses tenants");
}

#[actix_web::test]
async fn failures_are_retried_with_the_same_webhook_id_and_recorded() {
    start_worker();
    let app = TestApp::spawn_with(ALLOW_PRIVATE).await;
    let admin = app.admin();
    let failing = Receiver::start().await;
    failing.script(vec![(500, vec![])]);
    let throttled = Receiver::start().await;
    throttled.script(vec![(503, vec![("retry-after", "1")])]);
    let (ep, secret) = endpoint(&app, &admin, &failing.url, json!(["account.created"])).await;
    let (ep2, _) = endpoint(&app, &admin, &throttled.url, json!(["account.*"])).await;
    app.account(&admin, "Retry Ltd").await;

    // 503 with Retry-After: 1 is retried after a second, well before the 5 s of the schedule.
    let got = throttled.wait_for(2, 4).await;
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    // 500 is retried on the schedule (5 s), with the same id and a fresh signature.
    let got = failing.wait_for(2, 15).await;
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    got[1].verify(&secret).unwrap();

    let deliveries = poll(
        &app,
        &format!("/v1/webhook-endpoints/{ep}/deliveries"),
        &admin,
        |b| b["items"][0]["status"] == "succeeded",
    )
    .await;
    let d = &deliveries["items"][0];
    assert_eq!(d["status"], "succeeded", "{deliveries}");
    assert_eq!(d["attempt_count"], 2);
    assert_eq!(d["event_type"], "account.created");
    assert_eq!(d["event_id"], got[0].header("webhook-id"));
    assert_eq!(d["attempts"][0]["response_status"], 500);
    assert_eq!(d["attempts"][0]["response_body"], "receiver answered 500");
    assert_eq!(d["attempts"][1]["response_status"], 200);
    assert!(d["attempts"][1]["duration_ms"].as_i64().unwrap() >= 0);
    // A failure marks the endpoint failing; the success clears it.
    let e = app
        .get(&format!("/v1/webhook-endpoints/{ep}"), &admin)
        .await;
    assert_eq!(e.json["failing_since"], Value::Null);
    assert_eq!(e.json["enabled"], true);

    // Redeliver sends it once more, same id.
    let id = d["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/v1/webhook-endpoints/{ep}/deliveries/{id}/redeliver"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let again = failing.wait_for(3, 10).await;
    assert_eq!(again[2].header("webhook-id"), got[0].header("webhook-id"));
    let r = app
        .post(
            &format!("/v1/webhook-endpoints/{ep2}/deliveries/{id}/redeliver"),
            &admin,
            json!({}),
        )
        .await;
    r.assert_problem(404, "not_found");
}

#[actix_web::test]
async fn gone_disables_the_endpoint_and_tests_and_rotation_work() {
    start_worker();
    let app = TestApp::spawn_with(ALLOW_PRIVATE).await;
    let admin = app.admin();
    let rx = Receiver::start().await;
    let (ep, old_secret) = endpoint(&app, &admin, &rx.url, json!(["*"])).await;

    let r = app
        .post(
            &format!("/v1/webhook-endpoints/{ep}/test"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.json["event_type"], "webhook.test");
    let got = rx.wait_for(1, 10).await;
    assert_eq!(got[0].json()["type"], "webhook.test");
    got[0].verify(&old_secret).unwrap();
    // Its body is what the document's webhooks section says.
    let doc = app.get("/openapi.json", &admin).await.json;
    let schema = doc["webhooks"]["webhook.test"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(schema, "WebhookTestEvent");
    crate::catalogue::conforms(&doc, &schema, &got[0].json()).unwrap();
    assert_eq!(got[0].json()["id"], got[0].header("webhook-id"));

    // Rotation: both secrets sign for 24 hours.
    let r = app
        .post(
            &format!("/v1/webhook-endpoints/{ep}/rotate-secret"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let new_secret = r.json["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, old_secret);
    assert!(r.json["previous_secret_expires_at"].is_string());
    app.post(
        &format!("/v1/webhook-endpoints/{ep}/test"),
        &admin,
        json!({}),
    )
    .await;
    let got = rx.wait_for(2, 10).await;
    assert_eq!(got[1].header("webhook-signature").split(' ').count(), 2);
    got[1].verify(&old_secret).unwrap();
    got[1].verify(&new_secret).unwrap();

    // 410 Gone disables the endpoint at once, with the reason.
    rx.script(vec![(410, vec![])]);
    app.account(&admin, "Gone Inc").await;
    rx.wait_for(3, 10).await;
    let e = poll(&app, &format!("/v1/webhook-endpoints/{ep}"), &admin, |b| {
        b["enabled"] == false
    })
    .await;
    assert_eq!(e["enabled"], false, "{e}");
    assert!(e["disabled_reason"].as_str().unwrap().contains("410"));
    let r = app
        .post(
            &format!("/v1/webhook-endpoints/{ep}/test"),
            &admin,
            json!({}),
        )
        .await;
    r.assert_problem(409, "conflict");
    // Nothing more is sent while disabled.
    app.account(&admin, "Still Gone").await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(rx.received().len(), 3);
}

#[actix_web::test]
async fn redirects_fail_and_five_days_of_failures_disable_the_endpoint() {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    start_worker();
    let app = TestApp::spawn_with(ALLOW_PRIVATE).await;
    let admin = app.admin();
    let rx = Receiver::start().await;
    rx.script(vec![(
        302,
        vec![("location", "https://elsewhere.example.com/")],
    )]);
    let (ep, _) = endpoint(&app, &admin, &rx.url, json!(["account.created"])).await;
    app.account(&admin, "Redirect Ltd").await;
    rx.wait_for(1, 10).await;
    let d = poll(
        &app,
        &format!("/v1/webhook-endpoints/{ep}/deliveries"),
        &admin,
        |b| b["items"][0]["attempt_count"] == 1,
    )
    .await["items"][0]
        .clone();
    assert_eq!(d["attempts"][0]["response_status"], 302, "{d}");
    assert_eq!(
        d["status"], "pending",
        "a redirect is a failure, retried: {d}"
    );
    let e = app
        .get(&format!("/v1/webhook-endpoints/{ep}"), &admin)
        .await;
    assert!(e.json["failing_since"].is_string(), "{}", e.text);

    // Failing since six days: the next failure disables the endpoint.
    let mut db = AsyncPgConnection::establish(&crate::common::database_url())
        .await
        .unwrap();
    db.batch_execute(&format!(
        "UPDATE webhook_endpoints SET failing_since = now() - interval '6 days' WHERE id = '{ep}'"
    ))
    .await
    .unwrap();
    rx.script(vec![(500, vec![])]);
    let id = d["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/v1/webhook-endpoints/{ep}/deliveries/{id}/redeliver"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let e = poll(&app, &format!("/v1/webhook-endpoints/{ep}"), &admin, |b| {
        b["enabled"] == false
    })
    .await;
    assert_eq!(e["enabled"], false, "{e}");
    assert!(e["disabled_reason"]
        .as_str()
        .unwrap()
        .contains("every delivery failed since"));
    let d = app
        .get(&format!("/v1/webhook-endpoints/{ep}/deliveries"), &admin)
        .await;
    assert_eq!(d.json["items"][0]["status"], "failed");
}
