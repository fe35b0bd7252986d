//! The playbook: served in zh and en, authored by admins, versioned.

use serde_json::{json, Value};

use crate::common::TestApp;

fn stage<'a>(p: &'a Value, code: &str) -> &'a Value {
    p["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == code)
        .unwrap()
}

fn codes(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn built_in_playbook_in_both_languages() {
    let app = TestApp::spawn().await;
    let viewer = app.viewer();
    let zh = app.get("/v1/playbook", &viewer).await;
    assert_eq!(zh.status, 200, "{}", zh.text);
    assert_eq!(
        zh.header("content-language"),
        Some("zh"),
        "zh is the default"
    );
    assert!(zh.header("etag").unwrap().starts_with("\"1-"));
    assert_eq!(zh.json["version"], 1);
    assert_eq!(zh.json["lang"], "zh");
    assert_eq!(zh.json["fallback_count"], 0);
    let s1 = stage(&zh.json, "S1");
    assert_eq!(s1["name"]["text"], "业务驱动、定位问题");
    assert_eq!(s1["purchase_progress_percent"], 10);
    assert_eq!(s1["progress_is_default"], false);
    assert_eq!(codes(&s1["customer_goals"]), ["S1.G1", "S1.G2", "S1.G3"]);
    let b: Vec<String> = (1..=14).map(|i| format!("S1.B{i:02}")).collect();
    assert_eq!(codes(&s1["customer_behaviours"]), b);
    assert_eq!(
        codes(&s1["sales_milestones"]),
        ["S1.M1", "S1.M2", "S1.M3", "S1.M4"]
    );
    let a: Vec<String> = (1..=10).map(|i| format!("S1.A{i:02}")).collect();
    assert_eq!(codes(&s1["key_actions"]), a);
    assert_eq!(
        s1["key_actions"][4]["tools"],
        json!(["current_state_survey"])
    );
    assert_eq!(s1["key_actions"][4]["serves"], json!(["S1.M2"]));
    assert_eq!(codes(&s1["notes"]), ["S1.N1"]);
    assert!(s1["notes"][0]["text"].as_str().unwrap().contains("多角度"));
    assert_eq!(zh.json["tools"].as_array().unwrap().len(), 14);
    assert_eq!(zh.json["survey_sections"].as_array().unwrap().len(), 12);
    assert_eq!(
        zh.json["contact_roles"]["it_department"][0]["visit_priority"],
        1
    );
    let s2 = stage(&zh.json, "S2");
    assert_eq!(s2["name"]["text"], "确立需求 启动项目");
    assert_eq!(s2["authored"], false);
    assert_eq!(s2["progress_is_default"], true);

    let en = app.get("/v1/playbook?lang=en", &viewer).await;
    assert_eq!(en.header("content-language"), Some("en"));
    let s1 = stage(&en.json, "S1");
    assert_eq!(
        s1["name"]["text"],
        "Business-driven: pinpointing the problem"
    );
    assert_eq!(s1["customer_behaviours"][2]["code"], "S1.B03");
    assert!(s1["customer_behaviours"][2]["text"]
        .as_str()
        .unwrap()
        .contains("failure"));
    assert_eq!(s1["customer_behaviours"][2]["lang"], "en");

    let by_header = app
        .send(
            app.client
                .get(app.url("/v1/playbook"))
                .bearer_auth(&viewer)
                .header("accept-language", "en-GB,en;q=0.9"),
        )
        .await;
    assert_eq!(by_header.json["lang"], "en");
    assert_eq!(
        app.get("/v1/playbook?lang=fr", &viewer)
            .await
            .error_fields(),
        ["lang"]
    );
}

#[actix_web::test]
async fn admins_author_stage_two_with_new_codes_and_versions() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let body = json!({
        "customer_goals": [{"zh": "确立项目需求"}],
        "customer_behaviours": [{"zh": "成立项目组", "en": "Forms a project team"}, {"en": "Issues an RFI"}],
        "sales_milestones": [{"zh": "进入项目组视野", "en": "Known to the project team"}],
        "key_actions": [{"zh": "技术交流", "tools": ["technical_exchange"]}],
        "notes": [],
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
    assert_eq!(r.json["version"], 2);
    assert!(r.header("etag").unwrap().starts_with("\"2-"));
    let s2 = stage(&r.json, "S2");
    assert_eq!(codes(&s2["customer_behaviours"]), ["S2.B01", "S2.B02"]);
    assert_eq!(codes(&s2["sales_milestones"]), ["S2.M1"]);
    assert_eq!(codes(&s2["key_actions"]), ["S2.A01"]);
    assert_eq!(s2["purchase_progress_percent"], 25);
    assert_eq!(s2["authored"], true);
    // zh asked, one behaviour has only en: it falls back and says so.
    assert_eq!(s2["customer_behaviours"][1]["lang"], "en");
    assert_eq!(s2["customer_behaviours"][1]["fallback"], true);
    assert!(r.json["fallback_count"].as_u64().unwrap() >= 1);

    // Second change: keep B02 and the action (now serving M1), drop B01, add one.
    let body = json!({
        "customer_behaviours": [{"code": "S2.B02", "en": "Issues an RFI"}, {"en": "Visits reference sites"}],
        "sales_milestones": [{"code": "S2.M1", "zh": "进入项目组视野", "en": "Known to the project team"}],
        "key_actions": [{"code": "S2.A01", "zh": "技术交流", "serves": ["S2.M1"], "tools": ["technical_exchange"]}],
        "purchase_progress_percent": 25
    });
    let r = app
        .send(
            app.client
                .put(app.url("/v1/playbook/stages/S2?lang=en"))
                .bearer_auth(&admin)
                .header("if-match", "\"2\"")
                .json(&body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["version"], 3);
    let s2 = stage(&r.json, "S2");
    assert_eq!(
        codes(&s2["customer_behaviours"]),
        ["S2.B02", "S2.B03"],
        "B01 is never reused"
    );
    assert_eq!(s2["key_actions"][0]["serves"], json!(["S2.M1"]));

    // A stale If-Match loses.
    let r = app
        .send(
            app.client
                .put(app.url("/v1/playbook/stages/S3"))
                .bearer_auth(&admin)
                .header("if-match", "\"2\"")
                .json(&json!({"purchase_progress_percent": 55})),
        )
        .await;
    r.assert_problem(412, "precondition_failed");

    // Versions: built-in + 2 changes; old versions stay readable.
    let v = app.get("/v1/playbook/versions", &admin).await;
    let versions: Vec<i64> = v.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2, 3]);
    assert_eq!(v.json["items"][1]["stage_code"], "S2");
    assert_eq!(v.json["items"][1]["created_by"], "admin-user");
    let page = app.get("/v1/playbook/versions?limit=2", &admin).await;
    let cursor = page.json["next_cursor"].as_str().unwrap().to_string();
    let rest = app
        .get(
            &format!("/v1/playbook/versions?limit=2&cursor={cursor}"),
            &admin,
        )
        .await;
    assert_eq!(rest.json["items"][0]["version"], 3);
    assert!(rest.json["next_cursor"].is_null());
    let v2 = app.get("/v1/playbook/versions/2", &admin).await;
    assert_eq!(
        codes(&stage(&v2.json, "S2")["customer_behaviours"]),
        ["S2.B01", "S2.B02"]
    );
    let v1 = app.get("/v1/playbook/versions/1?lang=en", &admin).await;
    assert_eq!(stage(&v1.json, "S2")["authored"], false);
    app.get("/v1/playbook/versions/99", &admin)
        .await
        .assert_problem(404, "not_found");
    assert_eq!(app.get("/v1/playbook", &admin).await.json["version"], 3);

    // Other tenants still see the built-in playbook.
    let other = app.other_tenant(buyerpath::auth::Role::Viewer);
    assert_eq!(app.get("/v1/playbook", &other).await.json["version"], 1);
    app.get("/v1/playbook/versions/2", &other)
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn stage_one_is_only_added_to_and_authoring_is_validated() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let put = |code: &str, body: Value| {
        app.client
            .put(app.url(&format!("/v1/playbook/stages/{code}")))
            .bearer_auth(&admin)
            .json(&body)
    };
    let r = app
        .send(put(
            "S1",
            json!({"customer_behaviours": [{"code": "S1.B01", "en": "rewritten"}]}),
        ))
        .await;
    assert_eq!(r.error_fields(), ["customer_behaviours[0]"]);
    let r = app
        .send(put("S1", json!({"purchase_progress_percent": 20})))
        .await;
    assert_eq!(r.error_fields(), ["purchase_progress_percent"]);
    let r = app
        .send(put(
            "S1",
            json!({"customer_behaviours": [{"zh": "客户引入新的CIO"}]}),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let s1 = stage(&r.json, "S1");
    assert_eq!(s1["customer_behaviours"].as_array().unwrap().len(), 15);
    assert_eq!(s1["customer_behaviours"][14]["code"], "S1.B15");

    let r = app
        .send(put("S3", json!({"purchase_progress_percent": 20})))
        .await;
    assert_eq!(
        r.error_fields(),
        ["purchase_progress_percent"],
        "must increase with order"
    );
    let r = app
        .send(put(
            "S2",
            json!({"key_actions": [{"zh": "x", "serves": ["S1.M1"], "tools": ["spade"]}]}),
        ))
        .await;
    assert_eq!(
        r.error_fields(),
        ["key_actions[0].serves[0]", "key_actions[0].tools[0]"]
    );
    let r = app
        .send(put("S2", json!({"customer_goals": [{"zh": " "}]})))
        .await;
    assert_eq!(r.error_fields(), ["customer_goals[0].zh"]);
    let r = app
        .send(put(
            "S2",
            json!({"customer_goals": [{"code": "S2.G7", "zh": "x"}]}),
        ))
        .await;
    assert_eq!(r.error_fields(), ["customer_goals[0].code"]);
    let r = app.send(put("S2", json!({"surprise": true}))).await;
    assert_eq!(r.error_fields(), ["surprise"]);
    let r = app
        .send(put("S2", json!({"purchase_progress_percent": 300})))
        .await;
    assert_eq!(r.error_fields(), ["purchase_progress_percent"]);
    app.send(put("S9", json!({})))
        .await
        .assert_problem(404, "not_found");

    let manager = app.manager();
    app.send(
        app.client
            .put(app.url("/v1/playbook/stages/S2"))
            .bearer_auth(&manager)
            .json(&json!({})),
    )
    .await
    .assert_problem(403, "forbidden");
    assert_eq!(
        app.get("/v1/playbook", &admin).await.json["version"],
        2,
        "failed changes add no version"
    );
}
