//! Contacts and the org chart.

use serde_json::json;
use uuid::Uuid;

use crate::common::TestApp;

#[actix_web::test]
async fn contact_crud() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Customer").await;
    let base = format!("/v1/accounts/{acc}/contacts");
    let r = app
        .post(
            &base,
            &admin,
            json!({"name": "王建国", "title": "信息中心主任", "department": "it",
                   "methodology_role": "it_head", "attitude": "supporter", "relationship": "established",
                   "influence": "high", "key_person": true, "phone": "+86 10 1234 5678",
                   "email": "wang@example.cn"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.id();
    assert_eq!(r.header("location"), Some(format!("{base}/{id}").as_str()));
    assert!(
        r.header("etag").unwrap().starts_with("\"1-"),
        "version 1 and a digest"
    );
    assert_eq!(r.json["account_id"], acc);
    assert_eq!(r.json["methodology_role"], "it_head");

    let d = app.post(&base, &admin, json!({"name": "Defaults"})).await;
    assert_eq!(d.json["department"], "other");
    assert_eq!(d.json["attitude"], "unknown");
    assert_eq!(d.json["relationship"], "none");
    assert_eq!(d.json["key_person"], false);

    let path = format!("{base}/{id}");
    assert_eq!(app.get(&path, &admin).await.json, r.json);
    let p = app
        .patch(
            &path,
            &admin,
            json!({"attitude": "neutral", "phone": null}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.json["attitude"], "neutral");
    assert!(p.json["phone"].is_null());
    app.patch(
        &path,
        &admin,
        json!({"attitude": "supporter"}),
        Some("\"1\""),
    )
    .await
    .assert_problem(412, "precondition_failed");

    let list = app.get(&base, &admin).await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 2);
    assert_eq!(app.delete(&path, &admin, Some("\"2\"")).await.status, 204);
    assert_eq!(
        app.get(&base, &admin).await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let all = app
        .get(&format!("{base}?include_archived=true"), &admin)
        .await;
    assert_eq!(all.json["items"].as_array().unwrap().len(), 2);
    app.patch(&path, &admin, json!({"name": "x"}), None)
        .await
        .assert_problem(409, "conflict");
    let restored = app
        .post(&format!("{path}/restore"), &admin, json!({}))
        .await;
    assert_eq!(restored.status, 200, "{}", restored.text);
    assert!(restored.json["archived_at"].is_null());
}

#[actix_web::test]
async fn contact_validation() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Customer").await;
    let base = format!("/v1/accounts/{acc}/contacts");
    let r = app
        .post(
            &base,
            &admin,
            json!({"name": "", "email": "nope", "phone": "call me"}),
        )
        .await;
    assert_eq!(r.error_fields(), ["email", "name", "phone"]);
    let r = app
        .post(
            &base,
            &admin,
            json!({"name": "a", "department": "marketing"}),
        )
        .await;
    assert_eq!(r.error_fields(), ["department"]);
    let r = app
        .post(
            &base,
            &admin,
            json!({"name": "a", "methodology_role": "ceo"}),
        )
        .await;
    assert_eq!(r.error_fields(), ["methodology_role"]);
    let r = app
        .post(&base, &admin, json!({"name": "a", "attitude": "fan"}))
        .await;
    assert_eq!(r.error_fields(), ["attitude"]);
    let r = app
        .post(&base, &admin, json!({"name": "a", "relationship": "best"}))
        .await;
    assert_eq!(r.error_fields(), ["relationship"]);
    let r = app
        .post(&base, &admin, json!({"name": "a", "influence": "max"}))
        .await;
    assert_eq!(r.error_fields(), ["influence"]);
    let r = app
        .post(&base, &admin, json!({"name": "a", "key_person": "yes"}))
        .await;
    assert_eq!(r.error_fields(), ["key_person"]);
    let r = app
        .post(&base, &admin, json!({"name": "a", "reports_to": "x"}))
        .await;
    assert_eq!(r.error_fields(), ["reports_to"]);
    let r = app
        .post(
            &base,
            &admin,
            json!({"name": "a", "reports_to": Uuid::now_v7()}),
        )
        .await;
    assert_eq!(r.error_fields(), ["reports_to"]);
}

#[actix_web::test]
async fn reports_to_stays_inside_the_account_and_never_loops() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Customer").await;
    let other_acc = app.account(&admin, "Other customer").await;
    let base = format!("/v1/accounts/{acc}/contacts");
    let head = app.contact(&admin, &acc, json!({"name": "Head"})).await;
    let deputy = app
        .contact(&admin, &acc, json!({"name": "Deputy", "reports_to": head}))
        .await;
    let staff = app
        .contact(&admin, &acc, json!({"name": "Staff", "reports_to": deputy}))
        .await;
    let stranger = app
        .contact(&admin, &other_acc, json!({"name": "Stranger"}))
        .await;

    let r = app
        .post(&base, &admin, json!({"name": "x", "reports_to": stranger}))
        .await;
    assert_eq!(
        r.error_fields(),
        ["reports_to"],
        "another account's contact"
    );
    let r = app
        .patch(
            &format!("{base}/{head}"),
            &admin,
            json!({"reports_to": staff}),
            None,
        )
        .await;
    assert_eq!(
        r.error_fields(),
        ["reports_to"],
        "head -> staff closes a loop"
    );
    assert_eq!(r.json["errors"][0]["code"], "cycle");
    let r = app
        .patch(
            &format!("{base}/{head}"),
            &admin,
            json!({"reports_to": head}),
            None,
        )
        .await;
    assert_eq!(r.error_fields(), ["reports_to"], "self");
    let ok = app
        .patch(
            &format!("{base}/{staff}"),
            &admin,
            json!({"reports_to": head}),
            None,
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let cleared = app
        .patch(
            &format!("{base}/{staff}"),
            &admin,
            json!({"reports_to": null}),
            None,
        )
        .await;
    assert!(cleared.json["reports_to"].is_null());
    // A contact of another account is not reachable through this account's path.
    app.get(&format!("{base}/{stranger}"), &admin)
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn contact_roles_and_tenants() {
    let app = TestApp::spawn().await;
    let alice = app.rep("alice");
    let bob = app.rep("bob");
    let acc = app.account(&alice, "Alice's customer").await;
    let base = format!("/v1/accounts/{acc}/contacts");
    let c = app.contact(&alice, &acc, json!({"name": "Li"})).await;
    app.post(&base, &bob, json!({"name": "x"}))
        .await
        .assert_problem(403, "forbidden");
    app.patch(&format!("{base}/{c}"), &bob, json!({"name": "x"}), None)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(app.get(&format!("{base}/{c}"), &bob).await.status, 200);
    assert_eq!(
        app.post(&base, &app.manager(), json!({"name": "by manager"}))
            .await
            .status,
        201
    );

    let other = app.other_tenant(buyerpath::auth::Role::Admin);
    app.get(&format!("{base}/{c}"), &other)
        .await
        .assert_problem(404, "not_found");
    app.patch(&format!("{base}/{c}"), &other, json!({"name": "x"}), None)
        .await
        .assert_problem(404, "not_found");
    app.delete(&format!("{base}/{c}"), &other, None)
        .await
        .assert_problem(404, "not_found");

    // Contacts of an archived account are read-only.
    assert_eq!(
        app.delete(&format!("/v1/accounts/{acc}"), &alice, None)
            .await
            .status,
        204
    );
    app.post(&base, &alice, json!({"name": "late"}))
        .await
        .assert_problem(409, "conflict");
}

#[actix_web::test]
async fn contact_pagination() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Big customer").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            app.contact(&admin, &acc, json!({"name": format!("P{i}")}))
                .await,
        );
    }
    let p1 = app
        .get(&format!("/v1/accounts/{acc}/contacts?limit=2"), &admin)
        .await;
    let c1 = p1.json["next_cursor"].as_str().unwrap().to_string();
    let p2 = app
        .get(
            &format!("/v1/accounts/{acc}/contacts?limit=2&cursor={c1}"),
            &admin,
        )
        .await;
    let c2 = p2.json["next_cursor"].as_str().unwrap().to_string();
    let p3 = app
        .get(
            &format!("/v1/accounts/{acc}/contacts?limit=2&cursor={c2}"),
            &admin,
        )
        .await;
    assert!(p3.json["next_cursor"].is_null());
    let seen: Vec<String> = [p1, p2, p3]
        .iter()
        .flat_map(|p| p.json["items"].as_array().unwrap().clone())
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(seen, ids);
}

