//! References of other systems: on every resource, unique per tenant and type (409 naming the
//! holder), the `external_ref` filter, and writes by reference (`PUT …/by-ref/…`).

use serde_json::{json, Value};

use crate::common::{Resp, TestApp};
use crate::events::settled;

fn refs(r: &Resp) -> Value {
    r.json["external_refs"].clone()
}

/// How many events of `types` the tenant's log has (settled).
async fn events(app: &TestApp, token: &str, types: &str) -> usize {
    let r = settled(
        app,
        token,
        &format!("/v1/events?types={types}&limit=200"),
        0,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["items"].as_array().unwrap().len()
}

#[actix_web::test]
async fn every_resource_carries_references_and_lists_find_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let sf = json!([{"system": "salesforce", "id": "0015g00000AbCdE"}]);
    let a = app
        .post(
            "/v1/accounts",
            &admin,
            json!({"name": "华东电力", "external_refs": sf}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(refs(&a), sf);
    let acc = a.id();
    assert_eq!(
        refs(&app.get(&format!("/v1/accounts/{acc}"), &admin).await),
        sf
    );
    app.account(&admin, "Other").await;
    let found = app
        .get(
            "/v1/accounts?external_ref=salesforce:0015g00000AbCdE",
            &admin,
        )
        .await;
    let items = found.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", found.text);
    assert_eq!(items[0]["id"], acc.as_str());
    let none = app
        .get("/v1/accounts?external_ref=hubspot:0015g00000AbCdE", &admin)
        .await;
    assert_eq!(none.json["items"], json!([]));

    // PATCH replaces the list; the old reference is free again, the new one found.
    let p = app
        .patch(
            &format!("/v1/accounts/{acc}"),
            &admin,
            json!({"external_refs": [{"system": "hubspot", "id": "9001"}, {"system": "salesforce", "id": "001-new"}]}),
            None,
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.json["version"], 2);
    let old = app
        .get(
            "/v1/accounts?external_ref=salesforce:0015g00000AbCdE",
            &admin,
        )
        .await;
    assert_eq!(old.json["items"], json!([]));
    let new = app
        .get("/v1/accounts?external_ref=hubspot:9001", &admin)
        .await;
    assert_eq!(new.json["items"].as_array().unwrap().len(), 1);
    let cleared = app
        .patch(
            &format!("/v1/accounts/{acc}"),
            &admin,
            json!({"external_refs": null}),
            None,
        )
        .await;
    assert_eq!(refs(&cleared), json!([]));
    let free = app
        .post(
            "/v1/accounts",
            &admin,
            json!({"name": "Reuses", "external_refs": [{"system": "hubspot", "id": "9001"}]}),
        )
        .await;
    assert_eq!(
        free.status, 201,
        "a cleared reference is free: {}",
        free.text
    );

    // Contacts, opportunities and activities: set on create, found by their lists.
    let c = app
        .post(
            &format!("/v1/accounts/{acc}/contacts"),
            &admin,
            json!({"name": "王建国", "external_refs": [{"system": "salesforce", "id": "003A"}]}),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.text);
    let found = app
        .get(
            &format!("/v1/accounts/{acc}/contacts?external_ref=salesforce:003A"),
            &admin,
        )
        .await;
    assert_eq!(
        found.json["items"][0]["id"],
        c.id().as_str(),
        "{}",
        found.text
    );
    let o = app
        .post(
            &format!("/v1/accounts/{acc}/opportunities"),
            &admin,
            json!({"name": "网络改造", "external_refs": [{"system": "salesforce", "id": "006A"}]}),
        )
        .await;
    assert_eq!(o.status, 201, "{}", o.text);
    let found = app
        .get("/v1/opportunities?external_ref=salesforce:006A", &admin)
        .await;
    assert_eq!(found.json["items"][0]["id"], o.id().as_str());
    let v = app
        .post(
            &format!("/v1/accounts/{acc}/activities"),
            &admin,
            json!({"kind": "call", "occurred_at": "2026-11-01T09:00:00Z", "subject": "电话",
                   "external_refs": [{"system": "salesforce", "id": "00TA"}]}),
        )
        .await;
    assert_eq!(v.status, 201, "{}", v.text);
    let found = app
        .get(
            &format!("/v1/accounts/{acc}/activities?external_ref=salesforce:00TA"),
            &admin,
        )
        .await;
    assert_eq!(found.json["items"][0]["id"], v.id().as_str());
    let p = app
        .patch(
            &format!("/v1/activities/{}", v.id()),
            &admin,
            json!({"external_refs": [{"system": "salesforce", "id": "00TB"}]}),
            None,
        )
        .await;
    assert_eq!(
        refs(&p),
        json!([{"system": "salesforce", "id": "00TB"}]),
        "{}",
        p.text
    );

    // The same reference on another type, or in another tenant, is another reference.
    let opp_ref = app
        .post(
            &format!("/v1/accounts/{acc}/opportunities"),
            &admin,
            json!({"name": "同号", "external_refs": [{"system": "salesforce", "id": "003A"}]}),
        )
        .await;
    assert_eq!(opp_ref.status, 201, "{}", opp_ref.text);
    let other = app.other_tenant(buyerpath::auth::Role::Admin);
    let elsewhere = app
        .post(
            "/v1/accounts",
            &other,
            json!({"name": "x", "external_refs": [{"system": "hubspot", "id": "9001"}]}),
        )
        .await;
    assert_eq!(elsewhere.status, 201, "{}", elsewhere.text);
    let hidden = app
        .get("/v1/accounts?external_ref=salesforce:001-new", &other)
        .await;
    assert_eq!(hidden.json["items"], json!([]));
}

#[actix_web::test]
async fn a_reference_held_by_another_resource_is_409_naming_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let first = app
        .post(
            "/v1/accounts",
            &admin,
            json!({"name": "First", "external_refs": [{"system": "salesforce", "id": "001"}]}),
        )
        .await;
    let holder = format!("/v1/accounts/{}", first.id());
    let second = app
        .post(
            "/v1/accounts",
            &admin,
            json!({"name": "Second", "external_refs": [{"system": "hubspot", "id": "7"}, {"system": "salesforce", "id": "001"}]}),
        )
        .await;
    second.assert_problem(409, "external_ref_taken");
    assert_eq!(second.json["held_by"], holder.as_str());
    assert_eq!(second.json["errors"][0]["field"], "/external_refs/1");
    assert_eq!(second.json["errors"][0]["code"], "taken");
    assert!(second.json["detail"]
        .as_str()
        .unwrap()
        .contains("salesforce:001"));
    let list = app.get("/v1/accounts", &admin).await;
    assert_eq!(
        list.json["items"].as_array().unwrap().len(),
        1,
        "nothing half-stored"
    );
    let free = app.get("/v1/accounts?external_ref=hubspot:7", &admin).await;
    assert_eq!(
        free.json["items"],
        json!([]),
        "the other reference was not kept"
    );

    // By PATCH too, in English on request; the account is unchanged.
    let other = app.account(&admin, "Other").await;
    let p = app
        .patch(
            &format!("/v1/accounts/{other}?lang=en"),
            &admin,
            json!({"name": "Renamed", "external_refs": [{"system": "salesforce", "id": "001"}]}),
            None,
        )
        .await;
    p.assert_problem(409, "external_ref_taken");
    assert_eq!(p.json["title"], "External reference taken");
    assert_eq!(p.json["held_by"], holder.as_str());
    let g = app.get(&format!("/v1/accounts/{other}"), &admin).await;
    assert_eq!(
        (g.json["name"].as_str(), g.json["version"].as_i64()),
        (Some("Other"), Some(1))
    );

    // A contact's holder is named by its path under its account.
    let c = app
        .post(
            &format!("/v1/accounts/{other}/contacts"),
            &admin,
            json!({"name": "甲", "external_refs": [{"system": "salesforce", "id": "003"}]}),
        )
        .await;
    let again = app
        .post(
            &format!("/v1/accounts/{other}/contacts"),
            &admin,
            json!({"name": "乙", "external_refs": [{"system": "salesforce", "id": "003"}]}),
        )
        .await;
    again.assert_problem(409, "external_ref_taken");
    assert_eq!(
        again.json["held_by"],
        format!("/v1/accounts/{other}/contacts/{}", c.id()).as_str()
    );
}

#[actix_web::test]
async fn bad_references_are_422_naming_each() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let many: Vec<Value> = (0..21)
        .map(|i| json!({"system": "sf", "id": i.to_string()}))
        .collect();
    let r = app
        .post(
            "/v1/accounts",
            &admin,
            json!({"name": "x", "external_refs": many}),
        )
        .await;
    assert_eq!(r.error_fields(), ["external_refs"]);
    let r = app
        .post(
            "/v1/accounts",
            &admin,
            json!({"name": "x", "external_refs": [
                {"system": "Salesforce", "id": "1"}, {"system": "sf", "id": ""},
                {"system": "sf", "id": "a\u{7}"}, {"system": "sf", "id": "x".repeat(256)},
                {"system": "sf", "id": "ok"}, {"system": "sf", "id": "ok"}, {"system": "sf"}]}),
        )
        .await;
    let fields = r.error_fields();
    for f in [
        "external_refs[0].system",
        "external_refs[1].id",
        "external_refs[2].id",
        "external_refs[3].id",
        "external_refs[6].id",
    ] {
        assert!(fields.contains(&f.to_string()), "{f} in {fields:?}");
    }
    let r = app
        .post("/v1/accounts", &admin, json!({"name": "x", "external_refs": [{"system": "sf", "id": "ok"}, {"system": "sf", "id": "ok"}]}))
        .await;
    assert_eq!(r.error_fields(), ["external_refs[1]"]);
    assert_eq!(r.json["errors"][0]["code"], "duplicate");
    assert_eq!(
        app.get("/v1/accounts", &admin).await.json["items"],
        json!([])
    );
    for bad in ["nocolon", "Sales:1", "sf:"] {
        let r = app
            .get(&format!("/v1/accounts?external_ref={bad}"), &admin)
            .await;
        assert_eq!(r.error_fields(), ["external_ref"], "{bad}: {}", r.text);
    }
}

