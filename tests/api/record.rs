//! Assessments from the record of activities.

use serde_json::{json, Value};

use crate::common::TestApp;

struct Deal {
    acc: String,
    opp: String,
    head: String,
    eng: String,
}

async fn deal(app: &TestApp, token: &str) -> Deal {
    let acc = app.account(token, "华东电力设计院").await;
    let head = app
        .contact(
            token,
            &acc,
            json!({"name": "王建国", "methodology_role": "it_head"}),
        )
        .await;
    let eng = app
        .contact(
            token,
            &acc,
            json!({"name": "李工", "methodology_role": "technical_authority"}),
        )
        .await;
    let opp = app
        .post(
            &format!("/v1/accounts/{acc}/opportunities"),
            token,
            json!({"name": "网络改造"}),
        )
        .await
        .id();
    Deal {
        acc,
        opp,
        head,
        eng,
    }
}

async fn activity(app: &TestApp, token: &str, d: &Deal, body: Value) -> String {
    let mut body = body;
    body["opportunity_id"] = json!(d.opp);
    let r = app
        .post(&format!("/v1/accounts/{}/activities", d.acc), token, body)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.id()
}

/// An instant `days` days ago at `hour`:00 UTC: the record is judged relative to now (what was
/// done within 30 days, what lies in the record window).
fn ago(days: i64, hour: u32) -> String {
    let day = (chrono::Utc::now() - chrono::Duration::days(days)).date_naive();
    format!("{day}T{hour:02}:00:00Z")
}

fn observed<'a>(j: &'a Value, code: &str) -> &'a Value {
    j["observed_behaviours"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["code"] == code)
        .unwrap_or_else(|| panic!("{code} not observed: {j}"))
}