#[actix_web::test]
async fn org_chart_tree_and_coverage() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Provincial grid").await;

    let empty = app
        .get(&format!("/v1/accounts/{acc}/org-chart"), &admin)
        .await;
    assert_eq!(empty.status, 200, "{}", empty.text);
    assert_eq!(empty.json["roots"], json!([]));
    assert_eq!(empty.json["coverage"]["it_leadership_known"], false);
    assert_eq!(
        empty.json["coverage"]["next_visit"]["methodology_role"],
        "it_head"
    );

    let head = app
        .contact(
            &admin,
            &acc,
            json!({"name": "Head", "department": "it", "methodology_role": "it_head",
                                        "relationship": "established"}),
        )
        .await;
    let deputy = app
        .contact(&admin, &acc, json!({"name": "Deputy", "department": "it", "methodology_role": "it_deputy_head",
                                        "reports_to": head, "attitude": "supporter", "key_person": true}))
        .await;
    app.contact(&admin, &acc, json!({"name": "Engineer", "department": "it",
                                      "methodology_role": "technical_authority", "reports_to": deputy}))
        .await;
    app.contact(
        &admin,
        &acc,
        json!({"name": "CFO", "department": "senior_leadership",
                                      "relationship": "trusted"}),
    )
    .await;
    let gone = app
        .contact(
            &admin,
            &acc,
            json!({"name": "Gone", "department": "procurement", "reports_to": head}),
        )
        .await;
    app.delete(&format!("/v1/accounts/{acc}/contacts/{gone}"), &admin, None)
        .await;

    // Reached means visited: the head took part in an activity.
    let visit = app
        .post(
            &format!("/v1/accounts/{acc}/activities"),
            &admin,
            json!({"kind": "visit", "occurred_at": "2026-11-20T02:00:00Z", "subject": "拜访",
                   "participants": [head]}),
        )
        .await;
    assert_eq!(visit.status, 201, "{}", visit.text);

    let r = app
        .get(&format!("/v1/accounts/{acc}/org-chart"), &admin)
        .await;
    assert_eq!(r.status, 200);
    let roots = r.json["roots"].as_array().unwrap();
    let names: Vec<&str> = roots.iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["CFO", "Head"]);
    assert_eq!(roots[1]["reports"][0]["name"], "Deputy");
    assert_eq!(roots[1]["reports"][0]["reports"][0]["name"], "Engineer");
    assert_eq!(
        roots[1]["reports"].as_array().unwrap().len(),
        1,
        "archived contacts are left out"
    );

    let cov = &r.json["coverage"];
    assert_eq!(cov["contact_count"], 4);
    assert_eq!(cov["it_leadership_known"], true);
    assert_eq!(cov["key_person_supporter"], true);
    assert_eq!(cov["senior_leadership_reached"], true);
    assert_eq!(
        cov["departments_missing"],
        json!(["procurement", "finance", "equipment_office"])
    );
    assert_eq!(cov["roles_missing"], json!(["it_staff"]));
    assert_eq!(cov["supporters"][0]["name"], "Deputy");
    let order: Vec<&str> = cov["visit_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["methodology_role"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "it_head",
            "it_deputy_head",
            "technical_authority",
            "it_staff"
        ]
    );
    assert_eq!(cov["visit_order"][0]["reached"], true);
    assert_eq!(
        cov["visit_order"][0]["last_contacted_at"],
        "2026-11-20T02:00:00Z"
    );
    assert_eq!(cov["next_visit"]["name"], "Deputy");
    // The deputy (an IT leader and key person) was never contacted: stale.
    let stale: Vec<&str> = cov["stale_contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(stale.contains(&"Deputy"), "{stale:?}");
}