#[actix_web::test]
async fn an_account_written_by_reference_is_created_then_updated_then_left_alone() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let path = "/v1/accounts/by-ref/salesforce/0015g00000AbCdE";
    let body = json!({"name": "华东电力", "industry": "energy", "tags": ["a"]});
    let created = app.put(path, &admin, body.clone(), None).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.id();
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/accounts/{id}").as_str())
    );
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(
        refs(&created),
        json!([{"system": "salesforce", "id": "0015g00000AbCdE"}])
    );
    let before = events(&app, &admin, "account.*").await;
    assert_eq!(before, 1);

    let same = app.put(path, &admin, body.clone(), None).await;
    assert_eq!(same.status, 200, "{}", same.text);
    assert_eq!(
        (same.json["id"].as_str(), same.header("etag")),
        (Some(id.as_str()), Some("\"1\""))
    );
    assert_eq!(
        events(&app, &admin, "account.*").await,
        1,
        "an unchanged PUT publishes nothing"
    );

    // Left-out members are cleared; owner and references stay; the path's reference is kept.
    let changed = app
        .put(
            path,
            &admin,
            json!({"name": "华东电力设计院", "external_refs": [{"system": "hubspot", "id": "42"}]}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.json["version"], 2);
    assert_eq!(changed.json["industry"], Value::Null);
    assert_eq!(changed.json["tags"], json!([]));
    assert_eq!(changed.json["owner"], "admin-user");
    assert_eq!(
        refs(&changed),
        json!([{"system": "salesforce", "id": "0015g00000AbCdE"}, {"system": "hubspot", "id": "42"}])
    );
    let updated = settled(&app, &admin, "/v1/events?types=account.updated", 1).await;
    let fields = &updated.json["items"][0]["data"]["changed_fields"];
    assert_eq!(
        fields,
        &json!(["external_refs", "industry", "name", "tags"]),
        "{}",
        updated.text
    );

    let stale = app
        .put(path, &admin, json!({"name": "x"}), Some("\"1\""))
        .await;
    stale.assert_problem(412, "precondition_failed");
    let missing = app
        .put(
            "/v1/accounts/by-ref/salesforce/none",
            &admin,
            json!({"name": "x"}),
            Some("\"1\""),
        )
        .await;
    missing.assert_problem(412, "precondition_failed");
    let viewer = app
        .put(path, &app.viewer(), json!({"name": "x"}), None)
        .await;
    viewer.assert_problem(403, "forbidden");
    let other = app
        .put(
            path,
            &app.other_tenant(buyerpath::auth::Role::Admin),
            body.clone(),
            None,
        )
        .await;
    assert_eq!(
        other.status, 201,
        "another tenant's reference is its own: {}",
        other.text
    );

    let bad = app
        .put(
            "/v1/accounts/by-ref/Sales%20Force/x",
            &admin,
            json!({"name": "x"}),
            None,
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert_eq!(bad.json["errors"][0]["field"], "system");
    assert_eq!(bad.json["errors"][0]["in"], "path");
    let bad = app
        .put(
            "/v1/accounts/by-ref/salesforce/new",
            &admin,
            json!({"name": " ", "website": "nope"}),
            None,
        )
        .await;
    assert_eq!(bad.error_fields(), ["name", "website"]);
    let none = app
        .get("/v1/accounts?external_ref=salesforce:new", &admin)
        .await;
    assert_eq!(none.json["items"], json!([]), "nothing stored");

    let archived = app
        .delete(&format!("/v1/accounts/{id}"), &admin, None)
        .await;
    assert_eq!(archived.status, 204);
    let r = app.put(path, &admin, json!({"name": "again"}), None).await;
    r.assert_problem(409, "conflict");
}

#[actix_web::test]
async fn contacts_and_opportunities_name_their_account_and_manager_by_reference() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app
        .put(
            "/v1/accounts/by-ref/salesforce/001A",
            &admin,
            json!({"name": "甲公司"}),
            None,
        )
        .await;
    let acc_id = acc.id();
    let boss = app
        .put(
            "/v1/contacts/by-ref/salesforce/003BOSS",
            &admin,
            json!({"account_ref": "001A", "name": "张总"}),
            None,
        )
        .await;
    assert_eq!(boss.status, 201, "{}", boss.text);
    assert_eq!(boss.json["account_id"], acc_id.as_str());
    assert_eq!(
        boss.header("location"),
        Some(format!("/v1/accounts/{acc_id}/contacts/{}", boss.id()).as_str())
    );
    let body = json!({"account_ref": "001A", "name": "王工", "reports_to_ref": "003BOSS", "title": "工程师"});
    let w = app
        .put(
            "/v1/contacts/by-ref/salesforce/003W",
            &admin,
            body.clone(),
            None,
        )
        .await;
    assert_eq!(w.status, 201, "{}", w.text);
    assert_eq!(w.json["reports_to"], boss.id().as_str());
    let again = app
        .put("/v1/contacts/by-ref/salesforce/003W", &admin, body, None)
        .await;
    assert_eq!(
        (again.status, again.json["version"].as_i64()),
        (200, Some(1)),
        "{}",
        again.text
    );

    let bad = app
        .put(
            "/v1/contacts/by-ref/salesforce/003X",
            &admin,
            json!({"account_ref": "nope", "name": "x", "reports_to_ref": "nope"}),
            None,
        )
        .await;
    assert_eq!(bad.error_fields(), ["account_ref", "reports_to_ref"]);
    let bad = app
        .put(
            "/v1/contacts/by-ref/salesforce/003X",
            &admin,
            json!({"name": "x"}),
            None,
        )
        .await;
    assert_eq!(bad.error_fields(), ["account_id"]);
    let bad = app
        .put(
            "/v1/contacts/by-ref/salesforce/003X",
            &admin,
            json!({"account_id": acc_id, "account_ref": "001A", "name": "x"}),
            None,
        )
        .await;
    assert_eq!(bad.error_fields(), ["account_ref"]);
    let moved = app.account(&admin, "乙公司").await;
    let bad = app
        .put(
            "/v1/contacts/by-ref/salesforce/003W",
            &admin,
            json!({"account_id": moved, "name": "王工"}),
            None,
        )
        .await;
    assert_eq!(bad.error_fields(), ["account_id"]);
    assert_eq!(bad.json["errors"][0]["code"], "fixed");

    // An opportunity brought in further along starts in its stage; a later stage is a move.
    let o = app
        .put(
            "/v1/opportunities/by-ref/salesforce/006A",
            &admin,
            json!({"account_ref": "001A", "name": "网络改造", "current_stage": "S3", "estimated_amount": "1200000.00", "currency": "CNY"}),
            None,
        )
        .await;
    assert_eq!(o.status, 201, "{}", o.text);
    assert_eq!(
        (
            o.json["current_stage"].as_str(),
            o.json["estimated_amount"].as_str()
        ),
        (Some("S3"), Some("1200000.00"))
    );
    let moved = app
        .put(
            "/v1/opportunities/by-ref/salesforce/006A",
            &admin,
            json!({"account_ref": "001A", "name": "网络改造", "current_stage": "S4", "stage_reason": "方案评审通过",
                   "estimated_amount": "1200000.00", "currency": "CNY"}),
            None,
        )
        .await;
    assert_eq!(
        (moved.status, moved.json["current_stage"].as_str()),
        (200, Some("S4")),
        "{}",
        moved.text
    );
    let history = app
        .get(
            &format!("/v1/opportunities/{}/stage-history", o.id()),
            &admin,
        )
        .await;
    let items = history.json["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|h| h["from"] == "S3" && h["to"] == "S4" && h["reason"] == "方案评审通过"),
        "{}",
        history.text
    );
    let bad = app
        .put(
            "/v1/opportunities/by-ref/salesforce/006B",
            &admin,
            json!({"account_ref": "001A", "name": "x", "estimated_amount": "1.5"}),
            None,
        )
        .await;
    assert_eq!(bad.error_fields(), ["currency"]);
    assert_eq!(
        app.get("/v1/opportunities?external_ref=salesforce:006B", &admin)
            .await
            .json["items"],
        json!([])
    );
}

