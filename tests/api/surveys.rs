//! Survey records, the installed base, and how surveys feed the stage engine.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::TestApp;
use crate::opportunities::opportunity;

pub fn full_sections() -> Value {
    json!({
        "topology": {"summary": "三层架构,双核心", "sites": 3, "network_layers": ["core", "aggregation", "access"], "diagram_ref": "topo-2026.vsdx"},
        "inventory": [
            {"category": "network", "brand": "Huawei", "model": "S12700", "quantity": 2, "deployed_year": 2016, "end_of_support": "2025-12-31"},
            {"category": "server", "brand": "Inspur", "model": "NF5280M5", "quantity": 12, "deployed_year": 2019},
            {"category": "storage", "brand": "Huawei", "model": "OceanStor 5300", "quantity": 1}
        ],
        "applications": [{"name": "ERP", "type": "ERP", "users": 800, "criticality": "high"}],
        "business_platforms": [{"name": "营销平台", "vendor": "自研"}],
        "daily_traffic": {"average_mbps": 300, "peak_mbps": 950, "peak_hours": "09:00-11:00"},
        "security_measures": [{"area": "边界", "measure": "下一代防火墙", "product": "USG6000"}],
        "problems": [{"description": "核心交换机老化", "impact": "故障频发", "severity": "high"}],
        "requirements_goals": [{"description": "万兆骨干", "priority": "high"}],
        "third_parties": [{"kind": "design_institute", "name": "省电力设计院", "role": "可研编制"}],
        "budget": {"estimate": 1000000, "ceiling": 1200000, "currency": "CNY", "status": "agreed_with_superiors"},
        "timeline": {"earliest_start": "2027-03-01", "deadline": "2027-09-30", "basis": "参照2019年项目"}
    })
}

async fn survey(app: &TestApp, token: &str, account: &str, body: Value) -> crate::common::Resp {
    app.post(
        &format!("/v1/accounts/{account}/survey-records"),
        token,
        body,
    )
    .await
}

