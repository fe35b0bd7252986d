//! Activities: the record of what the seller did.

use serde_json::json;

use crate::common::TestApp;

#[actix_web::test]
async fn activities_are_recorded_listed_changed_and_archived() {
    let app = TestApp::spawn().await;
    let rep = app.rep("rita");
    let acc = app.account(&rep, "华东电力设计院").await;
    let head = app
        .contact(
            &rep,
            &acc,
            json!({"name": "王建国", "methodology_role": "it_head"}),
        )
        .await;
    let eng = app.contact(&rep, &acc, json!({"name": "李工"})).await;
    let opp = app
        .post(
            &format!("/v1/accounts/{acc}/opportunities"),
            &rep,
            json!({"name": "数据中心网络改造"}),
        )
        .await
        .id();
    let base = format!("/v1/accounts/{acc}/activities");
    let r = app
        .post(
            &base,
            &rep,
            json!({
                "kind": "visit", "occurred_at": "2026-11-20T02:00:00Z", "duration_minutes": 90,
                "subject": " 拜访信息中心王主任 ", "opportunity_id": opp, "participants": [head, head],
                "key_actions": ["S1.A03"], "tools": ["technical_exchange"],
                "observations": [{"signal": "S1.B03", "evidence": "上月核心交换机宕机"}],
                "requirements": {"clarity": "unclear"},
                "next_step": {"text": "约技术交流", "due_at": "2026-12-01T00:00:00Z"}
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.id();
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/activities/{id}").as_str())
    );
    assert_eq!(r.json["subject"], "拜访信息中心王主任", "trimmed");
    assert_eq!(r.json["participants"], json!([head]), "deduplicated");
    assert_eq!(
        r.json["our_attendees"],
        json!(["rita"]),
        "defaults to the caller"
    );
    assert_eq!(r.json["observations"][0]["signal"], "S1.B03");
    assert_eq!(r.json["next_step"]["text"], "约技术交流");

    for (kind, day) in [("call", "2026-11-22"), ("meeting", "2026-11-25")] {
        let r = app
            .post(
                &base,
                &rep,
                json!({"kind": kind, "occurred_at": format!("{day}T03:00:00Z"), "subject": kind,
                       "participants": [eng]}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    // Newest first, paged, filtered.
    let page = app.get(&format!("{base}?limit=2"), &rep).await;
    let items = page.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["kind"], "meeting");
    let cursor = page.json["next_cursor"].as_str().unwrap();
    let rest = app
        .get(&format!("{base}?limit=2&cursor={cursor}"), &rep)
        .await;
    assert_eq!(rest.json["items"][0]["id"], id.as_str());
    assert!(rest.json["next_cursor"].is_null());
    let count = |r: &crate::common::Resp| r.json["items"].as_array().unwrap().len();
    assert_eq!(
        count(&app.get(&format!("{base}?opportunity_id={opp}"), &rep).await),
        1
    );
    assert_eq!(
        count(&app.get(&format!("{base}?contact_id={eng}"), &rep).await),
        2
    );
    assert_eq!(count(&app.get(&format!("{base}?kind=call"), &rep).await), 1);
    assert_eq!(
        count(
            &app.get(
                &format!("{base}?from=2026-11-21T00:00:00Z&to=2026-11-23T00:00:00Z"),
                &rep
            )
            .await
        ),
        1
    );

    // Merge patch with If-Match.
    let item = format!("/v1/activities/{id}");
    let p = app
        .patch(
            &item,
            &rep,
            json!({"outcome": "王主任同意安排技术交流", "next_step": null}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.json["outcome"], "王主任同意安排技术交流");
    assert!(p.json["next_step"].is_null());
    assert_eq!(
        p.json["key_actions"],
        json!(["S1.A03"]),
        "untouched members stay"
    );
    app.patch(&item, &rep, json!({"outcome": "x"}), Some("\"1\""))
        .await
        .assert_problem(412, "precondition_failed");

    // Contacts know when they were last contacted, and how often.
    let c = app
        .get(&format!("/v1/accounts/{acc}/contacts/{eng}"), &rep)
        .await;
    assert_eq!(c.json["activity_count"], 2);
    assert_eq!(c.json["last_contacted_at"], "2026-11-25T03:00:00Z");
    let list = app.get(&format!("/v1/accounts/{acc}/contacts"), &rep).await;
    let head_dto = list.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == head.as_str())
        .unwrap()
        .clone();
    assert_eq!(head_dto["activity_count"], 1);

    // Archive: out of the list, still readable, not counted; restore brings it back.
    assert_eq!(app.delete(&item, &rep, None).await.status, 204);
    assert_eq!(count(&app.get(&base, &rep).await), 2);
    assert_eq!(
        count(
            &app.get(&format!("{base}?include_archived=true"), &rep)
                .await
        ),
        3
    );
    assert!(app.get(&item, &rep).await.json["archived_at"].is_string());
    let c = app
        .get(&format!("/v1/accounts/{acc}/contacts/{head}"), &rep)
        .await;
    assert_eq!(c.json["activity_count"], 0);
    assert!(c.json["last_contacted_at"].is_null());
    let back = app.post(&format!("{item}/restore"), &rep, json!({})).await;
    assert_eq!(back.status, 200, "{}", back.text);
}

#[actix_web::test]
async fn bad_activities_are_refused_naming_the_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Customer").await;
    let other = app.account(&admin, "Another customer").await;
    let stranger = app.contact(&admin, &other, json!({"name": "外人"})).await;
    let other_opp = app
        .post(
            &format!("/v1/accounts/{other}/opportunities"),
            &admin,
            json!({"name": "x"}),
        )
        .await
        .id();
    let base = format!("/v1/accounts/{acc}/activities");
    let ok = json!({"kind": "call", "occurred_at": "2026-11-20T02:00:00Z", "subject": "电话"});
    let cases = [
        (json!({"participants": [stranger]}), "participants[0]"),
        (json!({"opportunity_id": other_opp}), "opportunity_id"),
        (json!({"key_actions": ["S1.A99"]}), "key_actions[0]"),
        (json!({"tools": ["crystal_ball"]}), "tools[0]"),
        (
            json!({"observations": [{"signal": "S1.M1"}]}),
            "observations[0].signal",
        ),
        (json!({"kind": "lunch"}), "kind"),
        (json!({"subject": "  "}), "subject"),
        (json!({"occurred_at": "yesterday"}), "occurred_at"),
        (json!({"duration_minutes": 20000}), "duration_minutes"),
        (json!({"survey_record_id": stranger}), "survey_record_id"),
        // The list limits the document states are the checker's (stated once in the domain).
        (json!({"key_actions": vec!["S1.A03"; 51]}), "key_actions"),
        (json!({"tools": vec!["current_state_survey"; 51]}), "tools"),
        (json!({"our_attendees": vec!["rep"; 51]}), "our_attendees"),
        (
            json!({"observations": vec![json!({"signal": "S1.B03"}); 101]}),
            "observations",
        ),
        (json!({"next_step": {"text": " "}}), "next_step.text"),
    ];
    for (patch, field) in cases {
        let mut body = ok.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app.post(&base, &admin, body).await;
        assert_eq!(r.error_fields(), [field], "{patch}");
    }
    let r = app
        .post(
            &base,
            &admin,
            json!({"kind": "call", "occurred_at": "2026-11-20T02:00:00Z"}),
        )
        .await;
    assert_eq!(r.error_fields(), ["subject"]);
    assert_eq!(
        app.get(&format!("{base}?include_archived=true"), &admin)
            .await
            .json["items"],
        json!([]),
        "nothing half-stored"
    );
    assert_eq!(
        app.get(&format!("{base}?cursor=nope"), &admin)
            .await
            .error_fields(),
        ["cursor"]
    );
}

#[actix_web::test]
async fn activity_roles_tenants_and_archived_parents() {
    let app = TestApp::spawn().await;
    let rita = app.rep("rita");
    let acc = app.account(&rita, "Rita's").await;
    let body = json!({"kind": "email", "occurred_at": "2026-11-20T02:00:00Z", "subject": "资料"});
    let base = format!("/v1/accounts/{acc}/activities");
    app.post(&base, &app.rep("zoe"), body.clone())
        .await
        .assert_problem(403, "forbidden");
    app.post(&base, &app.viewer(), body.clone())
        .await
        .assert_problem(403, "forbidden");
    let id = app.post(&base, &app.manager(), body.clone()).await.id();
    let other = app.other_tenant(buyerpath::auth::Role::Admin);
    app.get(&format!("/v1/activities/{id}"), &other)
        .await
        .assert_problem(404, "not_found");
    app.post(&base, &other, body.clone())
        .await
        .assert_problem(404, "not_found");
    app.patch(
        &format!("/v1/activities/{id}"),
        &other,
        json!({"subject": "x"}),
        None,
    )
    .await
    .assert_problem(404, "not_found");

    // An archived opportunity takes no new activities; an archived account neither.
    let opp = app
        .post(
            &format!("/v1/accounts/{acc}/opportunities"),
            &rita,
            json!({"name": "Deal"}),
        )
        .await
        .id();
    app.delete(&format!("/v1/opportunities/{opp}"), &rita, None)
        .await;
    let mut linked = body.clone();
    linked["opportunity_id"] = json!(opp);
    app.post(&base, &rita, linked)
        .await
        .assert_problem(409, "conflict");
    app.delete(&format!("/v1/accounts/{acc}"), &rita, None)
        .await;
    app.post(&base, &rita, body.clone())
        .await
        .assert_problem(409, "conflict");
    app.patch(
        &format!("/v1/activities/{id}"),
        &rita,
        json!({"subject": "x"}),
        None,
    )
    .await
    .assert_problem(409, "conflict");
}

#[actix_web::test]
async fn record_settings_have_defaults_and_ranges() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let s = app.get("/v1/settings", &admin).await;
    assert_eq!(s.json["stale_contact_days"], 60);
    assert_eq!(s.json["record_window_days"], 180);
    let p = app
        .patch(
            "/v1/settings",
            &admin,
            json!({"stale_contact_days": 30}),
            None,
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.json["stale_contact_days"], 30);
    assert_eq!(p.json["record_window_days"], 180, "absent members stay");
    assert_eq!(p.json["survey_completeness_threshold"], 80);
    let bad = app
        .patch(
            "/v1/settings",
            &admin,
            json!({"stale_contact_days": 0, "record_window_days": 4000}),
            None,
        )
        .await;
    assert_eq!(
        bad.error_fields(),
        ["record_window_days", "stale_contact_days"]
    );
    app.patch(
        "/v1/settings",
        &app.manager(),
        json!({"record_window_days": 90}),
        None,
    )
    .await
    .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn timelines_merge_what_happened_newest_first() {
    let app = TestApp::spawn().await;
    let rep = app.rep("rita");
    let acc = app.account(&rep, "Customer").await;
    let opp = app
        .post(
            &format!("/v1/accounts/{acc}/opportunities"),
            &rep,
            json!({"name": "Deal"}),
        )
        .await
        .id();
    let base = format!("/v1/accounts/{acc}/activities");
    let visit = app
        .post(
            &base,
            &rep,
            json!({"kind": "visit", "occurred_at": "2026-11-18T02:00:00Z", "subject": "拜访王主任",
                   "opportunity_id": opp}),
        )
        .await
        .id();
    let call = app
        .post(
            &base,
            &rep,
            json!({"kind": "call", "occurred_at": "2026-11-19T02:00:00Z", "subject": "account only"}),
        )
        .await
        .id();
    let survey = app
        .post(
            &format!("/v1/accounts/{acc}/survey-records"),
            &rep,
            json!({"surveyed_at": "2026-11-20T02:00:00Z", "opportunity_id": opp}),
        )
        .await
        .id();
    let assessment = app
        .post(
            &format!("/v1/opportunities/{opp}/stage-assessments"),
            &rep,
            json!({}),
        )
        .await
        .id();
    let moved = app
        .patch(
            &format!("/v1/opportunities/{opp}"),
            &app.manager(),
            json!({"current_stage": "S2", "stage_reason": "项目组成立"}),
            None,
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);

    let t = app
        .get(&format!("/v1/accounts/{acc}/timeline?lang=en"), &rep)
        .await;
    assert_eq!(t.status, 200, "{}", t.text);
    let items = t.json["items"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "stage_change",
            "stage_assessment",
            "survey_record",
            "activity",
            "activity"
        ]
    );
    assert_eq!(items[0]["summary"], "Stage change: S1 → S2 (项目组成立)");
    assert_eq!(items[1]["id"], assessment.as_str());
    assert_eq!(items[2]["id"], survey.as_str());
    assert_eq!(items[3]["id"], call.as_str());
    assert_eq!(items[4]["summary"], "Visit: 拜访王主任");

    // Paging, and the opportunity's own timeline.
    let first = app
        .get(&format!("/v1/accounts/{acc}/timeline?limit=3"), &rep)
        .await;
    assert_eq!(first.json["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        first.json["items"][0]["summary"],
        "阶段变更:S1 → S2(项目组成立)"
    );
    let cursor = first.json["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/v1/accounts/{acc}/timeline?limit=3&cursor={cursor}"),
            &rep,
        )
        .await;
    let ids: Vec<&str> = rest.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [call.as_str(), visit.as_str()]);
    assert!(rest.json["next_cursor"].is_null());
    let o = app
        .get(&format!("/v1/opportunities/{opp}/timeline"), &rep)
        .await;
    let ids: Vec<&str> = o.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids.len(),
        4,
        "the account-only call is not the opportunity's"
    );
    assert!(!ids.contains(&call.as_str()));
    app.get(
        &format!("/v1/opportunities/{opp}/timeline"),
        &app.other_tenant(buyerpath::auth::Role::Admin),
    )
    .await
    .assert_problem(404, "not_found");
}
