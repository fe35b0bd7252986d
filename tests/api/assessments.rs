//! Stage assessments through HTTP: evidence in, judgement out.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::TestApp;
use crate::opportunities::opportunity;

struct Deal {
    account: String,
    opp: String,
    c1: String,
    c2: String,
}

async fn deal(app: &TestApp, token: &str) -> Deal {
    let account = app.account(token, "Provincial grid").await;
    let c1 = app
        .contact(
            token,
            &account,
            json!({"name": "Head", "department": "it", "methodology_role": "it_head"}),
        )
        .await;
    let c2 = app
        .contact(
            token,
            &account,
            json!({"name": "Engineer", "department": "it"}),
        )
        .await;
    let opp = opportunity(app, token, &account, json!({"name": "Core network"})).await;
    Deal {
        account,
        opp,
        c1,
        c2,
    }
}

fn contact(id: &str) -> Value {
    json!({"kind": "contact", "contact_id": id})
}

async fn assess(app: &TestApp, token: &str, opp: &str, body: Value) -> crate::common::Resp {
    app.post(
        &format!("/v1/opportunities/{opp}/stage-assessments?lang=en"),
        token,
        body,
    )
    .await
}

#[actix_web::test]
async fn verification_single_source_and_verified() {
    let app = TestApp::spawn().await;
    let rep = app.rep("rita");
    let d = deal(&app, &rep).await;
    let r = assess(&app, &rep, &d.opp, json!({
        "observed_behaviours": [{"code": "S1.B01", "evidence": "上级下发文件", "sources": [contact(&d.c1)]}]
    })).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.header("location").unwrap().ends_with(&r.id()));
    assert_eq!(
        r.json["observed_behaviours"][0]["verification"],
        "single_source"
    );
    assert_eq!(r.json["stage"]["code"], "S1");
    assert_eq!(r.json["purchase_progress_percent"], 10);
    assert_eq!(r.json["playbook_version"], 1);
    assert!(r.json["risks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["code"] == "unverified_key_information"));

    let r = assess(&app, &rep, &d.opp, json!({
        "observed_behaviours": [{"code": "S1.B01", "evidence": "文件", "sources": [contact(&d.c1), contact(&d.c2)]}]
    })).await;
    assert_eq!(r.json["observed_behaviours"][0]["verification"], "verified");
    let r = assess(
        &app,
        &rep,
        &d.opp,
        json!({
            "observed_behaviours": [{"code": "S1.B01", "sources": [contact(&d.c1), contact(&d.c1)]}]
        }),
    )
    .await;
    assert_eq!(
        r.json["observed_behaviours"][0]["verification"], "single_source",
        "same contact twice"
    );
    let r = assess(&app, &rep, &d.opp, json!({
        "observed_behaviours": [{"code": "S1.B01", "sources": [contact(&d.c1), {"kind": "document", "ref": "红头文件"}]}]
    })).await;
    assert_eq!(
        r.json["observed_behaviours"][0]["verification"], "verified",
        "different kinds"
    );
}

#[actix_web::test]
async fn s1_m1_with_an_empty_org_chart_is_contradicted() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Unknown org").await;
    let opp = opportunity(&app, &admin, &acc, json!({"name": "Deal"})).await;
    let r = assess(&app, &admin, &opp, json!({
        "milestones": [{"code": "S1.M1", "status": "achieved", "evidence": "we know them",
                        "sources": [{"kind": "meeting", "ref": "m1"}, {"kind": "email", "ref": "e1"}]}]
    })).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let m1 = &r.json["milestones"][0];
    assert_eq!(m1["code"], "S1.M1");
    assert_eq!(m1["status"], "achieved");
    assert_eq!(m1["verification"], "verified");
    assert_eq!(m1["data_check"], "contradicted");
    assert_eq!(
        r.json["milestones"][1]["data_check"], "consistent",
        "S1.M2 not claimed; no survey agrees"
    );
    assert_eq!(r.json["milestones"][2]["data_check"], "not_applicable");
    assert_eq!(r.json["milestone_completion_percent"], 0);
    assert_eq!(r.json["ready_to_advance"], false);
    assert!(r.json["blocking_reasons"][0]
        .as_str()
        .unwrap()
        .starts_with("S1.M1"));
    let risks: Vec<&str> = r.json["risks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap())
        .collect();
    assert!(risks.contains(&"no_supporter"));
    assert!(risks.contains(&"no_senior_leadership_contact"));

    // With an IT head who is a supporting key person, the same claim is consistent.
    app.contact(
        &admin,
        &acc,
        json!({"name": "Head", "methodology_role": "it_head", "attitude": "supporter",
                                      "key_person": true, "department": "it"}),
    )
    .await;
    app.contact(
        &admin,
        &acc,
        json!({"name": "Boss", "department": "senior_leadership", "relationship": "established"}),
    )
    .await;
    let r = assess(&app, &admin, &opp, json!({
        "milestones": [{"code": "S1.M1", "status": "achieved",
                        "sources": [{"kind": "meeting", "ref": "m1"}, {"kind": "email", "ref": "e1"}]}]
    })).await;
    assert_eq!(r.json["milestones"][0]["data_check"], "consistent");
    assert_eq!(r.json["milestone_completion_percent"], 25);
    let risks: Vec<&str> = r.json["risks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap())
        .collect();
    assert!(
        !risks.contains(&"no_supporter") && !risks.contains(&"no_senior_leadership_contact"),
        "{risks:?}"
    );
}

#[actix_web::test]
async fn competitor_leaning_puts_s1_a08_first() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let d = deal(&app, &admin).await;
    let r = assess(
        &app,
        &admin,
        &d.opp,
        json!({
            "requirements": {"clarity": "clear", "leaning": "competitor", "competitor": "Vendor X"}
        }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let actions = r.json["recommended_actions"].as_array().unwrap();
    assert_eq!(actions[0]["code"], "S1.A08");
    assert!(actions[0]["reason"].as_str().unwrap().contains("Vendor X"));
    assert_eq!(actions[0]["tools"][0]["code"], "vision_reengineering_9box");
    assert!(r.json["risks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["code"] == "competitor_leaning"));

    let r = assess(
        &app,
        &admin,
        &d.opp,
        json!({"requirements": {"clarity": "unclear"}, "completed_actions": ["S1.A06"]}),
    )
    .await;
    let codes: Vec<&str> = r.json["recommended_actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(&codes[..2], ["S1.A08", "S1.A07"]);
    assert!(
        !codes.contains(&"S1.A06"),
        "completed actions are not recommended"
    );
}

#[actix_web::test]
async fn authored_stage_two_moves_the_evidence_stage_and_apply_writes_history() {
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
    let rep = app.rep("rita");
    let d = deal(&app, &rep).await;
    let body = json!({
        "observed_behaviours": [
            {"code": "S1.B02", "sources": [contact(&d.c1)]},
            {"code": "S2.B01", "evidence": "项目组名单", "sources": [contact(&d.c1), contact(&d.c2)]}
        ],
        "milestones": [{"code": "S1.M1", "status": "in_progress"}]
    });
    let r = assess(&app, &rep, &d.opp, body.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["stage"]["code"], "S2");
    assert_eq!(
        r.json["stage"]["name"],
        "Requirements established, project launched"
    );
    assert_eq!(r.json["purchase_progress_percent"], 35);
    assert_eq!(r.json["playbook_version"], 2);
    assert_eq!(r.json["milestones"][0]["code"], "S2.M1");
    assert_eq!(
        r.json["stage_change"],
        json!({"from": "S1", "to": "S2", "direction": "forward", "applied": false})
    );
    assert!(r.json["risks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["code"] == "seller_behind_customer"));
    let opp_path = format!("/v1/opportunities/{}", d.opp);
    assert_eq!(
        app.get(&opp_path, &rep).await.json["current_stage"],
        "S1",
        "not applied"
    );

    // Another rep may not assess (nor apply); the owner applies.
    app.post(
        &format!("{opp_path}/stage-assessments"),
        &app.rep("bob"),
        body.clone(),
    )
    .await
    .assert_problem(403, "forbidden");
    app.post(
        &format!("{opp_path}/stage-assessments"),
        &app.viewer(),
        body.clone(),
    )
    .await
    .assert_problem(403, "forbidden");
    let mut applied = body.clone();
    applied["apply"] = json!(true);
    let r = assess(&app, &rep, &d.opp, applied).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["stage_change"]["applied"], true);
    let assessment_id = r.id();
    let opp = app.get(&opp_path, &rep).await;
    assert_eq!(opp.json["current_stage"], "S2");
    assert!(opp.json["last_assessed_at"].is_string());
    let h = app.get(&format!("{opp_path}/stage-history"), &rep).await;
    let items = h.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["from"], "S1");
    assert_eq!(items[0]["to"], "S2");
    assert_eq!(items[0]["assessment_id"], assessment_id);
    assert_eq!(items[0]["changed_by"], "rita");

    // Assessments are listed newest first and readable one by one.
    let list = app
        .get(&format!("{opp_path}/stage-assessments"), &rep)
        .await;
    let ids: Vec<&str> = list.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], assessment_id);
    let one = app
        .get(
            &format!("{opp_path}/stage-assessments/{assessment_id}"),
            &app.viewer(),
        )
        .await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json["input"]["apply"], true);
    assert_eq!(one.json["opportunity_stage"], "S1");
    app.get(
        &format!("{opp_path}/stage-assessments/{}", Uuid::now_v7()),
        &rep,
    )
    .await
    .assert_problem(404, "not_found");
    let page = app
        .get(&format!("{opp_path}/stage-assessments?limit=1"), &rep)
        .await;
    let cur = page.json["next_cursor"].as_str().unwrap().to_string();
    let page2 = app
        .get(
            &format!("{opp_path}/stage-assessments?limit=1&cursor={cur}"),
            &rep,
        )
        .await;
    assert_eq!(page2.json["items"][0]["id"], ids[1]);
}

#[actix_web::test]
async fn chinese_judgement_by_default() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let d = deal(&app, &admin).await;
    let r = app
        .post(
            &format!("/v1/opportunities/{}/stage-assessments", d.opp),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["lang"], "zh");
    assert_eq!(r.header("content-language"), Some("zh"));
    assert_eq!(r.json["stage"]["name"], "业务驱动、定位问题");
    assert!(r.json["stage_change"].is_null());
}

#[actix_web::test]
async fn malformed_assessments_name_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let d = deal(&app, &admin).await;
    let stranger_acc = app.account(&admin, "Other").await;
    let stranger = app
        .contact(&admin, &stranger_acc, json!({"name": "Stranger"}))
        .await;
    let cases = [
        (
            json!({"observed_behaviours": [{"code": "S1.B99"}]}),
            "observed_behaviours[0].code",
        ),
        (
            json!({"observed_behaviours": [{"code": "S1.M1"}]}),
            "observed_behaviours[0].code",
        ),
        (
            json!({"observed_behaviours": [{"code": "S1.B01"}, {"code": "S1.B01"}]}),
            "observed_behaviours[1].code",
        ),
        (
            json!({"observed_behaviours": [{"code": "S1.B01", "sources": [{"kind": "contact"}]}]}),
            "observed_behaviours[0].sources[0].contact_id",
        ),
        (
            json!({"observed_behaviours": [{"code": "S1.B01", "sources": [contact(&stranger)]}]}),
            "observed_behaviours[0].sources[0].contact_id",
        ),
        (
            json!({"observed_behaviours": [{"code": "S1.B01", "sources": [{"kind": "rumour"}]}]}),
            "observed_behaviours[0].sources[0].kind",
        ),
        (
            json!({"observed_behaviours": [{"code": "S1.B01", "sources": [{"kind": "other"}]}]}),
            "observed_behaviours[0].sources[0].ref",
        ),
        (
            json!({"milestones": [{"code": "S1.M1", "status": "done"}]}),
            "milestones[0].status",
        ),
        (
            json!({"milestones": [{"code": "S1.M9", "status": "achieved"}]}),
            "milestones[0].code",
        ),
        (
            json!({"milestones": [{"code": "S1.M1", "status": "achieved"}, {"code": "S1.M1", "status": "achieved"}]}),
            "milestones[1].code",
        ),
        (
            json!({"completed_actions": ["S1.A77"]}),
            "completed_actions[0]",
        ),
        (
            json!({"requirements": {"leaning": "them"}}),
            "requirements.leaning",
        ),
        (json!({"apply": "yes"}), "apply"),
        (json!({"stage": "S3"}), "stage"),
    ];
    for (body, field) in cases {
        let r = assess(&app, &admin, &d.opp, body.clone()).await;
        assert_eq!(r.error_fields(), [field], "{body}");
    }
    // Nothing was stored by the failures.
    let list = app
        .get(
            &format!("/v1/opportunities/{}/stage-assessments", d.opp),
            &admin,
        )
        .await;
    assert_eq!(list.json["items"], json!([]));
    let _ = d.account;
}

/// The opportunity is locked by marking it assessed, in one transaction with the reads and the
/// writes: a refused assessment leaves neither the mark, nor a row, nor an event.
#[actix_web::test]
async fn a_refused_assessment_leaves_nothing_behind() {
    let app = TestApp::spawn().await;
    let rep = app.rep("rita");
    let d = deal(&app, &rep).await;
    let path = format!("/v1/opportunities/{}/stage-assessments", d.opp);
    let nothing_stored = async |why: &str| {
        let opp = app.get(&format!("/v1/opportunities/{}", d.opp), &rep).await;
        assert!(
            opp.json["last_assessed_at"].is_null(),
            "{why}: {}",
            opp.text
        );
        let list = app.get(&path, &rep).await;
        assert_eq!(list.json["items"], json!([]), "{why}");
        let events = app
            .get("/v1/events?types=stage_assessment.created", &app.admin())
            .await;
        assert_eq!(events.json["items"], json!([]), "{why}");
    };
    // Invalid evidence (422), another rep (403), a contact of no account of the tenant (422),
    // an unknown opportunity (404), and an archived account (409).
    let r = assess(&app, &rep, &d.opp, json!({"milestones": ["S9.M01"]})).await;
    assert_eq!(r.status, 422, "{}", r.text);
    nothing_stored("422").await;
    assess(&app, &app.rep("bob"), &d.opp, json!({}))
        .await
        .assert_problem(403, "forbidden");
    nothing_stored("403").await;
    let stranger = json!({"observed_behaviours": [
        {"code": "S1.B01", "evidence": "文件", "sources": [contact(&Uuid::now_v7().to_string())]}
    ]});
    let r = assess(&app, &rep, &d.opp, stranger).await;
    assert_eq!(r.status, 422, "{}", r.text);
    nothing_stored("unknown contact").await;
    assess(&app, &rep, &Uuid::now_v7().to_string(), json!({}))
        .await
        .assert_problem(404, "not_found");
    app.delete(&format!("/v1/accounts/{}", d.account), &rep, None)
        .await;
    assess(&app, &rep, &d.opp, json!({}))
        .await
        .assert_problem(409, "conflict");
    nothing_stored("409").await;

    // Restored, the same request is stored with its mark and its event.
    app.post(
        &format!("/v1/accounts/{}/restore", d.account),
        &rep,
        json!({}),
    )
    .await;
    let r = assess(&app, &rep, &d.opp, json!({})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let opp = app.get(&format!("/v1/opportunities/{}", d.opp), &rep).await;
    assert!(opp.json["last_assessed_at"].is_string());
    let events = crate::events::settled(
        &app,
        &app.admin(),
        "/v1/events?types=stage_assessment.created",
        1,
    )
    .await;
    assert_eq!(events.json["items"][0]["data"]["id"], r.id());
}