#[actix_web::test]
async fn survey_crud_completeness_and_concurrency() {
    let app = TestApp::spawn().await;
    let rep = app.rep("rita");
    let acc = app.account(&rep, "Customer").await;
    let c1 = app.contact(&rep, &acc, json!({"name": "王建国"})).await;
    let r = survey(&app, &rep, &acc, json!({
        "surveyed_at": "2026-11-20T09:00:00Z", "respondents": [c1, c1],
        "sections": {"inventory": [{"category": "network", "brand": " Huawei ", "model": "S5700", "quantity": 40}],
                     "problems": [{"description": "带宽不足"}]}
    })).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.id();
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/survey-records/{id}").as_str())
    );
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert_eq!(r.json["surveyor"], "rita", "defaults to the caller");
    assert_eq!(r.json["respondents"], json!([c1]), "deduplicated");
    assert_eq!(
        r.json["sections"]["inventory"][0]["brand"], "Huawei",
        "trimmed"
    );
    assert_eq!(r.json["completeness"]["percent"], 17, "2 of 12");
    assert_eq!(r.json["completeness"]["sections"]["inventory"], true);
    assert_eq!(r.json["completeness"]["sections"]["servers_storage"], false);
    let missing: Vec<&str> = r.json["completeness"]["missing_sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap())
        .collect();
    assert_eq!(missing.len(), 10);
    assert!(missing.contains(&"servers_storage"));
    assert_eq!(
        r.json["completeness"]["missing_sections"][0]["zh"],
        "信息化整体拓扑"
    );
    assert_eq!(
        r.json["completeness"]["missing_sections"][0]["en"],
        "Overall IT topology"
    );

    let path = format!("/v1/survey-records/{id}");
    assert_eq!(app.get(&path, &app.viewer()).await.json, r.json);
    // Merge patch: nested objects merge, arrays replace.
    let p = app
        .patch(&path, &rep, json!({"sections": {"budget": {"ceiling": 900000, "currency": "CNY"}, "problems": null}}), Some("\"1\""))
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.json["sections"]["budget"]["ceiling"], "900000.00");
    assert_eq!(p.json["sections"]["problems"], json!([]));
    assert_eq!(
        p.json["sections"]["inventory"][0]["model"], "S5700",
        "untouched"
    );
    assert_eq!(p.json["version"], 2);
    let p2 = app
        .patch(
            &path,
            &rep,
            json!({"sections": {"budget": {"estimate": 800000}}}),
            Some("\"2\""),
        )
        .await;
    assert_eq!(
        p2.json["sections"]["budget"],
        json!({"estimate": "800000.00", "ceiling": "900000.00", "currency": "CNY", "status": null})
    );
    app.patch(&path, &rep, json!({"surveyor": "x"}), Some("\"1\""))
        .await
        .assert_problem(412, "precondition_failed");
    assert_eq!(
        app.patch(&path, &rep, json!({"surveyed_at": null}), None)
            .await
            .error_fields(),
        ["surveyed_at"]
    );
    assert_eq!(
        app.patch(&path, &rep, json!({"bogus": 1}), None)
            .await
            .error_fields(),
        ["bogus"]
    );
    assert_eq!(
        app.patch(&path, &rep, json!([1]), None)
            .await
            .error_fields(),
        [""]
    );
    app.patch(&path, &app.rep("bob"), json!({"surveyor": "bob"}), None)
        .await
        .assert_problem(403, "forbidden");

    // A second survey is a new record; lists are newest first by surveyed_at.
    let older = survey(
        &app,
        &rep,
        &acc,
        json!({"surveyed_at": "2026-01-05T00:00:00Z"}),
    )
    .await
    .id();
    let newer = survey(
        &app,
        &rep,
        &acc,
        json!({"surveyed_at": "2026-11-25T00:00:00Z"}),
    )
    .await
    .id();
    let list = app
        .get(&format!("/v1/accounts/{acc}/survey-records?limit=2"), &rep)
        .await;
    let ids: Vec<&str> = list.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [newer.as_str(), id.as_str()]);
    let cur = list.json["next_cursor"].as_str().unwrap().to_string();
    let rest = app
        .get(
            &format!("/v1/accounts/{acc}/survey-records?limit=2&cursor={cur}"),
            &rep,
        )
        .await;
    assert_eq!(rest.json["items"][0]["id"], older);
    assert!(rest.json["next_cursor"].is_null());

    // Archive and restore.
    assert_eq!(
        app.delete(&format!("/v1/survey-records/{newer}"), &rep, None)
            .await
            .status,
        204
    );
    assert_eq!(
        app.get(&format!("/v1/accounts/{acc}/survey-records"), &rep)
            .await
            .json["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    app.patch(
        &format!("/v1/survey-records/{newer}"),
        &rep,
        json!({"surveyor": "x"}),
        None,
    )
    .await
    .assert_problem(409, "conflict");
    assert_eq!(
        app.post(
            &format!("/v1/survey-records/{newer}/restore"),
            &rep,
            json!({})
        )
        .await
        .status,
        200
    );
}

