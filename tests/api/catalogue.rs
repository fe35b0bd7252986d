//! The event catalogue: every event type's data is what its schema in the document says, the
//! feed and `GET /v1/event-types` agree with the document.

use serde_json::{json, Value};

use crate::common::TestApp;
use crate::events::settled;

/// Validates `instance` against the document's schema `name`.
pub fn conforms(doc: &Value, name: &str, instance: &Value) -> Result<(), Vec<String>> {
    let mut root = json!({"components": doc["components"].clone()});
    root["$ref"] = json!(format!("#/components/schemas/{name}"));
    let v = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .expect("the document's schemas compile");
    let errors: Vec<String> = v
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[actix_web::test]
async fn every_event_type_carries_what_its_schema_says() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let doc = app.get("/openapi.json", &admin).await.json;

    // Every resource created, changed, archived and restored.
    let acc = app.account(&admin, "Catalogue Ltd").await;
    let account = format!("/v1/accounts/{acc}");
    let r = app
        .patch(&account, &admin, json!({"region": "华东"}), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.delete(&account, &admin, None).await.status, 204);
    let r = app
        .post(&format!("{account}/restore"), &admin, json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut opp = String::new();
    for child in crate::archive::children() {
        let created = app
            .post(&(child.create)(&acc), &admin, (child.body)())
            .await;
        assert_eq!(created.status, 201, "{}: {}", child.name, created.text);
        let item = (child.item)(&acc, &created.id());
        let r = app.patch(&item, &admin, (child.patch)(), None).await;
        assert_eq!(r.status, 200, "{}: {}", child.name, r.text);
        assert_eq!(app.delete(&item, &admin, None).await.status, 204);
        let r = app
            .post(&format!("{item}/restore"), &admin, json!({}))
            .await;
        assert_eq!(r.status, 200, "{}: {}", child.name, r.text);
        if child.name == "opportunity" {
            opp = item;
        }
    }
    // A stage move with another change, an assessment, the playbook.
    let r = app
        .patch(
            &opp,
            &admin,
            json!({"current_stage": "S2", "stage_reason": "需求已确认", "name": "核心网"}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .post(&format!("{opp}/stage-assessments"), &admin, json!({}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let body = json!({"customer_goals": [{"zh": "确立项目需求"}], "customer_behaviours": [],
                      "sales_milestones": [], "key_actions": [], "notes": [],
                      "purchase_progress_percent": 25});
    let r = app
        .send(
            app.client
                .put(app.url("/v1/playbook/stages/S2"))
                .bearer_auth(&admin)
                .json(&body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let expected = buyerpath::domain::event::EVENT_TYPES;
    // 16 lifecycle events of the children, 4 of the account, the move (2), the assessment and
    // the playbook.
    let log = settled(&app, &admin, "/v1/events?limit=200", expected.len() + 1).await;
    let items = log.json["items"].as_array().unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for e in items {
        let t = e["type"].as_str().unwrap();
        seen.insert(t.to_string());
        if let Err(errors) = conforms(&doc, "Event", e) {
            panic!("{t} does not conform to its schema: {errors:?}\n{e}");
        }
        let data = &e["data"];
        if data.get("object").is_some() && t != "stage_assessment.created" {
            assert_eq!(
                data["object"]["version"], data["version"],
                "{t}: object as of the event"
            );
            assert_eq!(data["object"]["id"], data["id"], "{t}");
        }
        if t.ends_with(".updated") && t != "playbook.updated" {
            let fields: Vec<&str> = data["changed_fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
                .collect();
            let previous: Vec<&str> = data["previous"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            let mut sorted = fields.clone();
            sorted.sort();
            assert_eq!(previous, sorted, "{t}: previous holds each changed field");
        }
    }
    // The check can fail: an event without its object, or with a field no schema lists, does.
    let mut broken = items[0].clone();
    broken["data"].as_object_mut().unwrap().remove("object");
    assert!(conforms(&doc, "Event", &broken).is_err());
    let mut broken = items[1].clone();
    broken["data"]["changed_fields"] = json!(["no_such_field"]);
    assert!(conforms(&doc, "Event", &broken).is_err());
    let missing: Vec<&&str> = expected.iter().filter(|t| !seen.contains(**t)).collect();
    assert!(missing.is_empty(), "types not produced: {missing:?}");

    // The stage move and the rename are one version with every changed field.
    let updated = items
        .iter()
        .find(|e| {
            e["type"] == "opportunity.updated"
                && e["data"]["changed_fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f == "name")
        })
        .unwrap();
    assert_eq!(
        updated["data"]["changed_fields"],
        json!(["current_stage", "name", "stage_entered_at"])
    );
    assert_eq!(updated["data"]["previous"]["current_stage"], "S1");
    assert_eq!(updated["data"]["previous"]["name"], "数据中心网络改造");
    assert_eq!(updated["data"]["object"]["name"], "核心网");
    let moved = items
        .iter()
        .find(|e| e["type"] == "opportunity.stage_changed")
        .unwrap();
    assert_eq!(moved["data"]["version"], updated["data"]["version"]);

    // The catalogue names each type's schema, in both languages.
    let types = app.get("/v1/event-types", &app.viewer()).await;
    assert_eq!(types.status, 200, "{}", types.text);
    let listed = types.json["items"].as_array().unwrap();
    assert_eq!(listed.len(), expected.len() + 1);
    for t in listed {
        let schema = t["schema"].as_str().unwrap();
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
        let name = t["type"].as_str().unwrap();
        assert!(
            doc["webhooks"][name]["post"].is_object(),
            "{name} in webhooks"
        );
        assert!(!t["description"]["zh"].as_str().unwrap().is_empty());
        assert!(!t["description"]["en"].as_str().unwrap().is_empty());
    }
}

/// The header fields of `r` a client reads, each declared on the document's response for
/// `method path status` (`path` as the document writes it).
fn declared(doc: &Value, method: &str, path: &str, r: &crate::common::Resp) {
    let response = &doc["paths"][path][method]["responses"][r.status.to_string()];
    assert!(
        response.is_object(),
        "{method} {path} {} is not documented",
        r.status
    );
    for name in [
        "etag",
        "location",
        "idempotent-replayed",
        "ratelimit",
        "ratelimit-policy",
        "retry-after",
        "www-authenticate",
        "x-request-id",
    ] {
        if r.header(name).is_some() {
            let listed = response["headers"]
                .as_object()
                .is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case(name)));
            assert!(
                listed,
                "{method} {path} {}: {name} is sent but not declared",
                r.status
            );
        }
    }
}

#[actix_web::test]
async fn the_header_fields_sent_are_the_ones_declared() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let doc = app.get("/openapi.json", &admin).await.json;
    let r = app
        .send(
            app.client
                .post(app.url("/v1/accounts"))
                .bearer_auth(&admin)
                .header("idempotency-key", "k-1")
                .json(&json!({"name": "Headers Ltd"})),
        )
        .await;
    declared(&doc, "post", "/v1/accounts", &r);
    let acc = r.id();
    let again = app
        .send(
            app.client
                .post(app.url("/v1/accounts"))
                .bearer_auth(&admin)
                .header("idempotency-key", "k-1")
                .json(&json!({"name": "Headers Ltd"})),
        )
        .await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    declared(&doc, "post", "/v1/accounts", &again);
    let item = format!("/v1/accounts/{acc}");
    declared(
        &doc,
        "get",
        "/v1/accounts/{account_id}",
        &app.get(&item, &admin).await,
    );
    let stale = app
        .patch(&item, &admin, json!({"region": "华东"}), Some("\"9\""))
        .await;
    assert_eq!(stale.status, 412);
    declared(&doc, "patch", "/v1/accounts/{account_id}", &stale);
    let r = app
        .patch(&item, &admin, json!({"region": "华东"}), None)
        .await;
    declared(&doc, "patch", "/v1/accounts/{account_id}", &r);
    let r = app.send(app.client.get(app.url("/v1/accounts"))).await;
    assert_eq!(r.status, 401);
    declared(&doc, "get", "/v1/accounts", &r);
    let wb = app.get("/v1/survey-records/template.xlsx", &admin).await;
    declared(&doc, "get", "/v1/survey-records/template.xlsx", &wb);
    let body = buyerpath::xlsx::export(
        &buyerpath::xlsx::Banner {
            account_name: "Headers Ltd".into(),
            surveyed_at: None,
        },
        &json!({"surveyed_at": "2026-11-20T00:00:00Z"}),
    )
    .unwrap();
    let r = app
        .send(
            app.client
                .post(app.url(&format!("/v1/accounts/{acc}/survey-records/import")))
                .bearer_auth(&admin)
                .header(
                    "content-type",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                )
                .body(body),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    declared(
        &doc,
        "post",
        "/v1/accounts/{account_id}/survey-records/import",
        &r,
    );
}
