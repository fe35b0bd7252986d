//! Accounts: CRUD, validation, pagination, filters, concurrency, roles, tenants, archive.

use std::collections::HashSet;

use serde_json::json;
use uuid::Uuid;

use crate::common::TestApp;

#[actix_web::test]
async fn create_get_and_headers() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let r = app
        .post(
            "/v1/accounts",
            &admin,
            json!({
                "name": "  华东电力设计院  ", "industry": "energy", "region": "华东",
                "size_band": "large", "website": "https://example.cn",
                "tags": ["energy", "设计院", "energy"], "notes": "多次拜访"
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.id();
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/accounts/{id}").as_str())
    );
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert!(r.header("x-request-id").is_some());
    assert_eq!(r.json["name"], "华东电力设计院", "trimmed");
    assert_eq!(r.json["tags"], json!(["energy", "设计院"]), "deduplicated");
    assert_eq!(r.json["owner"], "admin-user");
    assert_eq!(r.json["size_band"], "large");
    assert_eq!(r.json["version"], 1);
    assert!(r.json["archived_at"].is_null());
    assert!(Uuid::parse_str(&id).unwrap().get_version_num() == 7);

    let g = app.get(r.header("location").unwrap(), &admin).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.json, r.json);
    assert_eq!(g.header("etag"), Some("\"1\""));
}

#[actix_web::test]
async fn validation_errors_name_the_fields() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let r = app
        .post(
            "/v1/accounts",
            &admin,
            json!({"name": " ", "website": "example.com", "tags": ["ok", ""], "region": "x".repeat(101)}),
        )
        .await;
    let fields = r.error_fields();
    assert_eq!(fields, ["name", "region", "tags[1]", "website"]);

    let r = app
        .post(
            "/v1/accounts",
            &admin,
            json!({"name": "a", "size_band": "huge"}),
        )
        .await;
    assert_eq!(r.error_fields(), ["size_band"]);
    let r = app
        .post("/v1/accounts", &admin, json!({"name": "a", "id": "x"}))
        .await;
    assert_eq!(
        r.error_fields(),
        ["id"],
        "server-set fields are not accepted"
    );
    let r = app
        .post("/v1/accounts", &admin, json!({"name": "a", "version": 7}))
        .await;
    assert_eq!(r.error_fields(), ["version"]);
    let r = app
        .post("/v1/accounts", &admin, json!({"name": "a\u{0000}b"}))
        .await;
    assert_eq!(
        r.error_fields(),
        ["name"],
        "NUL is rejected before it reaches Postgres"
    );
    let r = app
        .post("/v1/accounts", &admin, json!({"industry": "x"}))
        .await;
    assert_eq!(r.error_fields(), ["name"], "a missing field is named");
    assert_eq!(r.json["errors"][0]["code"], "required");
    let r = app
        .post("/v1/accounts", &admin, json!({"name": "a", "tags": "x"}))
        .await;
    assert_eq!(r.error_fields(), ["tags"]);
    let r = app.post("/v1/accounts", &admin, json!([1, 2])).await;
    assert_eq!(r.error_fields(), [""]);
}

#[actix_web::test]
async fn malformed_bodies_are_problems() {
    let app = TestApp::spawn_with(&[("BUYERPATH_BODY_LIMIT", "2048")]).await;
    let admin = app.admin();
    let r = app
        .send(
            app.client
                .post(app.url("/v1/accounts"))
                .bearer_auth(&admin)
                .header("content-type", "application/json")
                .body("{\"name\": "),
        )
        .await;
    r.assert_problem(400, "bad_request");
    let r = app
        .send(
            app.client
                .post(app.url("/v1/accounts"))
                .bearer_auth(&admin)
                .header("content-type", "text/plain")
                .body("{\"name\": \"a\"}"),
        )
        .await;
    r.assert_problem(415, "unsupported_media_type");
    let r = app
        .send(app.client.post(app.url("/v1/accounts")).bearer_auth(&admin))
        .await;
    assert!(r.status == 400 || r.status == 415, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let big = json!({"name": "big", "notes": "x".repeat(5000)});
    let r = app.post("/v1/accounts", &admin, big).await;
    r.assert_problem(413, "payload_too_large");
}

#[actix_web::test]
async fn pagination_returns_every_row_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(app.account(&admin, &format!("Account {i}")).await);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/accounts?limit=3&cursor={c}"),
            None => "/v1/accounts?limit=3".to_string(),
        };
        let r = app.get(&path, &admin).await;
        assert_eq!(r.status, 200, "{}", r.text);
        pages += 1;
        let items = r.json["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_string()));
        match r.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created, "creation order, each once");
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 7);
}