#[actix_web::test]
async fn references_must_belong_to_the_account() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Customer").await;
    let other = app.account(&admin, "Other").await;
    let stranger = app
        .contact(&admin, &other, json!({"name": "Stranger"}))
        .await;
    let other_opp = opportunity(&app, &admin, &other, json!({"name": "Other deal"})).await;
    let r = survey(
        &app,
        &admin,
        &acc,
        json!({"surveyed_at": "2026-11-20T00:00:00Z", "respondents": [stranger]}),
    )
    .await;
    assert_eq!(r.error_fields(), ["respondents[0]"]);
    let r = survey(
        &app,
        &admin,
        &acc,
        json!({"surveyed_at": "2026-11-20T00:00:00Z", "opportunity_id": other_opp}),
    )
    .await;
    assert_eq!(r.error_fields(), ["opportunity_id"]);
    let r = survey(
        &app,
        &admin,
        &acc,
        json!({"surveyed_at": "2026-11-20T00:00:00Z", "respondents": [Uuid::now_v7()]}),
    )
    .await;
    assert_eq!(r.error_fields(), ["respondents[0]"]);
    let mine = opportunity(&app, &admin, &acc, json!({"name": "Deal"})).await;
    let ok = survey(
        &app,
        &admin,
        &acc,
        json!({"surveyed_at": "2026-11-20T00:00:00Z", "opportunity_id": mine}),
    )
    .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    // Another tenant sees nothing.
    let intruder = app.other_tenant(buyerpath::auth::Role::Admin);
    app.get(&format!("/v1/survey-records/{}", ok.id()), &intruder)
        .await
        .assert_problem(404, "not_found");
    survey(
        &app,
        &intruder,
        &acc,
        json!({"surveyed_at": "2026-11-20T00:00:00Z"}),
    )
    .await
    .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn every_section_is_validated() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Customer").await;
    let cases = [
        (
            json!({"topology": {"sites": -1}}),
            "sections.topology.sites",
        ),
        (
            json!({"topology": {"network_layers": [""]}}),
            "sections.topology.network_layers[0]",
        ),
        (
            json!({"topology": {"shape": "star"}}),
            "sections.topology.shape",
        ),
        (
            json!({"inventory": [{"category": "robot", "brand": "x", "quantity": 1}]}),
            "sections.inventory[0].category",
        ),
        (
            json!({"inventory": [{"category": "server", "brand": "", "quantity": 1}]}),
            "sections.inventory[0].brand",
        ),
        (
            json!({"inventory": [{"category": "server", "brand": "x", "quantity": -2}]}),
            "sections.inventory[0].quantity",
        ),
        (
            json!({"inventory": [{"category": "server", "brand": "x", "quantity": "many"}]}),
            "sections.inventory[0].quantity",
        ),
        (
            json!({"inventory": [{"category": "server", "brand": "x", "quantity": 1, "deployed_year": 1900}]}),
            "sections.inventory[0].deployed_year",
        ),
        (
            json!({"inventory": [{"category": "server", "brand": "x", "quantity": 1, "end_of_support": "soon"}]}),
            "sections.inventory[0].end_of_support",
        ),
        (
            json!({"applications": [{"name": " "}]}),
            "sections.applications[0].name",
        ),
        (
            json!({"applications": [{"name": "ERP", "criticality": "vital"}]}),
            "sections.applications[0].criticality",
        ),
        (
            json!({"business_platforms": [{"vendor": "x"}]}),
            "sections.business_platforms[0]",
        ),
        (
            json!({"daily_traffic": {"average_mbps": -5}}),
            "sections.daily_traffic.average_mbps",
        ),
        (
            json!({"daily_traffic": {"average_mbps": 50, "peak_mbps": 10}}),
            "sections.daily_traffic.peak_mbps",
        ),
        (
            json!({"security_measures": [{"area": "边界", "measure": ""}]}),
            "sections.security_measures[0].measure",
        ),
        (
            json!({"problems": [{"description": "x", "severity": "meh"}]}),
            "sections.problems[0].severity",
        ),
        (
            json!({"requirements_goals": [{"description": ""}]}),
            "sections.requirements_goals[0].description",
        ),
        (
            json!({"third_parties": [{"kind": "friend", "name": "x"}]}),
            "sections.third_parties[0].kind",
        ),
        (
            json!({"budget": {"estimate": 100}}),
            "sections.budget.currency",
        ),
        (
            json!({"budget": {"ceiling": 5, "currency": "yuan"}}),
            "sections.budget.currency",
        ),
        (
            json!({"budget": {"status": "approved"}}),
            "sections.budget.status",
        ),
        (
            json!({"budget": {"estimate": 980.5, "currency": "CNY"}}),
            "sections.budget.estimate",
        ),
        (
            json!({"budget": {"estimate": "980.123", "currency": "CNY"}}),
            "sections.budget.estimate",
        ),
        (
            json!({"budget": {"ceiling": "12.5", "currency": "JPY"}}),
            "sections.budget.ceiling",
        ),
        (
            json!({"timeline": {"earliest_start": "2027-05-01", "deadline": "2027-01-01"}}),
            "sections.timeline.deadline",
        ),
        (json!({"servers_storage": []}), "sections.servers_storage"),
    ];
    for (sections, field) in cases {
        let r = survey(
            &app,
            &admin,
            &acc,
            json!({"surveyed_at": "2026-11-20T00:00:00Z", "sections": sections.clone()}),
        )
        .await;
        let fields = r.error_fields();
        assert!(
            fields
                .iter()
                .any(|f| f == field || f.starts_with(&format!("{field}."))),
            "{sections}: {fields:?}"
        );
    }
    let r = survey(&app, &admin, &acc, json!({"sections": {}})).await;
    assert_eq!(r.error_fields(), ["surveyed_at"]);
    let r = survey(&app, &admin, &acc, json!({"surveyed_at": "yesterday"})).await;
    assert_eq!(r.error_fields(), ["surveyed_at"]);
    let ok = survey(
        &app,
        &admin,
        &acc,
        json!({"surveyed_at": "2026-11-20T00:00:00+08:00", "sections": full_sections()}),
    )
    .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    assert_eq!(ok.json["completeness"]["percent"], 100);
    assert_eq!(ok.json["completeness"]["missing_sections"], json!([]));
    assert_eq!(
        ok.json["surveyed_at"], "2026-11-19T16:00:00Z",
        "stored in UTC"
    );
}

