//! Authentication and authorisation failures: every one is a problem+json 401 or 403.

use base64::Engine;
use buyerpath::auth::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{TestApp, SECRET};

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn hs(claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

fn claims(tenant: Uuid) -> Value {
    json!({"sub": "alice", "tenant": tenant.to_string(), "roles": ["admin"], "exp": now() + 600})
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

async fn expect_401(app: &TestApp, token: &str, why: &str) {
    let r = app.get("/v1/accounts", token).await;
    assert_eq!(r.status, 401, "{why}: {}", r.text);
    r.assert_problem(401, "unauthenticated");
    assert!(
        r.header("www-authenticate").unwrap().starts_with("Bearer"),
        "{why}"
    );
}

#[actix_web::test]
async fn valid_token_is_accepted() {
    let app = TestApp::spawn().await;
    let r = app.get("/v1/accounts", &hs(&claims(app.tenant))).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[actix_web::test]
async fn missing_and_malformed_tokens_are_401() {
    let app = TestApp::spawn().await;
    let r = app.send(app.client.get(app.url("/v1/accounts"))).await;
    r.assert_problem(401, "unauthenticated");
    assert!(r.header("www-authenticate").is_some());
    let r = app
        .send(
            app.client
                .get(app.url("/v1/accounts"))
                .header("authorization", "Basic YTpi"),
        )
        .await;
    r.assert_problem(401, "unauthenticated");
    expect_401(&app, "not-a-jwt", "garbage").await;
    expect_401(&app, "a.b.c", "three garbage parts").await;
    expect_401(&app, &"x".repeat(10_000), "oversized").await;
}

#[actix_web::test]
async fn expired_and_not_yet_valid_tokens_are_401() {
    let app = TestApp::spawn().await;
    let mut c = claims(app.tenant);
    c["exp"] = json!(now() - 3600);
    expect_401(&app, &hs(&c), "expired").await;
    let mut c = claims(app.tenant);
    c["nbf"] = json!(now() + 3600);
    expect_401(&app, &hs(&c), "not yet valid").await;
    let mut c = claims(app.tenant);
    c.as_object_mut().unwrap().remove("exp");
    expect_401(&app, &hs(&c), "no exp").await;
    let mut c = claims(app.tenant);
    c["exp"] = json!(now() + 20 * 365 * 24 * 3600);
    expect_401(&app, &hs(&c), "absurd lifetime").await;
}

#[actix_web::test]
async fn wrong_signature_and_alg_none_are_401() {
    let app = TestApp::spawn().await;
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(app.tenant),
        &EncodingKey::from_secret(b"some-other-secret-some-other-secret"),
    )
    .unwrap();
    expect_401(&app, &forged, "wrong secret").await;
    // Tampered payload with the original signature.
    let good = hs(&claims(app.tenant));
    let parts: Vec<&str> = good.split('.').collect();
    let mut c = claims(app.tenant);
    c["roles"] = json!(["admin", "manager"]);
    let tampered = format!("{}.{}.{}", parts[0], b64(&c), parts[2]);
    expect_401(&app, &tampered, "tampered").await;
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims(app.tenant))
    );
    expect_401(&app, &none, "alg none").await;
    let hs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims(app.tenant),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    expect_401(&app, &hs512, "algorithm not pinned").await;
    let mut header = Header::new(Algorithm::HS256);
    header.crit = Some(vec!["exp".into()]);
    let crit = jsonwebtoken::encode(
        &header,
        &claims(app.tenant),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    expect_401(&app, &crit, "crit header").await;
}

#[actix_web::test]
async fn bad_claims_are_rejected() {
    let app = TestApp::spawn().await;
    let mut c = claims(app.tenant);
    c.as_object_mut().unwrap().remove("tenant");
    expect_401(&app, &hs(&c), "missing tenant").await;
    let mut c = claims(app.tenant);
    c["tenant"] = json!("acme");
    expect_401(&app, &hs(&c), "tenant not a uuid").await;
    let mut c = claims(app.tenant);
    c["sub"] = json!("");
    expect_401(&app, &hs(&c), "empty sub").await;
    let mut c = claims(app.tenant);
    c["roles"] = json!("admin");
    expect_401(&app, &hs(&c), "roles not an array").await;

    let mut c = claims(app.tenant);
    c["roles"] = json!(["superuser"]);
    let r = app.get("/v1/accounts", &hs(&c)).await;
    r.assert_problem(403, "forbidden");
    assert!(r.json["detail"].as_str().unwrap().contains("superuser"));
    let mut c = claims(app.tenant);
    c["roles"] = json!([]);
    app.get("/v1/accounts", &hs(&c))
        .await
        .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn issuer_and_audience_are_checked_when_configured() {
    let app = TestApp::spawn_with(&[
        ("BUYERPATH_JWT_ISSUER", "https://idp.example.com"),
        ("BUYERPATH_JWT_AUDIENCE", "buyerpath"),
    ])
    .await;
    let mut c = claims(app.tenant);
    c["iss"] = json!("https://idp.example.com");
    c["aud"] = json!("buyerpath");
    assert_eq!(app.get("/v1/accounts", &hs(&c)).await.status, 200);
    c["aud"] = json!(["other", "buyerpath"]);
    assert_eq!(
        app.get("/v1/accounts", &hs(&c)).await.status,
        200,
        "aud may be a list"
    );
    c["aud"] = json!("other");
    expect_401(&app, &hs(&c), "wrong audience").await;
    let mut c = claims(app.tenant);
    c["aud"] = json!("buyerpath");
    expect_401(&app, &hs(&c), "missing issuer").await;
    c["iss"] = json!("https://evil.example.com");
    expect_401(&app, &hs(&c), "wrong issuer").await;
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[actix_web::test]
async fn rs256_public_key_and_algorithm_confusion() {
    let public = fixture("rsa-public.pem");
    let app = TestApp::spawn_with(&[
        ("BUYERPATH_JWT_SECRET", ""),
        ("BUYERPATH_JWT_PUBLIC_KEY", &public),
        ("BUYERPATH_JWT_ALGORITHM", "RS256"),
    ])
    .await;
    let private = std::fs::read(fixture("rsa-private.pem")).unwrap();
    let good = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims(app.tenant),
        &EncodingKey::from_rsa_pem(&private).unwrap(),
    )
    .unwrap();
    let r = app.get("/v1/accounts", &good).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The classic confusion: HS256 "signed" with the public key as the HMAC secret.
    let public_bytes = std::fs::read(&public).unwrap();
    let confused = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(app.tenant),
        &EncodingKey::from_secret(&public_bytes),
    )
    .unwrap();
    expect_401(&app, &confused, "HS/RS confusion").await;
    expect_401(&app, &hs(&claims(app.tenant)), "HS token on an RS service").await;
}

#[actix_web::test]
async fn eddsa_public_key_is_supported() {
    let app = TestApp::spawn_with(&[
        ("BUYERPATH_JWT_SECRET", ""),
        ("BUYERPATH_JWT_PUBLIC_KEY", &fixture("ed25519-public.pem")),
        ("BUYERPATH_JWT_ALGORITHM", "EdDSA"),
    ])
    .await;
    let private = std::fs::read(fixture("ed25519-private.pem")).unwrap();
    let good = jsonwebtoken::encode(
        &Header::new(Algorithm::EdDSA),
        &claims(app.tenant),
        &EncodingKey::from_ed_pem(&private).unwrap(),
    )
    .unwrap();
    assert_eq!(app.get("/v1/accounts", &good).await.status, 200);
    expect_401(
        &app,
        &hs(&claims(app.tenant)),
        "HS token on an EdDSA service",
    )
    .await;
}

#[actix_web::test]
async fn viewers_read_but_do_not_write() {
    let app = TestApp::spawn().await;
    let id = app.account(&app.admin(), "Readable").await;
    let viewer = app.viewer();
    assert_eq!(
        app.get(&format!("/v1/accounts/{id}"), &viewer).await.status,
        200
    );
    app.post("/v1/accounts", &viewer, json!({"name": "x"}))
        .await
        .assert_problem(403, "forbidden");
    app.patch(
        &format!("/v1/accounts/{id}"),
        &viewer,
        json!({"name": "y"}),
        None,
    )
    .await
    .assert_problem(403, "forbidden");
    app.delete(&format!("/v1/accounts/{id}"), &viewer, None)
        .await
        .assert_problem(403, "forbidden");
    app.post(
        &format!("/v1/accounts/{id}/contacts"),
        &viewer,
        json!({"name": "x"}),
    )
    .await
    .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn tokens_from_the_token_helper_carry_roles() {
    let app = TestApp::spawn().await;
    let t = app.token("multi", &[Role::Viewer, Role::Manager]);
    let r = app
        .post("/v1/accounts", &t, json!({"name": "by manager"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}