#[actix_web::test]
async fn activities_name_their_opportunity_and_participants_by_reference() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    app.put(
        "/v1/accounts/by-ref/salesforce/001A",
        &admin,
        json!({"name": "甲公司"}),
        None,
    )
    .await;
    let c = app
        .put(
            "/v1/contacts/by-ref/salesforce/003A",
            &admin,
            json!({"account_ref": "001A", "name": "王工"}),
            None,
        )
        .await;
    let o = app
        .put(
            "/v1/opportunities/by-ref/salesforce/006A",
            &admin,
            json!({"account_ref": "001A", "name": "改造"}),
            None,
        )
        .await;
    let body = json!({"account_ref": "001A", "kind": "meeting", "occurred_at": "2026-11-02T10:00:00Z",
                      "subject": "技术交流", "opportunity_ref": "006A", "participant_refs": ["003A"]});
    let a = app
        .put(
            "/v1/activities/by-ref/salesforce/00TA",
            &admin,
            body.clone(),
            None,
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json["opportunity_id"], o.id().as_str());
    assert_eq!(a.json["participants"], json!([c.id()]));
    assert_eq!(
        a.header("location"),
        Some(format!("/v1/activities/{}", a.id()).as_str())
    );
    let same = app
        .put("/v1/activities/by-ref/salesforce/00TA", &admin, body, None)
        .await;
    assert_eq!(
        (same.status, same.json["version"].as_i64()),
        (200, Some(1)),
        "{}",
        same.text
    );
    let cleared = app
        .put("/v1/activities/by-ref/salesforce/00TA", &admin,
             json!({"account_ref": "001A", "kind": "meeting", "occurred_at": "2026-11-02T10:00:00Z", "subject": "技术交流"}), None)
        .await;
    assert_eq!(
        cleared.json["opportunity_id"],
        Value::Null,
        "{}",
        cleared.text
    );
    assert_eq!(cleared.json["participants"], json!([]));
    assert_eq!(
        refs(&cleared),
        json!([{"system": "salesforce", "id": "00TA"}])
    );

    let bad = app
        .put("/v1/activities/by-ref/salesforce/00TB", &admin,
             json!({"account_ref": "001A", "kind": "call", "occurred_at": "2026-11-02T10:00:00Z", "subject": "x",
                    "opportunity_ref": "nope", "participant_refs": ["003A", "nope"]}), None)
        .await;
    assert_eq!(
        bad.error_fields(),
        ["opportunity_ref", "participant_refs[1]"]
    );
    let rep = app
        .put("/v1/activities/by-ref/salesforce/00TB", &app.rep("rep-1"),
             json!({"account_ref": "001A", "kind": "call", "occurred_at": "2026-11-02T10:00:00Z", "subject": "x"}), None)
        .await;
    rep.assert_problem(403, "forbidden");
    assert_eq!(
        app.get("/v1/accounts/by-ref/salesforce/001A", &admin)
            .await
            .status,
        405
    );
}

#[actix_web::test]
async fn concurrent_writes_by_one_new_reference_make_one_resource() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let puts = (0..6).map(|i| {
        app.put(
            "/v1/accounts/by-ref/hubspot/777",
            &admin,
            json!({"name": format!("Race {}", i % 2)}),
            None,
        )
    });
    let answers = futures_util::future::join_all(puts).await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(
        statuses[0],
        200,
        "{:?}",
        answers.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 201),
        "{statuses:?}"
    );
    let list = app.get("/v1/accounts", &admin).await;
    assert_eq!(
        list.json["items"].as_array().unwrap().len(),
        1,
        "{}",
        list.text
    );
}