#[actix_web::test]
async fn diff_between_two_records() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Customer").await;
    let base = survey(
        &app,
        &admin,
        &acc,
        json!({"surveyed_at": "2026-01-01T00:00:00Z", "sections": full_sections()}),
    )
    .await
    .id();
    let mut changed = full_sections();
    changed["inventory"][0]["quantity"] = json!(4);
    changed["inventory"].as_array_mut().unwrap().remove(1);
    changed["inventory"].as_array_mut().unwrap().push(
        json!({"category": "security", "brand": "Sangfor", "model": "AF-1000", "quantity": 2}),
    );
    changed["budget"]["ceiling"] = json!(1500000);
    let this = survey(
        &app,
        &admin,
        &acc,
        json!({"surveyed_at": "2026-11-01T00:00:00Z", "sections": changed}),
    )
    .await
    .id();
    let d = app
        .get(
            &format!("/v1/survey-records/{this}/diff?base={base}"),
            &admin,
        )
        .await;
    assert_eq!(d.status, 200, "{}", d.text);
    let sections: Vec<&str> = d.json["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["section"].as_str().unwrap())
        .collect();
    assert_eq!(sections, ["inventory", "budget"]);
    // Each section's diff is what the document's typed schema says.
    let doc = app.get("/openapi.json", &admin).await.json;
    crate::catalogue::conforms(&doc, "SurveyDiff", &d.json).unwrap();
    let mut wrong = d.json.clone();
    wrong["sections"][0]["added"][0]["quantity"] = json!("many");
    assert!(crate::catalogue::conforms(&doc, "SurveyDiff", &wrong).is_err());
    let inv = &d.json["sections"][0];
    assert_eq!(inv["added"][0]["brand"], "Sangfor");
    assert_eq!(inv["removed"][0]["brand"], "Inspur");
    assert_eq!(inv["changed"][0]["key"], "network|huawei|s12700");
    assert_eq!(inv["changed"][0]["before"]["quantity"], 2);
    assert_eq!(inv["changed"][0]["after"]["quantity"], 4);
    assert_eq!(
        d.json["sections"][1]["changed"][0]["after"]["ceiling"],
        "1500000.00"
    );
    let same = app
        .get(
            &format!("/v1/survey-records/{this}/diff?base={this}"),
            &admin,
        )
        .await;
    assert_eq!(same.json["sections"], json!([]));
    let other_acc = app.account(&admin, "Other").await;
    let foreign = survey(
        &app,
        &admin,
        &other_acc,
        json!({"surveyed_at": "2026-01-01T00:00:00Z"}),
    )
    .await
    .id();
    assert_eq!(
        app.get(
            &format!("/v1/survey-records/{this}/diff?base={foreign}"),
            &admin
        )
        .await
        .error_fields(),
        ["base"]
    );
    app.get(&format!("/v1/survey-records/{this}/diff"), &admin)
        .await
        .assert_problem(400, "bad_request");
}