#[actix_web::test]
async fn bad_list_parameters() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    assert_eq!(
        app.get("/v1/accounts?limit=0", &admin).await.error_fields(),
        ["limit"]
    );
    assert_eq!(
        app.get("/v1/accounts?limit=201", &admin)
            .await
            .error_fields(),
        ["limit"]
    );
    assert_eq!(
        app.get("/v1/accounts?limit=abc", &admin).await.malformed(),
        [("limit".to_string(), "invalid_format".to_string())]
    );
    assert_eq!(
        app.get("/v1/accounts?cursor=bogus", &admin)
            .await
            .error_fields(),
        ["cursor"]
    );
    assert_eq!(
        app.get("/v1/accounts?owne=x", &admin).await.malformed(),
        [("owne".to_string(), "unknown_field".to_string())]
    );
    assert_eq!(
        app.get("/v1/accounts?include_archived=maybe", &admin)
            .await
            .malformed(),
        [("include_archived".to_string(), "invalid_format".to_string())]
    );
    // Every bad parameter at once; one that does not parse makes it a 400.
    let r = app
        .get(
            "/v1/accounts?limit=0&include_archived=maybe&updated_since=yesterday",
            &admin,
        )
        .await;
    assert_eq!(
        r.malformed(),
        [
            ("limit".to_string(), "out_of_range".to_string()),
            ("include_archived".to_string(), "invalid_format".to_string()),
            ("updated_since".to_string(), "invalid_format".to_string()),
        ]
    );
    assert_eq!(r.json["errors"][0]["in"], "query");
}

#[actix_web::test]
async fn filters() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let a = app
        .post(
            "/v1/accounts",
            &admin,
            json!({"name": "Acme Power 100%", "industry": "energy", "tags": ["hot", "gov"]}),
        )
        .await
        .id();
    let b = app
        .post(
            "/v1/accounts",
            &app.rep("rep-1"),
            json!({"name": "国家电网 华北分部", "industry": "energy", "tags": ["gov"]}),
        )
        .await
        .id();
    let c = app
        .post(
            "/v1/accounts",
            &admin,
            json!({"name": "Bank of Nowhere", "industry": "finance"}),
        )
        .await
        .id();
    let ids = |r: &crate::common::Resp| -> Vec<String> {
        r.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(&app.get("/v1/accounts?q=acme", &admin).await),
        vec![a.clone()]
    );
    assert_eq!(
        ids(&app.get("/v1/accounts?q=ACME%20POWER", &admin).await),
        vec![a.clone()]
    );
    assert_eq!(
        ids(&app.get("/v1/accounts?q=100%25", &admin).await),
        vec![a.clone()],
        "% is literal"
    );
    assert_eq!(
        ids(&app.get("/v1/accounts?q=_", &admin).await),
        Vec::<String>::new(),
        "_ is literal"
    );
    assert_eq!(
        ids(&app.get("/v1/accounts?q=%E7%94%B5%E7%BD%91", &admin).await),
        vec![b.clone()]
    );
    assert_eq!(
        ids(&app.get("/v1/accounts?owner=rep-1", &admin).await),
        vec![b.clone()]
    );
    assert_eq!(
        ids(&app.get("/v1/accounts?industry=energy", &admin).await),
        [a.clone(), b.clone()]
    );
    assert_eq!(
        ids(&app.get("/v1/accounts?tag=gov", &admin).await),
        [a.clone(), b.clone()]
    );
    assert_eq!(
        ids(&app
            .get("/v1/accounts?tag=hot&industry=energy", &admin)
            .await),
        vec![a.clone()]
    );
    assert_eq!(
        ids(&app.get("/v1/accounts?industry=finance", &admin).await),
        vec![c.clone()]
    );

    // Archived accounts are hidden unless asked for.
    assert_eq!(
        app.delete(&format!("/v1/accounts/{c}"), &admin, None)
            .await
            .status,
        204
    );
    assert_eq!(
        ids(&app.get("/v1/accounts", &admin).await),
        [a.clone(), b.clone()]
    );
    assert_eq!(
        ids(&app.get("/v1/accounts?include_archived=true", &admin).await),
        [a, b, c]
    );
}