#[actix_web::test]
async fn a_signal_seen_twice_from_two_angles_is_verified_by_the_record() {
    let app = TestApp::spawn().await;
    let rep = app.rep("rita");
    let d = deal(&app, &rep).await;
    let v1 = activity(
        &app,
        &rep,
        &d,
        json!({
        "kind": "visit", "occurred_at": ago(16, 2), "subject": "拜访王主任",
        "participants": [d.head], "key_actions": ["S1.A03"],
        "observations": [{"signal": "S1.B03", "evidence": "核心交换机宕机"}]}),
    )
    .await;
    let v2 = activity(
        &app,
        &rep,
        &d,
        json!({
        "kind": "visit", "occurred_at": ago(14, 2), "subject": "拜访李工",
        "participants": [d.eng],
        "observations": [{"signal": "S1.B03", "evidence": "机房老化"}],
        "requirements": {"clarity": "clear", "leaning": "us"}}),
    )
    .await;
    let path = format!("/v1/opportunities/{}/stage-assessments", d.opp);

    let draft = app.get(&format!("{path}/draft?lang=en"), &rep).await;
    assert_eq!(draft.status, 200, "{}", draft.text);
    assert_eq!(draft.json["basis"], "record");
    let b03 = observed(&draft.json, "S1.B03");
    assert_eq!(b03["verification"], "verified", "{b03}");
    let mut people = vec![d.head.clone(), d.eng.clone()];
    people.sort();
    assert_eq!(
        b03["seen"],
        json!({"times": 2, "angles": 2, "people": people, "kinds": ["visit"], "unattended": false,
               "summary": "2 times, 2 angles: 王建国, 李工 (Visit)"})
    );
    assert_eq!(b03["supported_by"], json!([v1, v2]));
    assert_eq!(b03["basis"], "record");
    assert_eq!(draft.json["input"]["completed_actions"], json!(["S1.A03"]));
    let m4 = draft.json["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["code"] == "S1.M4")
        .unwrap();
    assert_eq!(m4["status"], "achieved", "requirements lean to us: {m4}");
    assert_eq!(m4["supported_by"], json!([v2]));
    assert_eq!(
        app.get(&path, &rep).await.json["items"],
        json!([]),
        "a draft stores nothing"
    );

    // Stored with its basis; claims merged in and marked as claims.
    let r = app
        .post(
            &format!("{path}?lang=zh"),
            &rep,
            json!({"from_record": true,
                   "milestones": [{"code": "S1.M2", "status": "in_progress"}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["basis"], "record");
    assert_eq!(observed(&r.json, "S1.B03")["supported_by"], json!([v1, v2]));
    let m2 = r.json["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["code"] == "S1.M2")
        .unwrap();
    assert_eq!(m2["basis"], "claims");
    assert_eq!(m2["status"], "in_progress");
    let stored = app.get(&format!("{path}/{}", r.id()), &rep).await;
    assert_eq!(stored.json["basis"], "record");
    assert_eq!(
        observed(&stored.json, "S1.B03")["supported_by"],
        json!([v1, v2])
    );
}

#[actix_web::test]
async fn one_person_met_five_times_is_one_angle_until_met_another_way() {
    let app = TestApp::spawn().await;
    let rep = app.rep("rita");
    let d = deal(&app, &rep).await;
    for day in 16..21 {
        activity(
            &app,
            &rep,
            &d,
            json!({
            "kind": "visit", "occurred_at": ago(34 - day, 2),
            "subject": "拜访王主任", "participants": [d.head],
            "observations": [{"signal": "S1.B03"}]}),
        )
        .await;
    }
    let path = format!("/v1/opportunities/{}/stage-assessments/draft", d.opp);
    let draft = app.get(&path, &rep).await;
    let b03 = observed(&draft.json, "S1.B03");
    assert_eq!(
        b03["verification"], "single_source",
        "five times, one angle: {b03}"
    );
    assert_eq!(
        (&b03["seen"]["times"], &b03["seen"]["angles"]),
        (&json!(5), &json!(1))
    );
    assert_eq!(b03["seen"]["summary"], "5 次, 1 个角度: 王建国 (拜访)");
    // The same person by e-mail on another day: a second angle.
    activity(
        &app,
        &rep,
        &d,
        json!({
        "kind": "email", "occurred_at": ago(12, 2), "subject": "邮件确认",
        "participants": [d.head], "observations": [{"signal": "S1.B03"}]}),
    )
    .await;
    let draft = app.get(&path, &rep).await;
    let b03 = observed(&draft.json, "S1.B03");
    assert_eq!(b03["verification"], "verified", "{b03}");
    assert_eq!(
        b03["seen"],
        json!({"times": 6, "angles": 2, "people": [d.head], "kinds": ["visit", "email"],
               "unattended": false, "summary": "6 次, 2 个角度: 王建国 (拜访、邮件)"})
    );
}

#[actix_web::test]
async fn the_same_signal_twice_from_one_contact_on_one_day_has_a_single_source() {
    let app = TestApp::spawn().await;
    let rep = app.rep("rita");
    let d = deal(&app, &rep).await;
    for hour in [2, 6] {
        activity(
            &app,
            &rep,
            &d,
            json!({
            "kind": "call", "occurred_at": ago(16, hour), "subject": "电话",
            "participants": [d.head], "observations": [{"signal": "S1.B03"}]}),
        )
        .await;
    }
    let draft = app
        .get(
            &format!("/v1/opportunities/{}/stage-assessments/draft", d.opp),
            &rep,
        )
        .await;
    let b03 = observed(&draft.json, "S1.B03");
    assert_eq!(b03["verification"], "single_source", "{b03}");
    assert_eq!(b03["supported_by"].as_array().unwrap().len(), 2);
    assert!(draft.json["risks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["code"] == "unverified_key_information"));

    // Archived activities are not evidence; without a record nothing is observed.
    let other = deal(&app, &rep).await;
    let empty = app
        .get(
            &format!("/v1/opportunities/{}/stage-assessments/draft", other.opp),
            &rep,
        )
        .await;
    assert_eq!(empty.json["observed_behaviours"], json!([]));
    assert_eq!(empty.json["stage"]["code"], "S1");
}

#[actix_web::test]
async fn apply_from_the_record_moves_the_stage_and_other_tenants_see_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let body = json!({
        "customer_behaviours": [{"zh": "成立项目组", "en": "Forms a project team"}],
        "sales_milestones": [{"zh": "进入项目组视野"}],
        "purchase_progress_percent": 25
    });
    let r = app
        .send(
            app.client
                .put(app.url("/v1/playbook/stages/S2"))
                .bearer_auth(&admin)
                .json(&body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let d = deal(&app, &admin).await;
    activity(
        &app,
        &admin,
        &d,
        json!({
        "kind": "meeting", "occurred_at": ago(16, 2), "subject": "项目组会议",
        "participants": [d.head], "observations": [{"signal": "S2.B01"}]}),
    )
    .await;
    let path = format!("/v1/opportunities/{}/stage-assessments", d.opp);
    let r = app
        .post(&path, &admin, json!({"from_record": true, "apply": true}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["stage"]["code"], "S2");
    assert_eq!(r.json["stage_change"]["applied"], true);
    let o = app
        .get(&format!("/v1/opportunities/{}", d.opp), &admin)
        .await;
    assert_eq!(o.json["current_stage"], "S2");

    let other = app.other_tenant(buyerpath::auth::Role::Admin);
    app.get(&format!("{path}/draft"), &other)
        .await
        .assert_problem(404, "not_found");
}

fn days_ago(n: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(n)).to_rfc3339()
}

fn recommended(j: &Value) -> Vec<(String, String)> {
    j["recommended_actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap().to_string(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn risk_codes(j: &Value) -> Vec<String> {
    j["risks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn the_record_shapes_recommendations_and_risks() {
    let app = TestApp::spawn().await;
    let rep = app.rep("rita");
    let d = deal(&app, &rep).await;
    app.contact(
        &rep,
        &d.acc,
        json!({"name": "张副主任", "methodology_role": "it_deputy_head"}),
    )
    .await;
    let draft_path = format!(
        "/v1/opportunities/{}/stage-assessments/draft?lang=en",
        d.opp
    );

    // Nothing done yet: S1.A03 is recommended and names the first person to visit.
    let before = app.get(&draft_path, &rep).await;
    let a03 = recommended(&before.json)
        .into_iter()
        .find(|(c, _)| c == "S1.A03")
        .expect("S1.A03 recommended");
    assert!(a03.1.contains("next to visit: 王建国"), "{}", a03.1);

    // Three calls with the IT head only, one of them carrying out S1.A03.
    for (n, actions) in [(3, json!(["S1.A03"])), (2, json!([])), (1, json!([]))] {
        activity(
            &app,
            &rep,
            &d,
            json!({
            "kind": "call", "occurred_at": days_ago(n), "subject": "电话",
            "participants": [d.head], "key_actions": actions}),
        )
        .await;
    }
    let after = app.get(&draft_path, &rep).await;
    let codes: Vec<String> = recommended(&after.json)
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    assert!(
        !codes.contains(&"S1.A03".to_string()),
        "done within 30 days: {codes:?}"
    );
    let risks = risk_codes(&after.json);
    assert!(risks.contains(&"single_threaded".to_string()), "{risks:?}");
    assert!(
        risks.contains(&"stale_relationship".to_string()),
        "the deputy head was never contacted: {risks:?}"
    );
    let stale = after.json["risks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "stale_relationship")
        .unwrap();
    assert!(stale["detail"].as_str().unwrap().contains("张副主任"));
    let single = after.json["risks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "single_threaded")
        .unwrap();
    assert!(
        single["detail"].as_str().unwrap().contains("王建国"),
        "{single}"
    );

    // An old S1.A03 (over 30 days ago) is recommended again, naming the next person.
    let other = deal(&app, &rep).await;
    app.contact(
        &rep,
        &other.acc,
        json!({"name": "赵副主任", "methodology_role": "it_deputy_head"}),
    )
    .await;
    activity(
        &app,
        &rep,
        &other,
        json!({
        "kind": "visit", "occurred_at": days_ago(45), "subject": "拜访",
        "participants": [other.head], "key_actions": ["S1.A03"]}),
    )
    .await;
    let old = app
        .get(
            &format!(
                "/v1/opportunities/{}/stage-assessments/draft?lang=zh",
                other.opp
            ),
            &rep,
        )
        .await;
    let a03 = recommended(&old.json)
        .into_iter()
        .find(|(c, _)| c == "S1.A03")
        .expect("S1.A03 recommended again after 30 days");
    assert!(a03.1.contains("下一位拜访对象:赵副主任"), "{}", a03.1);
}

#[actix_web::test]
async fn a_long_record_is_judged_with_one_source_per_kind_and_contact() {
    let app = TestApp::spawn().await;
    let rep = app.rep("rita");
    let d = deal(&app, &rep).await;
    let mut ids = Vec::new();
    for day in 1..=25 {
        let kind = if day % 2 == 0 { "call" } else { "visit" };
        ids.push(
            activity(
                &app,
                &rep,
                &d,
                json!({
                "kind": kind, "occurred_at": ago(65 - day, 2),
                "subject": "跟进", "participants": [d.head, d.eng],
                "observations": [{"signal": "S1.B03"}]}),
            )
            .await,
        );
    }
    let draft = app
        .get(
            &format!("/v1/opportunities/{}/stage-assessments/draft", d.opp),
            &rep,
        )
        .await;
    assert_eq!(draft.status, 200, "{}", draft.text);
    let b03 = observed(&draft.json, "S1.B03");
    assert_eq!(b03["supported_by"].as_array().unwrap().len(), 25);
    assert_eq!(
        b03["sources"].as_array().unwrap().len(),
        4,
        "visit, head, engineer, call: {b03}"
    );
    assert_eq!(b03["verification"], "verified");
}

#[actix_web::test]
async fn the_visit_order_holds_until_the_it_head_is_reached() {
    let app = TestApp::spawn().await;
    let rep = app.rep("rita");
    let d = deal(&app, &rep).await;
    // S1.A03 carried out with the technical authority, the IT head known and not met.
    activity(
        &app,
        &rep,
        &d,
        json!({
        "kind": "visit", "occurred_at": ago(16, 2), "subject": "拜访李工",
        "participants": [d.eng], "key_actions": ["S1.A03"]}),
    )
    .await;
    let path = format!("/v1/opportunities/{}/stage-assessments/draft", d.opp);
    let a03 = |j: &Value| {
        j["recommended_actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == "S1.A03")
            .cloned()
    };
    let draft = app.get(&path, &rep).await;
    let rec = a03(&draft.json).expect("S1.A03 stays recommended");
    assert!(
        rec["reason"]
            .as_str()
            .unwrap()
            .contains("下一位拜访对象:王建国"),
        "{rec}"
    );
    let en = app.get(&format!("{path}?lang=en"), &rep).await;
    let rec = a03(&en.json).expect("S1.A03 stays recommended");
    assert!(
        rec["reason"]
            .as_str()
            .unwrap()
            .contains("next to visit: 王建国"),
        "{rec}"
    );
    // The head met: the order is kept, and S1.A03 (done within 30 days) is not recommended.
    activity(
        &app,
        &rep,
        &d,
        json!({
        "kind": "visit", "occurred_at": ago(14, 2), "subject": "拜访王主任",
        "participants": [d.head]}),
    )
    .await;
    let draft = app.get(&path, &rep).await;
    assert_eq!(a03(&draft.json), None, "{}", draft.text);
}
