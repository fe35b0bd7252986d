//! The event log and delta sync (`updated_since`).

use serde_json::{json, Value};

use crate::common::{Resp, TestApp};

/// Reads the log once it shows at least `n` items: an event is listed when every transaction
/// that started before it has ended, so a concurrent test's open transaction can delay it.
pub async fn settled(app: &TestApp, token: &str, path: &str, n: usize) -> Resp {
    for _ in 0..100 {
        let r = app.get(path, token).await;
        if r.status != 200 || r.json["items"].as_array().is_some_and(|i| i.len() >= n) {
            return r;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.get(path, token).await
}

fn types(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn every_committed_change_is_in_the_log_in_order_and_failed_writes_are_not() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Log Ltd").await;
    let r = app
        .patch(
            &format!("/v1/accounts/{acc}"),
            &admin,
            json!({"region": "华东", "name": "Log Ltd"}),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    // Failed writes leave nothing: a 422, a 412, and a patch that changes nothing.
    let r = app
        .patch(
            &format!("/v1/accounts/{acc}"),
            &admin,
            json!({"name": ""}),
            None,
        )
        .await;
    assert_eq!(r.status, 422);
    let r = app
        .patch(
            &format!("/v1/accounts/{acc}"),
            &admin,
            json!({"region": "x"}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(r.status, 412);
    let r = app
        .patch(
            &format!("/v1/accounts/{acc}"),
            &admin,
            json!({"region": "华东"}),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let contact = app
        .post(
            &format!("/v1/accounts/{acc}/contacts"),
            &admin,
            json!({"name": "王工", "title": "信息中心主任"}),
        )
        .await
        .id();
    let opp = app
        .post(
            &format!("/v1/accounts/{acc}/opportunities"),
            &admin,
            json!({"name": "Upgrade"}),
        )
        .await
        .id();
    let r = app
        .patch(
            &format!("/v1/opportunities/{opp}"),
            &admin,
            json!({"current_stage": "S3", "estimated_amount": "1200000.00", "currency": "CNY"}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .post(
            &format!("/v1/opportunities/{opp}/stage-assessments"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let assessment = r.id();
    app.delete(
        &format!("/v1/accounts/{acc}/contacts/{contact}"),
        &admin,
        None,
    )
    .await;
    app.delete(&format!("/v1/accounts/{acc}"), &admin, None)
        .await;
    app.post(&format!("/v1/accounts/{acc}/restore"), &admin, json!({}))
        .await;

    let all = settled(&app, &admin, "/v1/events?limit=200", 10).await;
    assert_eq!(all.status, 200, "{}", all.text);
    assert_eq!(
        types(&all.json),
        [
            "account.created",
            "account.updated",
            "contact.created",
            "opportunity.created",
            "opportunity.stage_changed",
            "opportunity.updated",
            "stage_assessment.created",
            "contact.archived",
            "account.archived",
            "account.restored",
        ]
    );
    let items = all.json["items"].as_array().unwrap();
    assert!(items[0]["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(items[0]["data"]["id"], acc.as_str());
    assert_eq!(items[0]["data"]["version"], 1);
    assert_eq!(items[0]["data"]["actor"], "admin-user");
    assert_eq!(items[1]["data"]["changed_fields"], json!(["region"]));
    assert_eq!(items[1]["data"]["version"], 2);
    assert_eq!(items[2]["data"]["account_id"], acc.as_str());
    assert_eq!(items[4]["data"]["previous_stage"], "S1");
    assert_eq!(items[4]["data"]["current_stage"], "S3");
    assert_eq!(items[4]["data"]["assessment_id"], Value::Null);
    // The stage moved with the other fields: one new version, named by both events, and the
    // update lists every changed field (by name).
    assert_eq!(
        items[5]["data"]["changed_fields"],
        json!([
            "currency",
            "current_stage",
            "estimated_amount",
            "stage_entered_at"
        ]),
    );
    assert_eq!(items[4]["data"]["version"], 2);
    assert_eq!(items[5]["data"]["version"], 2);
    assert_eq!(items[6]["data"]["id"], assessment.as_str());
    assert_eq!(items[6]["data"]["opportunity_id"], opp.as_str());
    assert!(items[6]["data"]["stage"].is_string());
    assert!(items[6]["data"]["ready_to_advance"].is_boolean());
    assert!(items[6]["data"]["risk_codes"].is_array());
    assert_eq!(all.json["has_more"], false);

    // Filtered, and paged with `after`.
    let page1 = settled(
        &app,
        &admin,
        "/v1/events?types=opportunity.*,stage_assessment.created&limit=2",
        2,
    )
    .await;
    assert_eq!(
        types(&page1.json),
        ["opportunity.created", "opportunity.stage_changed"]
    );
    assert_eq!(page1.json["has_more"], true);
    let after = page1.json["next_cursor"].as_str().unwrap();
    let page2 = app
        .get(
            &format!(
                "/v1/events?types=opportunity.*,stage_assessment.created&limit=2&after={after}"
            ),
            &admin,
        )
        .await;
    assert_eq!(
        types(&page2.json),
        ["opportunity.updated", "stage_assessment.created"]
    );
    let after = page2.json["next_cursor"].as_str().unwrap();
    let page3 = app
        .get(
            &format!("/v1/events?types=opportunity.*,stage_assessment.created&after={after}"),
            &admin,
        )
        .await;
    assert_eq!(page3.json["items"], json!([]));
    assert_eq!(
        page3.json["next_cursor"], after,
        "an empty page keeps the position"
    );
    // A new change appears after that position.
    app.patch(
        &format!("/v1/opportunities/{opp}"),
        &admin,
        json!({"name": "Upgrade 2"}),
        None,
    )
    .await;
    let page4 = settled(
        &app,
        &admin,
        &format!("/v1/events?types=opportunity.*&after={after}"),
        1,
    )
    .await;
    assert_eq!(types(&page4.json), ["opportunity.updated"]);

    // Bad input names the parameter; another tenant sees nothing.
    let r = app.get("/v1/events?types=opportunity.moved", &admin).await;
    assert_eq!(r.error_fields(), vec!["types"]);
    let r = app.get("/v1/events?after=bm90LWEtY3Vyc29y", &admin).await;
    assert_eq!(r.error_fields(), vec!["after"]);
    let r = app.get("/v1/events?limit=0", &admin).await;
    assert_eq!(r.error_fields(), vec!["limit"]);
    let other = app.other_tenant(buyerpath::auth::Role::Admin);
    let r = app.get("/v1/events", &other).await;
    assert_eq!(r.json["items"], json!([]));
    let viewer = app.get("/v1/events?limit=1", &app.viewer()).await;
    assert_eq!(viewer.status, 200);
}

#[actix_web::test]
async fn applying_an_assessment_publishes_the_stage_change_with_its_assessment() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let put = app
        .send(
            app.client
                .put(app.url("/v1/playbook/stages/S2"))
                .bearer_auth(&admin)
                .json(&json!({
                    "customer_behaviours": [{"zh": "成立项目组", "en": "Forms a project team"}],
                    "sales_milestones": [{"en": "Known to the project team"}],
                    "purchase_progress_percent": 35
                })),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    let acc = app.account(&admin, "Apply Ltd").await;
    let c1 = app
        .contact(&admin, &acc, json!({"name": "Head", "department": "it"}))
        .await;
    let c2 = app
        .contact(
            &admin,
            &acc,
            json!({"name": "Engineer", "department": "it"}),
        )
        .await;
    let opp = app
        .post(
            &format!("/v1/accounts/{acc}/opportunities"),
            &admin,
            json!({"name": "Apply"}),
        )
        .await
        .id();
    let src = |id: &str| json!({"kind": "contact", "contact_id": id});
    let r = app
        .post(
            &format!("/v1/opportunities/{opp}/stage-assessments"),
            &admin,
            json!({
                "observed_behaviours": [
                    {"code": "S2.B01", "evidence": "项目组名单", "sources": [src(&c1), src(&c2)]}
                ],
                "apply": true
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["stage_change"]["applied"], true, "{}", r.text);
    let assessment = r.id();
    let log = settled(
        &app,
        &admin,
        "/v1/events?types=opportunity.stage_changed,stage_assessment.created,playbook.updated",
        3,
    )
    .await;
    let items = log.json["items"].as_array().unwrap();
    assert_eq!(
        types(&log.json),
        [
            "playbook.updated",
            "opportunity.stage_changed",
            "stage_assessment.created"
        ],
        "{}",
        log.text
    );
    assert_eq!(items[0]["data"]["version"], 2);
    assert_eq!(items[1]["data"]["assessment_id"], assessment.as_str());
    assert_eq!(items[1]["data"]["previous_stage"], "S1");
    assert_eq!(items[1]["data"]["current_stage"], "S2");
    assert_eq!(items[2]["data"]["stage"], "S2");
    assert!(items[2]["data"]["ready_to_advance"].is_boolean());
    assert_eq!(items[2]["data"]["applied"], true);
}

#[actix_web::test]
async fn updated_since_syncs_changes_across_pages_archived_included() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let a = app.account(&admin, "Sync A").await;
    let b = app.account(&admin, "Sync B").await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    let since = chrono::Utc::now();
    actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    let c = app.account(&admin, "Sync C").await;
    app.patch(
        &format!("/v1/accounts/{a}"),
        &admin,
        json!({"region": "north"}),
        None,
    )
    .await;
    app.delete(&format!("/v1/accounts/{c}"), &admin, None).await;
    let d = app.account(&admin, "Sync D").await;

    let since = since.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let q = since.replace('+', "%2B");
    let p1 = app
        .get(&format!("/v1/accounts?updated_since={q}&limit=2"), &admin)
        .await;
    assert_eq!(p1.status, 200, "{}", p1.text);
    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    // (updated_at, id) order: a's update, then c's archiving (archived rows are included).
    assert_eq!(ids(&p1.json), [a.clone(), c.clone()]);
    assert!(p1.json["items"][1]["archived_at"].is_string());
    let cursor = p1.json["next_cursor"].as_str().unwrap();
    let p2 = app
        .get(
            &format!("/v1/accounts?updated_since={q}&limit=2&cursor={cursor}"),
            &admin,
        )
        .await;
    assert_eq!(ids(&p2.json), vec![d.clone()]);
    assert_eq!(p2.json["next_cursor"], Value::Null);
    assert!(!ids(&p1.json).contains(&b) && !ids(&p2.json).contains(&b));

    // A cursor of the other order is refused; so is a malformed time.
    let natural = app.get("/v1/accounts?limit=1", &admin).await;
    let nc = natural.json["next_cursor"].as_str().unwrap();
    let r = app
        .get(
            &format!("/v1/accounts?updated_since={q}&cursor={nc}"),
            &admin,
        )
        .await;
    assert_eq!(r.error_fields(), vec!["cursor"]);
    let r = app
        .get("/v1/accounts?updated_since=yesterday", &admin)
        .await;
    assert_eq!(r.status, 400, "{}", r.text);

    // The other lists take it too.
    let opp = app
        .post(
            &format!("/v1/accounts/{d}/opportunities"),
            &admin,
            json!({"name": "O"}),
        )
        .await
        .id();
    for path in [
        format!("/v1/opportunities?updated_since={q}"),
        format!("/v1/accounts/{d}/opportunities?updated_since={q}"),
        format!("/v1/accounts/{d}/contacts?updated_since={q}"),
        format!("/v1/accounts/{d}/survey-records?updated_since={q}"),
        format!("/v1/accounts/{d}/activities?updated_since={q}"),
        format!("/v1/webhook-endpoints?updated_since={q}"),
    ] {
        let r = app.get(&path, &admin).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
    }
    let r = app
        .get(&format!("/v1/opportunities?updated_since={q}"), &admin)
        .await;
    assert_eq!(ids(&r.json), vec![opp.clone()]);

    // Append-only lists: records made since, oldest first.
    app.patch(
        &format!("/v1/opportunities/{opp}"),
        &admin,
        json!({"current_stage": "S2"}),
        None,
    )
    .await;
    for _ in 0..2 {
        let r = app
            .post(
                &format!("/v1/opportunities/{opp}/stage-assessments"),
                &admin,
                json!({}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let h = app
        .get(
            &format!("/v1/opportunities/{opp}/stage-history?updated_since={q}"),
            &admin,
        )
        .await;
    assert_eq!(h.json["items"].as_array().unwrap().len(), 1, "{}", h.text);
    let a1 = app
        .get(
            &format!("/v1/opportunities/{opp}/stage-assessments?updated_since={q}&limit=1"),
            &admin,
        )
        .await;
    let a2 = app
        .get(
            &format!(
                "/v1/opportunities/{opp}/stage-assessments?updated_since={q}&limit=1&cursor={}",
                a1.json["next_cursor"].as_str().unwrap()
            ),
            &admin,
        )
        .await;
    let newest_first = app
        .get(
            &format!("/v1/opportunities/{opp}/stage-assessments"),
            &admin,
        )
        .await;
    assert_eq!(
        [ids(&a1.json)[0].clone(), ids(&a2.json)[0].clone()],
        [
            ids(&newest_first.json)[1].clone(),
            ids(&newest_first.json)[0].clone()
        ],
        "oldest first when syncing"
    );
    let v = app
        .get(&format!("/v1/playbook/versions?updated_since={q}"), &admin)
        .await;
    assert_eq!(v.json["items"], json!([]), "no version made since");
}

#[actix_web::test]
async fn events_older_than_the_retention_are_pruned() {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let app = TestApp::spawn().await;
    let admin = app.admin();
    app.account(&admin, "Recent").await;
    let mut db = AsyncPgConnection::establish(&crate::common::database_url())
        .await
        .unwrap();
    let old = uuid::Uuid::now_v7();
    db.batch_execute(&format!(
        "INSERT INTO events (id, tenant_id, event_type, occurred_at, data) VALUES \
         ('{old}', '{}', 'account.updated', now() - interval '40 days', \
          '{{\"schema_version\": 1, \"data\": {{}}}}')",
        app.tenant
    ))
    .await
    .unwrap();
    let before = settled(&app, &admin, "/v1/events", 2).await;
    assert_eq!(before.json["items"].as_array().unwrap().len(), 2);
    let pruned =
        buyerpath::service::delivery::prune(&mut db, std::time::Duration::from_secs(30 * 86_400))
            .await
            .unwrap();
    assert!(pruned >= 1);
    let after = app.get("/v1/events", &admin).await;
    assert_eq!(types(&after.json), ["account.created"]);
}

#[actix_web::test]
async fn a_write_that_changes_nothing_keeps_its_version_and_publishes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Same Ltd").await;
    let path = format!("/v1/accounts/{acc}");
    let before = app.get(&path, &admin).await;
    let same = app
        .patch(&path, &admin, json!({"name": "Same Ltd", "tags": []}), None)
        .await;
    assert_eq!(same.status, 200, "{}", same.text);
    assert_eq!(same.json["version"], 1);
    assert_eq!(same.header("etag"), before.header("etag"));
    let opp = app
        .post(
            &format!("{path}/opportunities"),
            &admin,
            json!({"name": "Upgrade"}),
        )
        .await
        .id();
    let opath = format!("/v1/opportunities/{opp}");
    let o = app
        .patch(
            &opath,
            &admin,
            json!({"current_stage": "S1", "name": "Upgrade"}),
            None,
        )
        .await;
    assert_eq!(o.status, 200, "{}", o.text);
    assert_eq!(o.json["version"], 1, "the stage it is in is no move");
    // A stage alone: one new version, the move and the update name it.
    let moved = app
        .patch(&opath, &admin, json!({"current_stage": "S2"}), None)
        .await;
    assert_eq!(moved.json["version"], 2, "{}", moved.text);
    let history = app.get(&format!("{opath}/stage-history"), &admin).await;
    assert_eq!(history.json["items"].as_array().unwrap().len(), 1);

    let all = settled(&app, &admin, "/v1/events?limit=200", 4).await;
    assert_eq!(
        types(&all.json),
        [
            "account.created",
            "opportunity.created",
            "opportunity.stage_changed",
            "opportunity.updated",
        ],
        "no event for the writes that changed nothing"
    );
    let items = all.json["items"].as_array().unwrap();
    assert_eq!(items[2]["data"]["version"], 2);
    assert_eq!(items[3]["data"]["version"], 2);
    assert_eq!(
        items[3]["data"]["changed_fields"],
        json!(["current_stage", "stage_entered_at"])
    );
}