#[actix_web::test]
async fn patch_is_a_merge_patch_with_if_match() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let r = app
        .post(
            "/v1/accounts",
            &admin,
            json!({"name": "Old", "industry": "energy", "region": "华北", "tags": ["a"]}),
        )
        .await;
    let path = format!("/v1/accounts/{}", r.id());

    let p = app
        .patch(
            &path,
            &admin,
            json!({"name": "New", "industry": null}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.json["name"], "New");
    assert!(p.json["industry"].is_null(), "null clears");
    assert_eq!(p.json["region"], "华北", "absent stays");
    assert_eq!(p.json["tags"], json!(["a"]));
    assert_eq!(p.json["version"], 2);
    assert_eq!(p.header("etag"), Some("\"2\""));

    let stale = app
        .patch(&path, &admin, json!({"name": "Lost update"}), Some("\"1\""))
        .await;
    stale.assert_problem(412, "precondition_failed");
    assert_eq!(
        app.get(&path, &admin).await.json["name"],
        "New",
        "nothing changed"
    );

    let p = app
        .patch(&path, &admin, json!({"tags": ["x", "y"]}), Some("*"))
        .await;
    assert_eq!(p.json["tags"], json!(["x", "y"]));
    let p = app.patch(&path, &admin, json!({"tags": null}), None).await;
    assert_eq!(p.json["tags"], json!([]));
    assert_eq!(p.json["version"], 4);

    assert_eq!(
        app.patch(&path, &admin, json!({"name": null}), None)
            .await
            .error_fields(),
        ["name"]
    );
    assert_eq!(
        app.patch(&path, &admin, json!({"owner": null}), None)
            .await
            .error_fields(),
        ["owner"]
    );
    assert_eq!(
        app.patch(&path, &admin, json!({"bogus": 1}), None)
            .await
            .error_fields(),
        ["bogus"]
    );
    assert_eq!(
        app.patch(
            &path,
            &admin,
            json!({"created_at": "2020-01-01T00:00:00Z"}),
            None
        )
        .await
        .error_fields(),
        ["created_at"]
    );
    // An empty patch changes nothing but the version stays consistent.
    let p = app.patch(&path, &admin, json!({}), None).await;
    assert_eq!(p.status, 200, "{}", p.text);
}

#[actix_web::test]
async fn stale_delete_is_412() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let id = app.account(&admin, "To archive").await;
    let path = format!("/v1/accounts/{id}");
    app.patch(&path, &admin, json!({"region": "x"}), None).await;
    app.delete(&path, &admin, Some("\"1\""))
        .await
        .assert_problem(412, "precondition_failed");
    assert_eq!(app.delete(&path, &admin, Some("\"2\"")).await.status, 204);
}