#[actix_web::test]
async fn installed_base_across_accounts_never_leaks() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let a = app.account(&admin, "Alpha Power").await;
    let b = app.account(&admin, "Beta Bank").await;
    // Alpha: an old survey (superseded) and a new one.
    survey(&app, &admin, &a, json!({"surveyed_at": "2025-01-01T00:00:00Z", "sections": {"inventory": [
        {"category": "network", "brand": "Cisco", "model": "C6509", "quantity": 2, "deployed_year": 2010}]}})).await;
    survey(&app, &admin, &a, json!({"surveyed_at": "2026-06-01T00:00:00Z", "sections": {"inventory": [
        {"category": "network", "brand": "Huawei", "model": "S12700", "quantity": 2, "deployed_year": 2016, "end_of_support": "2025-12-31"},
        {"category": "server", "brand": "Inspur", "model": "NF5280M5", "quantity": 12, "deployed_year": 2019}]}})).await;
    survey(&app, &admin, &b, json!({"surveyed_at": "2026-03-01T00:00:00Z", "sections": {"inventory": [
        {"category": "network", "brand": "huawei", "model": "s12700", "quantity": 4, "deployed_year": 2014}]}})).await;
    // Another tenant with the same kit.
    let other = app.other_tenant(buyerpath::auth::Role::Admin);
    let oacc = app.account(&other, "Other tenant's").await;
    survey(
        &app,
        &other,
        &oacc,
        json!({"surveyed_at": "2026-03-01T00:00:00Z", "sections": {"inventory": [
        {"category": "network", "brand": "Huawei", "model": "S12700", "quantity": 9}]}}),
    )
    .await;

    let names = |r: &crate::common::Resp| -> Vec<String> {
        r.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["account_name"].as_str().unwrap().to_string())
            .collect()
    };
    let r = app
        .get("/v1/inventory?brand=HUAWEI&model=S12700", &admin)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(names(&r), ["Alpha Power", "Beta Bank"]);
    assert_eq!(r.json["items"][1]["quantity"], 4);
    assert_eq!(r.json["items"][0]["account_id"], a);
    assert_eq!(
        names(&app.get("/v1/inventory?brand=cisco", &admin).await),
        Vec::<String>::new(),
        "superseded surveys do not count"
    );
    assert_eq!(
        names(&app.get("/v1/inventory?category=server", &admin).await),
        ["Alpha Power"]
    );
    assert_eq!(
        names(&app.get("/v1/inventory?deployed_before=2015", &admin).await),
        ["Beta Bank"]
    );
    assert_eq!(
        names(
            &app.get("/v1/inventory?end_of_support_before=2026-01-01", &admin)
                .await
        ),
        ["Alpha Power"]
    );
    let all = app.get("/v1/inventory?limit=2", &admin).await;
    assert_eq!(all.json["items"].as_array().unwrap().len(), 2);
    let cur = all.json["next_cursor"].as_str().unwrap().to_string();
    let rest = app
        .get(&format!("/v1/inventory?limit=2&cursor={cur}"), &admin)
        .await;
    assert_eq!(rest.json["items"].as_array().unwrap().len(), 1);
    assert!(rest.json["next_cursor"].is_null());
    assert_eq!(
        names(&app.get("/v1/inventory?brand=huawei", &other).await),
        ["Other tenant's"]
    );
    assert_eq!(
        app.get("/v1/inventory?category=robot", &admin)
            .await
            .error_fields(),
        ["category"]
    );
    app.get("/v1/inventory?end_of_support_before=soon", &admin)
        .await
        .assert_problem(400, "bad_request");

    // Archiving the latest survey makes the previous one the latest again.
    let latest_a = app
        .get(&format!("/v1/accounts/{a}/survey-records?limit=1"), &admin)
        .await
        .json["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.delete(&format!("/v1/survey-records/{latest_a}"), &admin, None)
        .await;
    assert_eq!(
        names(&app.get("/v1/inventory?brand=cisco", &admin).await),
        ["Alpha Power"]
    );
}

