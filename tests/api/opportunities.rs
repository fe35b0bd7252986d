//! Opportunities, stage history and the pipeline.

use serde_json::json;

use crate::common::TestApp;

pub async fn opportunity(
    app: &TestApp,
    token: &str,
    account: &str,
    body: serde_json::Value,
) -> String {
    let r = app
        .post(
            &format!("/v1/accounts/{account}/opportunities"),
            token,
            body,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.id()
}

#[actix_web::test]
async fn opportunity_crud_and_validation() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Customer").await;
    let r = app
        .post(
            &format!("/v1/accounts/{acc}/opportunities"),
            &admin,
            json!({"name": "数据中心网络改造", "estimated_amount": "1250000.5", "currency": "CNY",
                   "expected_start": "2027-03-01", "deadline": "2027-09-30",
                   "competitors": [{"name": "Vendor X", "strengths": "price"}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.id();
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/opportunities/{id}").as_str())
    );
    assert_eq!(r.json["current_stage"], "S1");
    assert_eq!(r.json["status"], "open");
    assert_eq!(
        r.json["estimated_amount"], "1250000.50",
        "exact, with the minor digits"
    );
    assert_eq!(r.json["days_in_stage"], 0);
    assert_eq!(r.json["account_id"], acc);
    assert_eq!(r.json["competitors"][0]["name"], "Vendor X");

    let base = format!("/v1/accounts/{acc}/opportunities");
    let bad = app
        .post(
            &base,
            &admin,
            json!({"name": "x", "estimated_amount": "980.123", "currency": "CNY",
                                    "expected_start": "2027-05-01", "deadline": "2027-04-01"}),
        )
        .await;
    assert_eq!(bad.error_fields(), ["estimated_amount", "deadline"]);
    assert_eq!(bad.json["errors"][0]["code"], "too_precise", "{}", bad.text);
    assert_eq!(bad.json["errors"][1]["code"], "not_before", "{}", bad.text);
    let bad = app
        .post(
            &base,
            &admin,
            json!({"name": "x", "estimated_amount": "12", "currency": "cny"}),
        )
        .await;
    assert_eq!(bad.error_fields(), ["currency"]);
    for amount in [
        json!(980.5),
        json!(0.1),
        json!("-5"),
        json!("1e3"),
        json!(-5),
    ] {
        let bad = app
            .post(
                &base,
                &admin,
                json!({"name": "x", "estimated_amount": amount, "currency": "CNY"}),
            )
            .await;
        assert_eq!(bad.status, 422, "{amount}: {}", bad.text);
        assert_eq!(bad.error_fields(), ["estimated_amount"], "{amount}");
    }
    let count = app.get(&base, &admin).await.json["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(count, 1, "nothing half-stored");
    let whole = app
        .post(
            &base,
            &admin,
            json!({"name": "whole", "estimated_amount": 12.0, "currency": "CNY"}),
        )
        .await;
    assert_eq!(
        whole.json["estimated_amount"], "12.00",
        "12.0 is a whole number"
    );
    app.delete(&format!("/v1/opportunities/{}", whole.id()), &admin, None)
        .await;
    let yen = app
        .post(
            &base,
            &admin,
            json!({"name": "yen", "estimated_amount": 5000, "currency": "JPY"}),
        )
        .await;
    assert_eq!(
        yen.json["estimated_amount"], "5000",
        "JPY has no minor digits"
    );
    let to_cny = app
        .patch(
            &format!("/v1/opportunities/{}", yen.id()),
            &admin,
            json!({"currency": "CNY"}),
            None,
        )
        .await;
    assert_eq!(
        to_cny.error_fields(),
        ["estimated_amount"],
        "a change of minor digits needs the amount restated"
    );
    let to_cny = app
        .patch(
            &format!("/v1/opportunities/{}", yen.id()),
            &admin,
            json!({"currency": "CNY", "estimated_amount": "260.5"}),
            None,
        )
        .await;
    assert_eq!(to_cny.status, 200, "{}", to_cny.text);
    assert_eq!(to_cny.json["estimated_amount"], "260.50");
    let gone = app
        .delete(&format!("/v1/opportunities/{}", yen.id()), &admin, None)
        .await;
    assert_eq!(gone.status, 204, "archived: out of the lists below");
    let bad = app
        .post(&base, &admin, json!({"name": "x", "estimated_amount": 10}))
        .await;
    assert_eq!(bad.error_fields(), ["currency"]);
    let bad = app
        .post(&base, &admin, json!({"name": "x", "status": "maybe"}))
        .await;
    assert_eq!(bad.error_fields(), ["status"]);
    let bad = app
        .post(&base, &admin, json!({"name": "x", "deadline": "tomorrow"}))
        .await;
    assert_eq!(bad.error_fields(), ["deadline"]);
    let bad = app
        .post(
            &base,
            &admin,
            json!({"name": "x", "competitors": [{"name": ""}]}),
        )
        .await;
    assert_eq!(bad.error_fields(), ["competitors[0].name"]);
    let bad = app
        .post(&base, &admin, json!({"name": "x", "current_stage": "S3"}))
        .await;
    assert_eq!(
        bad.error_fields(),
        ["current_stage"],
        "stages move by PATCH or assessment"
    );

    let path = format!("/v1/opportunities/{id}");
    let p = app
        .patch(
            &path,
            &admin,
            json!({"status": "won", "estimated_amount": null, "currency": null}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.json["status"], "won");
    assert!(p.json["estimated_amount"].is_null());
    let p = app
        .patch(&path, &admin, json!({"currency": "USD"}), None)
        .await;
    assert_eq!(
        p.error_fields(),
        ["currency"],
        "amount and currency go together"
    );
    let p = app
        .patch(&path, &admin, json!({"deadline": "2027-01-01"}), None)
        .await;
    assert_eq!(
        p.error_fields(),
        ["deadline"],
        "before the stored expected_start"
    );
    app.patch(&path, &admin, json!({"name": "stale"}), Some("\"1\""))
        .await
        .assert_problem(412, "precondition_failed");

    // Lists and filters.
    opportunity(&app, &admin, &acc, json!({"name": "Second"})).await;
    let other_acc = app.account(&admin, "Other").await;
    opportunity(
        &app,
        &app.rep("zoe"),
        &app.account(&app.rep("zoe"), "Zoe's").await,
        json!({"name": "Zoe's deal"}),
    )
    .await;
    opportunity(&app, &admin, &other_acc, json!({"name": "Third"})).await;
    let count = |r: &crate::common::Resp| r.json["items"].as_array().unwrap().len();
    assert_eq!(count(&app.get(&base, &admin).await), 2);
    assert_eq!(count(&app.get("/v1/opportunities", &admin).await), 4);
    assert_eq!(
        count(&app.get("/v1/opportunities?status=won", &admin).await),
        1
    );
    assert_eq!(
        count(&app.get("/v1/opportunities?owner=zoe", &admin).await),
        1
    );
    assert_eq!(
        count(
            &app.get(&format!("/v1/opportunities?account_id={other_acc}"), &admin)
                .await
        ),
        1
    );
    assert_eq!(
        count(&app.get("/v1/opportunities?stage=S1", &admin).await),
        4
    );
    assert_eq!(
        app.get("/v1/opportunities?stage=S9", &admin)
            .await
            .error_fields(),
        ["stage"]
    );
    let page = app.get("/v1/opportunities?limit=3", &admin).await;
    let next = page.json["next_cursor"].as_str().unwrap().to_string();
    assert_eq!(
        count(
            &app.get(&format!("/v1/opportunities?limit=3&cursor={next}"), &admin)
                .await
        ),
        1
    );

    // Archive and restore.
    assert_eq!(app.delete(&path, &admin, None).await.status, 204);
    assert_eq!(count(&app.get("/v1/opportunities", &admin).await), 3);
    app.patch(&path, &admin, json!({"name": "x"}), None)
        .await
        .assert_problem(409, "conflict");
    assert_eq!(
        app.post(&format!("{path}/restore"), &admin, json!({}))
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn opportunity_roles_and_tenants() {
    let app = TestApp::spawn().await;
    let alice = app.rep("alice");
    let bob = app.rep("bob");
    let acc = app.account(&alice, "Alice's").await;
    let id = opportunity(&app, &alice, &acc, json!({"name": "Deal"})).await;
    let path = format!("/v1/opportunities/{id}");
    app.post(
        &format!("/v1/accounts/{acc}/opportunities"),
        &bob,
        json!({"name": "x"}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.patch(&path, &bob, json!({"name": "x"}), None)
        .await
        .assert_problem(403, "forbidden");
    app.patch(&path, &alice, json!({"owner": "bob"}), None)
        .await
        .assert_problem(403, "forbidden");
    app.patch(&path, &app.viewer(), json!({"name": "x"}), None)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        app.patch(&path, &app.manager(), json!({"owner": "bob"}), None)
            .await
            .json["owner"],
        "bob"
    );
    assert_eq!(
        app.patch(&path, &bob, json!({"name": "Bob's now"}), None)
            .await
            .status,
        200
    );

    let other = app.other_tenant(buyerpath::auth::Role::Admin);
    app.get(&path, &other)
        .await
        .assert_problem(404, "not_found");
    app.patch(&path, &other, json!({"name": "x"}), None)
        .await
        .assert_problem(404, "not_found");
    app.get(&format!("{path}/stage-history"), &other)
        .await
        .assert_problem(404, "not_found");
    app.get(&format!("{path}/stage-assessments"), &other)
        .await
        .assert_problem(404, "not_found");
    app.post(&format!("{path}/stage-assessments"), &other, json!({}))
        .await
        .assert_problem(404, "not_found");
    app.post(
        &format!("/v1/accounts/{acc}/opportunities"),
        &other,
        json!({"name": "x"}),
    )
    .await
    .assert_problem(404, "not_found");
    assert_eq!(
        app.get("/v1/opportunities", &other).await.json["items"],
        json!([])
    );
}

#[actix_web::test]
async fn manual_stage_changes_are_recorded() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Customer").await;
    let id = opportunity(&app, &admin, &acc, json!({"name": "Deal"})).await;
    let path = format!("/v1/opportunities/{id}");
    let p = app
        .patch(
            &path,
            &admin,
            json!({"current_stage": "S2", "stage_reason": "RFP received"}),
            None,
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.json["current_stage"], "S2");
    assert_eq!(
        app.patch(&path, &admin, json!({"current_stage": "S7"}), None)
            .await
            .error_fields(),
        ["current_stage"]
    );
    assert_eq!(
        app.patch(&path, &admin, json!({"stage_reason": "x"}), None)
            .await
            .error_fields(),
        ["stage_reason"]
    );
    let h = app.get(&format!("{path}/stage-history"), &admin).await;
    assert_eq!(h.status, 200);
    let items = h.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["from"], "S1");
    assert_eq!(items[0]["to"], "S2");
    assert_eq!(items[0]["reason"], "RFP received");
    assert_eq!(items[0]["changed_by"], "admin-user");
    assert!(items[0]["assessment_id"].is_null());
}

#[actix_web::test]
async fn pipeline_per_stage() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Customer").await;
    let acc2 = app.account(&admin, "Customer 2").await;
    opportunity(
        &app,
        &admin,
        &acc,
        json!({"name": "a", "estimated_amount": 1000, "currency": "CNY"}),
    )
    .await;
    opportunity(
        &app,
        &admin,
        &acc,
        json!({"name": "b", "estimated_amount": "500.5", "currency": "CNY"}),
    )
    .await;
    opportunity(
        &app,
        &admin,
        &acc2,
        json!({"name": "c", "estimated_amount": 200, "currency": "USD"}),
    )
    .await;
    opportunity(&app, &admin, &acc2, json!({"name": "d"})).await;
    let moved = opportunity(
        &app,
        &app.rep("rita"),
        &app.account(&app.rep("rita"), "Rita's").await,
        json!({"name": "e", "estimated_amount": 100, "currency": "CNY"}),
    )
    .await;
    app.patch(
        &format!("/v1/opportunities/{moved}"),
        &app.manager(),
        json!({"current_stage": "S3"}),
        None,
    )
    .await;
    let won = opportunity(
        &app,
        &admin,
        &acc,
        json!({"name": "won", "estimated_amount": 9, "currency": "CNY"}),
    )
    .await;
    app.patch(
        &format!("/v1/opportunities/{won}"),
        &admin,
        json!({"status": "won"}),
        None,
    )
    .await;

    let r = app.get("/v1/pipeline?lang=en", &admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let stages = r.json["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 6);
    let s1 = &stages[0];
    assert_eq!(s1["code"], "S1");
    assert_eq!(s1["name"], "Business-driven: pinpointing the problem");
    assert_eq!(s1["open_count"], 4, "won ones are not open");
    assert_eq!(
        s1["amounts"],
        json!([
            {"currency": "CNY", "total": "1500.50", "weighted": "150.05"},
            {"currency": "USD", "total": "200.00", "weighted": "20.00"}
        ])
    );
    assert_eq!(s1["average_days_in_stage"], 0.0);
    assert_eq!(s1["stalled"], 0);
    assert_eq!(stages[2]["open_count"], 1);
    assert_eq!(stages[2]["amounts"][0]["weighted"], "50.00", "S3 is 50 %");
    assert!(stages[1]["average_days_in_stage"].is_null());

    let mine = app.get("/v1/pipeline?owner=rita", &admin).await;
    assert_eq!(mine.json["stages"][0]["open_count"], 0);
    assert_eq!(mine.json["stages"][2]["open_count"], 1);
    let acc2_only = app
        .get(&format!("/v1/pipeline?account_id={acc2}"), &admin)
        .await;
    assert_eq!(acc2_only.json["stages"][0]["open_count"], 2);
    assert_eq!(
        app.get("/v1/pipeline?stalled_days=0", &admin)
            .await
            .error_fields(),
        ["stalled_days"]
    );
    let other = app.other_tenant(buyerpath::auth::Role::Viewer);
    assert_eq!(
        app.get("/v1/pipeline", &other).await.json["stages"][0]["open_count"],
        0
    );
}

/// Days in stage and the stalled count: an opportunity is stalled when neither its last
/// assessment nor, never assessed, its creation is within `stalled_days`.
#[actix_web::test]
async fn pipeline_counts_stalled_opportunities_and_days_in_stage() {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Old customer").await;
    let never = opportunity(&app, &admin, &acc, json!({"name": "never assessed"})).await;
    let earlier = opportunity(&app, &admin, &acc, json!({"name": "assessed 10 days ago"})).await;
    let today = opportunity(&app, &admin, &acc, json!({"name": "assessed today"})).await;
    let mut db = AsyncPgConnection::establish(&crate::common::database_url())
        .await
        .unwrap();
    db.batch_execute(&format!(
        "UPDATE opportunities SET created_at = now() - interval '40 days', \
                stage_entered_at = now() - interval '40 days' \
         WHERE tenant_id = '{t}' AND id IN ('{never}', '{earlier}', '{today}'); \
         UPDATE opportunities SET last_assessed_at = now() - interval '10 days' \
         WHERE tenant_id = '{t}' AND id = '{earlier}'",
        t = app.tenant
    ))
    .await
    .unwrap();
    let r = app
        .post(
            &format!("/v1/opportunities/{today}/stage-assessments"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    let s1 = |days: u32| {
        let app = &app;
        let admin = &admin;
        async move {
            let r = app
                .get(&format!("/v1/pipeline?stalled_days={days}"), admin)
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            r.json["stages"][0].clone()
        }
    };
    let month = s1(30).await;
    assert_eq!(month["open_count"], 3);
    assert_eq!(month["average_days_in_stage"], 40.0);
    assert_eq!(month["stalled"], 1, "only the one never assessed");
    assert_eq!(
        s1(5).await["stalled"],
        2,
        "and the one assessed 10 days ago"
    );
    assert_eq!(s1(60).await["stalled"], 0, "created 40 days ago");
}
