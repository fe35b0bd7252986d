//! Request rate limits per user and per tenant.

use buyerpath::auth::Role;

use crate::common::TestApp;

#[actix_web::test]
async fn users_and_tenants_are_limited_with_retry_after_and_ratelimit_fields() {
    let app = TestApp::spawn_with(&[
        ("BUYERPATH_RATE_LIMIT_USER_PER_MINUTE", "3"),
        ("BUYERPATH_RATE_LIMIT_TENANT_PER_MINUTE", "5"),
    ])
    .await;
    let alice = app.rep("alice");
    for left in [2, 1, 0] {
        let r = app.get("/v1/accounts", &alice).await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("ratelimit-policy"),
            Some("\"user\";q=3;w=60, \"tenant\";q=5;w=60")
        );
        let rl = r.header("ratelimit").unwrap();
        assert!(rl.starts_with(&format!("\"user\";r={left};t=")), "{rl}");
    }
    let r = app.get("/v1/accounts", &alice).await;
    r.assert_problem(429, "rate_limited");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    // The next token in up to 20 s (3 a minute), and room for one more: up to 40 s.
    assert!((1..=40).contains(&retry), "{retry}");
    assert!(r
        .header("ratelimit")
        .unwrap()
        .starts_with("\"user\";r=0;t="));
    assert!(
        r.json["detail"].as_str().unwrap().contains("用户"),
        "{}",
        r.json
    );

    // Bob has his own user bucket; the tenant's five requests run out after his second.
    let bob = app.rep("bob");
    assert_eq!(app.get("/v1/accounts", &bob).await.status, 200);
    assert_eq!(app.get("/v1/accounts", &bob).await.status, 200);
    let r = app.get("/v1/accounts", &bob).await;
    r.assert_problem(429, "rate_limited");
    assert!(r
        .header("ratelimit")
        .unwrap()
        .starts_with("\"tenant\";r=0;"));

    // Another tenant, probes and requests without a valid token are not counted.
    let other = app.other_tenant(Role::Viewer);
    assert_eq!(app.get("/v1/accounts", &other).await.status, 200);
    assert_eq!(app.get("/healthz", "").await.status, 200);
    app.get("/v1/accounts", "not-a-token")
        .await
        .assert_problem(401, "unauthenticated");
}

#[actix_web::test]
async fn after_waiting_retry_after_there_is_room_and_t_is_the_next_token() {
    let app = TestApp::spawn_with(&[
        ("BUYERPATH_RATE_LIMIT_USER_PER_MINUTE", "60"),
        ("BUYERPATH_RATE_LIMIT_TENANT_PER_MINUTE", "0"),
    ])
    .await;
    let rep = app.rep("rita");
    let mut limited = None;
    for _ in 0..200 {
        let r = app.get("/v1/accounts", &rep).await;
        if r.status == 429 {
            limited = Some(r);
            break;
        }
        let rl = r.header("ratelimit").unwrap().to_string();
        let t: u64 = rl.rsplit("t=").next().unwrap().parse().unwrap();
        assert!(
            t <= 1,
            "t is when the next token comes (one a second): {rl}"
        );
    }
    let limited = limited.expect("60 a minute runs out within 200 quick requests");
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3).contains(&retry), "{retry}");
    actix_web::rt::time::sleep(std::time::Duration::from_secs(retry)).await;
    let r = app.get("/v1/accounts", &rep).await;
    assert_eq!(r.status, 200);
    let rl = r.header("ratelimit").unwrap();
    let left: u32 = rl
        .split(";r=")
        .nth(1)
        .and_then(|x| x.split(';').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(left >= 1, "room after obeying Retry-After: {rl}");
}

#[actix_web::test]
async fn zero_switches_the_limits_off() {
    let app = TestApp::spawn_with(&[
        ("BUYERPATH_RATE_LIMIT_USER_PER_MINUTE", "0"),
        ("BUYERPATH_RATE_LIMIT_TENANT_PER_MINUTE", "0"),
    ])
    .await;
    let rep = app.rep("rita");
    for _ in 0..20 {
        let r = app.get("/v1/accounts", &rep).await;
        assert_eq!(r.status, 200);
        assert!(r.header("ratelimit").is_none());
    }
}