#[actix_web::test]
async fn reps_write_only_their_own_accounts() {
    let app = TestApp::spawn().await;
    let alice = app.rep("alice");
    let bob = app.rep("bob");
    let r = app
        .post("/v1/accounts", &alice, json!({"name": "Alice's"}))
        .await;
    assert_eq!(r.json["owner"], "alice");
    let path = format!("/v1/accounts/{}", r.id());

    assert_eq!(
        app.get(&path, &bob).await.status,
        200,
        "reps read everything"
    );
    app.patch(&path, &bob, json!({"region": "x"}), None)
        .await
        .assert_problem(403, "forbidden");
    app.delete(&path, &bob, None)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        app.patch(&path, &alice, json!({"region": "x"}), None)
            .await
            .status,
        200
    );

    // Reps cannot hand accounts around.
    app.patch(&path, &alice, json!({"owner": "bob"}), None)
        .await
        .assert_problem(403, "forbidden");
    app.post(
        "/v1/accounts",
        &alice,
        json!({"name": "for bob", "owner": "bob"}),
    )
    .await
    .assert_problem(403, "forbidden");
    let same = app
        .post(
            "/v1/accounts",
            &alice,
            json!({"name": "mine", "owner": "alice"}),
        )
        .await;
    assert_eq!(same.status, 201);

    // Managers reassign; then bob may write and alice may not.
    let m = app
        .patch(&path, &app.manager(), json!({"owner": "bob"}), None)
        .await;
    assert_eq!(m.json["owner"], "bob");
    assert_eq!(
        app.patch(&path, &bob, json!({"region": "y"}), None)
            .await
            .status,
        200
    );
    app.patch(&path, &alice, json!({"region": "z"}), None)
        .await
        .assert_problem(403, "forbidden");
    let created = app
        .post(
            "/v1/accounts",
            &app.manager(),
            json!({"name": "assigned", "owner": "alice"}),
        )
        .await;
    assert_eq!(created.json["owner"], "alice");
}

#[actix_web::test]
async fn archive_and_restore() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let id = app.account(&admin, "Archivable").await;
    let path = format!("/v1/accounts/{id}");
    assert_eq!(app.delete(&path, &admin, None).await.status, 204);
    let g = app.get(&path, &admin).await;
    assert_eq!(g.status, 200, "archived accounts stay readable");
    assert!(g.json["archived_at"].is_string());
    assert_eq!(
        app.delete(&path, &admin, None).await.status,
        204,
        "idempotent"
    );
    assert_eq!(app.get(&path, &admin).await.json["version"], 2);
    app.patch(&path, &admin, json!({"name": "x"}), None)
        .await
        .assert_problem(409, "conflict");
    let r = app
        .post(&format!("{path}/restore"), &admin, json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json["archived_at"].is_null());
    assert_eq!(r.header("etag"), Some("\"3\""));
    assert_eq!(
        app.patch(&path, &admin, json!({"name": "x"}), None)
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn other_tenants_see_404() {
    let app = TestApp::spawn().await;
    let id = app.account(&app.admin(), "Tenant A's").await;
    let path = format!("/v1/accounts/{id}");
    let other = app.other_tenant(buyerpath::auth::Role::Admin);
    app.get(&path, &other)
        .await
        .assert_problem(404, "not_found");
    app.patch(&path, &other, json!({"name": "pwned"}), None)
        .await
        .assert_problem(404, "not_found");
    app.delete(&path, &other, None)
        .await
        .assert_problem(404, "not_found");
    app.post(&format!("{path}/restore"), &other, json!({}))
        .await
        .assert_problem(404, "not_found");
    app.post(&format!("{path}/contacts"), &other, json!({"name": "x"}))
        .await
        .assert_problem(404, "not_found");
    app.get(&format!("{path}/contacts"), &other)
        .await
        .assert_problem(404, "not_found");
    app.get(&format!("{path}/org-chart"), &other)
        .await
        .assert_problem(404, "not_found");
    let list = app.get("/v1/accounts?include_archived=true", &other).await;
    assert_eq!(list.json["items"], json!([]));
    assert_eq!(
        app.get(&path, &app.admin()).await.json["name"],
        "Tenant A's"
    );
}

#[actix_web::test]
async fn bad_path_ids_are_400_and_unknown_ids_404() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    app.get("/v1/accounts/not-a-uuid", &admin)
        .await
        .assert_problem(400, "bad_request");
    app.get(&format!("/v1/accounts/{}", Uuid::now_v7()), &admin)
        .await
        .assert_problem(404, "not_found");
}
