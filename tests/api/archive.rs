//! The archive rules, run over every archivable resource from one table:
//! - an archived resource is read-only until restored (409); archiving it again changes nothing;
//! - archiving a parent (the account) makes its children read-only: no write, no archive, no
//!   restore, no new child (409);
//! - restoring the parent makes them writable again.

use serde_json::{json, Value};

use crate::common::TestApp;

/// One archivable child of an account.
pub(crate) struct Child {
    pub name: &'static str,
    /// The collection under the account.
    pub create: fn(&str) -> String,
    /// The item path from (account, id).
    pub item: fn(&str, &str) -> String,
    pub body: fn() -> Value,
    pub patch: fn() -> Value,
}

pub(crate) fn children() -> Vec<Child> {
    vec![
        Child {
            name: "contact",
            create: |acc| format!("/v1/accounts/{acc}/contacts"),
            item: |acc, id| format!("/v1/accounts/{acc}/contacts/{id}"),
            body: || json!({"name": "王建国"}),
            patch: || json!({"title": "信息中心主任"}),
        },
        Child {
            name: "opportunity",
            create: |acc| format!("/v1/accounts/{acc}/opportunities"),
            item: |_, id| format!("/v1/opportunities/{id}"),
            body: || json!({"name": "数据中心网络改造"}),
            patch: || json!({"description": "核心网络"}),
        },
        Child {
            name: "activity",
            create: |acc| format!("/v1/accounts/{acc}/activities"),
            item: |_, id| format!("/v1/activities/{id}"),
            body: || json!({"kind": "visit", "occurred_at": "2026-11-20T02:00:00Z", "subject": "拜访"}),
            patch: || json!({"outcome": "顺利"}),
        },
        Child {
            name: "survey record",
            create: |acc| format!("/v1/accounts/{acc}/survey-records"),
            item: |_, id| format!("/v1/survey-records/{id}"),
            body: || json!({"surveyed_at": "2026-11-20T09:00:00Z"}),
            patch: || json!({"surveyor": "alice"}),
        },
    ]
}

#[actix_web::test]
async fn the_same_archive_rules_hold_for_every_resource() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    for child in children() {
        let what = child.name;
        let acc = app.account(&admin, &format!("Customer of a {what}")).await;
        let account = format!("/v1/accounts/{acc}");
        let created = app
            .post(&(child.create)(&acc), &admin, (child.body)())
            .await;
        assert_eq!(created.status, 201, "{what}: {}", created.text);
        let id = created.id();
        let item = (child.item)(&acc, &id);
        let restore = format!("{item}/restore");

        // An archived resource is read-only; archiving again is a no-op; restore brings it back.
        assert_eq!(app.delete(&item, &admin, None).await.status, 204, "{what}");
        app.patch(&item, &admin, (child.patch)(), None)
            .await
            .assert_problem(409, "conflict");
        assert_eq!(app.delete(&item, &admin, None).await.status, 204, "{what}");
        let back = app.post(&restore, &admin, json!({})).await;
        assert_eq!(back.status, 200, "{what}: {}", back.text);
        assert!(back.json["archived_at"].is_null(), "{what}");
        let ok = app.patch(&item, &admin, (child.patch)(), None).await;
        assert_eq!(ok.status, 200, "{what}: {}", ok.text);

        // Archiving the account blocks every write to the child, and new children.
        assert_eq!(app.delete(&account, &admin, None).await.status, 204);
        app.patch(&item, &admin, (child.patch)(), None)
            .await
            .assert_problem(409, "conflict");
        app.delete(&item, &admin, None)
            .await
            .assert_problem(409, "conflict");
        app.post(&(child.create)(&acc), &admin, (child.body)())
            .await
            .assert_problem(409, "conflict");
        let read = app.get(&item, &admin).await;
        assert_eq!(read.status, 200, "{what}: reads still work");
        assert!(
            read.json["archived_at"].is_null(),
            "{what}: the child itself is not archived"
        );

        // Restoring a child of an archived account is refused too.
        let acc_back = app
            .post(&format!("{account}/restore"), &admin, json!({}))
            .await;
        assert_eq!(acc_back.status, 200);
        assert_eq!(app.delete(&item, &admin, None).await.status, 204, "{what}");
        assert_eq!(app.delete(&account, &admin, None).await.status, 204);
        app.post(&restore, &admin, json!({}))
            .await
            .assert_problem(409, "conflict");

        // Once the account is back, the child can be restored and written.
        app.post(&format!("{account}/restore"), &admin, json!({}))
            .await;
        let back = app.post(&restore, &admin, json!({})).await;
        assert_eq!(back.status, 200, "{what}: {}", back.text);
        let ok = app.patch(&item, &admin, (child.patch)(), None).await;
        assert_eq!(ok.status, 200, "{what}: {}", ok.text);
    }
}

#[actix_web::test]
async fn an_archived_account_blocks_assessments_of_its_opportunities() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Customer").await;
    let opp = app
        .post(
            &format!("/v1/accounts/{acc}/opportunities"),
            &admin,
            json!({"name": "Deal"}),
        )
        .await
        .id();
    let assess = format!("/v1/opportunities/{opp}/stage-assessments");
    let body = json!({"observed_behaviours": []});
    assert_eq!(app.post(&assess, &admin, body.clone()).await.status, 201);
    app.delete(&format!("/v1/accounts/{acc}"), &admin, None)
        .await;
    app.post(&assess, &admin, body.clone())
        .await
        .assert_problem(409, "conflict");
    let list = app.get(&assess, &admin).await;
    assert_eq!(
        list.json["items"].as_array().unwrap().len(),
        1,
        "nothing half-stored"
    );
}