#[actix_web::test]
async fn surveys_feed_the_stage_engine_and_the_opportunity_view() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Customer").await;
    let c1 = app.contact(&admin, &acc, json!({"name": "A"})).await;
    let c2 = app.contact(&admin, &acc, json!({"name": "B"})).await;
    let opp = opportunity(
        &app,
        &admin,
        &acc,
        json!({"name": "Deal", "estimated_amount": 1100000, "currency": "CNY"}),
    )
    .await;
    let claim = json!({"milestones": [{"code": "S1.M2", "status": "achieved",
        "sources": [{"kind": "contact", "contact_id": c1}, {"kind": "contact", "contact_id": c2}]}]});
    let assess = |body: Value| {
        let app = &app;
        let admin = admin.clone();
        let opp = opp.clone();
        async move {
            app.post(
                &format!("/v1/opportunities/{opp}/stage-assessments?lang=en"),
                &admin,
                body,
            )
            .await
        }
    };
    let m2 = |r: &crate::common::Resp| r.json["milestones"][1].clone();
    let a05 = |r: &crate::common::Resp| -> String {
        r.json["recommended_actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == "S1.A05")
            .map(|a| a["reason"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };

    // No survey: a claimed S1.M2 is contradicted, and S1.A05 says so.
    let r = assess(claim.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(m2(&r)["data_check"], "contradicted");
    assert!(a05(&r).contains("no current-state survey"), "{}", a05(&r));

    // A partial survey (below 80 %): still contradicted; S1.A05 names the missing sections.
    let partial = survey(
        &app,
        &admin,
        &acc,
        json!({"surveyed_at": "2026-11-01T00:00:00Z", "sections": {
        "inventory": [{"category": "network", "brand": "Huawei", "model": "S12700", "quantity": 2}],
        "problems": [{"description": "老化"}]}}),
    )
    .await;
    assert_eq!(partial.status, 201);
    let r = assess(claim.clone()).await;
    assert_eq!(m2(&r)["data_check"], "contradicted");
    assert!(m2(&r)["data_check_detail"]
        .as_str()
        .unwrap()
        .contains("17%"));
    let reason = a05(&r);
    assert!(
        reason.contains("Daily traffic") && reason.contains("Servers, storage and other equipment"),
        "{reason}"
    );

    // The tenant lowers its threshold: 17 % is now enough.
    let set_threshold = |token: String, percent: u32| {
        app.send(
            app.client
                .patch(app.url("/v1/settings"))
                .bearer_auth(token)
                .header("content-type", "application/merge-patch+json")
                .body(format!(r#"{{"survey_completeness_threshold": {percent}}}"#)),
        )
    };
    let s = set_threshold(admin.clone(), 15).await;
    assert_eq!(s.status, 200, "{}", s.text);
    assert_eq!(s.json["survey_completeness_threshold"], 15);
    assert_eq!(m2(&assess(claim.clone()).await)["data_check"], "consistent");
    set_threshold(app.manager(), 1)
        .await
        .assert_problem(403, "forbidden");
    let s = set_threshold(admin.clone(), 80).await;
    assert_eq!(s.json["version"], 2);
    assert_eq!(
        app.get("/v1/settings", &app.viewer()).await.json["survey_completeness_threshold"],
        80
    );
    // The same value again changes nothing: same version.
    let same = set_threshold(admin.clone(), 80).await;
    assert_eq!(same.status, 200, "{}", same.text);
    assert_eq!(same.json["version"], 2);

    // A complete survey: consistent, and the opportunity shows its budget and timeline.
    survey(
        &app,
        &admin,
        &acc,
        json!({"surveyed_at": "2026-11-20T00:00:00Z", "sections": full_sections()}),
    )
    .await;
    let r = assess(claim.clone()).await;
    assert_eq!(m2(&r)["data_check"], "consistent");
    let o = app.get(&format!("/v1/opportunities/{opp}"), &admin).await;
    assert_eq!(o.json["estimated_amount"], "1100000.00");
    assert_eq!(o.json["latest_survey"]["budget"]["ceiling"], "1200000.00");
    assert_eq!(
        o.json["latest_survey"]["timeline"]["deadline"],
        "2027-09-30"
    );
    let list = app
        .get(&format!("/v1/accounts/{acc}/opportunities"), &admin)
        .await;
    assert_eq!(
        list.json["items"][0]["latest_survey"]["budget"]["currency"],
        "CNY"
    );
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn upload(app: &TestApp, token: &str, account: &str, bytes: Vec<u8>) -> crate::common::Resp {
    app.send(
        app.client
            .post(app.url(&format!("/v1/accounts/{account}/survey-records/import")))
            .bearer_auth(token)
            .header("content-type", XLSX)
            .body(bytes),
    )
    .await
}

async fn download(app: &TestApp, token: &str, path: &str) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let res = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let headers = res.headers().clone();
    (headers, res.bytes().await.unwrap().to_vec())
}

#[actix_web::test]
async fn xlsx_export_import_round_trip() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "华东电力设计院").await;
    let c1 = app.contact(&admin, &acc, json!({"name": "王建国"})).await;
    let opp = opportunity(&app, &admin, &acc, json!({"name": "Deal"})).await;
    let original = survey(&app, &admin, &acc, json!({
        "surveyed_at": "2026-11-20T09:30:00Z", "surveyor": "rita", "respondents": [c1], "opportunity_id": opp,
        "sections": full_sections()
    })).await;
    assert_eq!(original.status, 201, "{}", original.text);
    let (headers, bytes) = download(
        &app,
        &admin,
        &format!("/v1/survey-records/{}/export.xlsx", original.id()),
    )
    .await;
    assert_eq!(headers.get("content-type").unwrap(), XLSX);
    assert!(headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .contains(".xlsx"));
    assert_eq!(&bytes[..2], b"PK", "a zip container");

    let imported = upload(&app, &admin, &acc, bytes.clone()).await;
    assert_eq!(imported.status, 201, "{}", imported.text);
    for key in [
        "surveyed_at",
        "surveyor",
        "respondents",
        "opportunity_id",
        "sections",
        "completeness",
    ] {
        assert_eq!(
            imported.json[key], original.json[key],
            "{key} survives the round trip"
        );
    }
    assert_ne!(imported.id(), original.id(), "a new record");

    // The same file as a multipart upload.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes)
            .file_name("survey.xlsx")
            .mime_str(XLSX)
            .unwrap(),
    );
    let r = app
        .send(
            app.client
                .post(app.url(&format!("/v1/accounts/{acc}/survey-records/import")))
                .bearer_auth(&admin)
                .multipart(form),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["sections"], original.json["sections"]);

    // The blank template imports only once the date is filled in.
    let (_, template) = download(&app, &admin, "/v1/survey-records/template.xlsx").await;
    let r = upload(&app, &admin, &acc, template).await;
    assert_eq!(r.error_fields(), ["overview!B4"], "surveyed_at is required");
}

#[actix_web::test]
async fn corrupted_workbooks_name_sheet_row_and_column() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Customer").await;
    let banner = buyerpath::xlsx::Banner {
        account_name: "x".into(),
        surveyed_at: None,
    };
    let bad = buyerpath::xlsx::export(
        &banner,
        &json!({
            "surveyed_at": "2026-11-20T00:00:00Z",
            "sections": {"inventory": [
                {"category": "network", "brand": "Huawei", "quantity": 2},
                {"category": "robot", "brand": "Acme", "quantity": "many"},
                {"category": "server", "quantity": 1}
            ]}
        }),
    )
    .unwrap();
    let r = upload(&app, &admin, &acc, bad).await;
    let fields = r.error_fields();
    assert_eq!(fields, ["inventory!A5", "inventory!D5", "inventory!B6"]);
    assert_eq!(r.json["errors"][1]["code"], "invalid_format");

    // Values that parse but do not validate point at their cells too.
    let invalid = buyerpath::xlsx::export(&banner, &json!({
        "surveyed_at": "2026-11-20T00:00:00Z",
        "sections": {"timeline": {"earliest_start": "2027-05-01", "deadline": "2027-01-01"},
                     "inventory": [{"category": "server", "brand": "x", "quantity": 1, "deployed_year": 1900}]}
    })).unwrap();
    let r = upload(&app, &admin, &acc, invalid).await;
    // What the document's schema states first (all of it), then the rules between fields.
    assert_eq!(r.error_fields(), ["inventory!E4"]);
    assert_eq!(r.json["errors"][0]["code"], "out_of_range");
    let invalid = buyerpath::xlsx::export(&banner, &json!({
        "surveyed_at": "2026-11-20T00:00:00Z",
        "sections": {"timeline": {"earliest_start": "2027-05-01", "deadline": "2027-01-01"},
                     "inventory": [{"category": "server", "brand": "x", "quantity": 1, "deployed_year": 2020}]}
    })).unwrap();
    let r = upload(&app, &admin, &acc, invalid).await;
    assert_eq!(r.error_fields(), ["timeline!B5"]);
    assert_eq!(r.json["errors"][0]["code"], "not_before");

    // A workbook with the wrong sheets.
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet().set_name("Sheet1").unwrap();
    let r = upload(&app, &admin, &acc, wb.save_to_buffer().unwrap()).await;
    let fields = r.error_fields();
    assert!(
        fields.contains(&"overview!A1".to_string()) && fields.contains(&"Sheet1!A1".to_string()),
        "{fields:?}"
    );

    // Not a workbook at all, the wrong content type, too large.
    assert_eq!(
        upload(&app, &admin, &acc, b"PK\x03\x04garbage".to_vec())
            .await
            .error_fields(),
        [""]
    );
    app.send(
        app.client
            .post(app.url(&format!("/v1/accounts/{acc}/survey-records/import")))
            .bearer_auth(&admin)
            .header("content-type", "text/csv")
            .body("a,b"),
    )
    .await
    .assert_problem(415, "unsupported_media_type");
    let small = TestApp::spawn_with(&[("BUYERPATH_UPLOAD_LIMIT", "2048")]).await;
    let acc2 = small.account(&small.admin(), "Customer").await;
    upload(&small, &small.admin(), &acc2, vec![0u8; 5000])
        .await
        .assert_problem(413, "payload_too_large");

    // Nothing half-imported was stored.
    let list = app
        .get(&format!("/v1/accounts/{acc}/survey-records"), &admin)
        .await;
    assert_eq!(list.json["items"], json!([]));
    // Viewers cannot import; other tenants get 404.
    upload(&app, &app.viewer(), &acc, vec![])
        .await
        .assert_problem(403, "forbidden");
    let intruder = app.other_tenant(buyerpath::auth::Role::Admin);
    let (_, template) = download(&app, &admin, "/v1/survey-records/template.xlsx").await;
    let _ = template;
    let good = buyerpath::xlsx::export(
        &banner,
        &json!({"surveyed_at": "2026-11-20T00:00:00Z", "sections": {}}),
    )
    .unwrap();
    upload(&app, &intruder, &acc, good)
        .await
        .assert_problem(404, "not_found");
}
