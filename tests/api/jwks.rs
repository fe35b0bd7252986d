//! Tokens of an identity provider, verified with the keys of its JWKS: selected by `kid`,
//! rotated without a restart, refetched for an unknown `kid` at most once per 30 s.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{web, HttpResponse, HttpServer};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::common::TestApp;

struct Provider {
    url: String,
    set: Arc<Mutex<JwkSet>>,
    hits: Arc<AtomicUsize>,
}

async fn provider() -> Provider {
    let set = Arc::new(Mutex::new(JwkSet { keys: vec![] }));
    let hits = Arc::new(AtomicUsize::new(0));
    let (s, h) = (set.clone(), hits.clone());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let (s, h) = (s.clone(), h.clone());
        actix_web::App::new().route(
            "/jwks.json",
            web::get().to(move || {
                let (s, h) = (s.clone(), h.clone());
                async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    let body = serde_json::to_string(&*s.lock().unwrap()).unwrap();
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .body(body)
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    Provider {
        url: format!("http://127.0.0.1:{port}/jwks.json"),
        set,
        hits,
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

struct Signer {
    kid: &'static str,
    alg: Algorithm,
    key: EncodingKey,
}

impl Signer {
    fn rsa(kid: &'static str) -> Signer {
        Signer {
            kid,
            alg: Algorithm::RS256,
            key: EncodingKey::from_rsa_pem(&fixture("rsa-private.pem")).unwrap(),
        }
    }

    fn ed(kid: &'static str) -> Signer {
        Signer {
            kid,
            alg: Algorithm::EdDSA,
            key: EncodingKey::from_ed_pem(&fixture("ed25519-private.pem")).unwrap(),
        }
    }

    fn jwk(&self) -> Jwk {
        let mut jwk = Jwk::from_encoding_key(&self.key, self.alg).unwrap();
        jwk.common.key_id = Some(self.kid.to_string());
        jwk
    }

    fn token(&self, tenant: uuid::Uuid, kid: Option<&str>, alg: Algorithm) -> String {
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_string);
        let exp = jsonwebtoken::get_current_timestamp() + 600;
        jsonwebtoken::encode(
            &header,
            &json!({"sub": "idp-user", "tenant": tenant, "roles": ["viewer"], "exp": exp}),
            &self.key,
        )
        .unwrap()
    }

    fn sign(&self, tenant: uuid::Uuid) -> String {
        self.token(tenant, Some(self.kid), self.alg)
    }
}

#[actix_web::test]
async fn tokens_are_verified_with_the_providers_keys_which_rotate_without_a_restart() {
    let idp = provider().await;
    let (a, b) = (Signer::rsa("key-a"), Signer::ed("key-b"));
    idp.set.lock().unwrap().keys = vec![a.jwk()];
    let mut vars: HashMap<String, String> = HashMap::new();
    vars.insert("DATABASE_URL".into(), crate::common::database_url());
    vars.insert("BUYERPATH_JWT_JWKS_URL".into(), idp.url.clone());
    let config = buyerpath::config::Config::from_lookup(|k| vars.get(k).cloned()).unwrap();
    let keys = buyerpath::server::jwt_keys(&config).unwrap().0;
    keys.jwks().unwrap().fetch().await.unwrap();
    let app = TestApp::spawn_config(config, keys, &crate::common::database_url()).await;
    let tenant = app.tenant;

    let r = app.get("/v1/accounts", &a.sign(tenant)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(idp.hits.load(Ordering::SeqCst), 1);

    // Tokens without a kid, or whose alg does not match the key, are refused.
    app.get("/v1/accounts", &a.token(tenant, None, Algorithm::RS256))
        .await
        .assert_problem(401, "unauthenticated");
    let hs = jsonwebtoken::encode(
        &Header {
            kid: Some("key-a".into()),
            ..Header::new(Algorithm::HS256)
        },
        &json!({"sub": "x", "tenant": tenant, "roles": ["admin"], "exp": jsonwebtoken::get_current_timestamp() + 60}),
        &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
    )
    .unwrap();
    app.get("/v1/accounts", &hs)
        .await
        .assert_problem(401, "unauthenticated");

    // The provider rotates to key b: its first token makes the service fetch the set again.
    idp.set.lock().unwrap().keys = vec![b.jwk()];
    let r = app.get("/v1/accounts", &b.sign(tenant)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(idp.hits.load(Ordering::SeqCst), 2);
    // Key a is gone from the set, so its tokens are refused now.
    app.get("/v1/accounts", &a.sign(tenant))
        .await
        .assert_problem(401, "unauthenticated");

    // Forged kids cannot make it fetch again within 30 s.
    for i in 0..10 {
        let forged = b.token(tenant, Some(&format!("forged-{i}")), Algorithm::EdDSA);
        app.get("/v1/accounts", &forged)
            .await
            .assert_problem(401, "unauthenticated");
    }
    assert_eq!(
        idp.hits.load(Ordering::SeqCst),
        2,
        "at most one fetch per 30 s"
    );
}

#[test]
fn start_up_fails_when_the_first_fetch_fails() {
    let port = crate::common::free_port();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_buyerpath"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "off")
        .env("DATABASE_URL", crate::common::database_url())
        .env(
            "BUYERPATH_JWT_JWKS_URL",
            format!("http://127.0.0.1:{port}/nothing-here.json"),
        )
        .env("BUYERPATH_BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("BUYERPATH_JWT_JWKS_URL"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
