//! Cheaper bytes on the wire: `If-None-Match` → 304 with ETags that name the representation
//! sent, and compression negotiated by `Accept-Encoding` for bodies over 1 KiB.

use std::io::Read;

use serde_json::json;

use crate::common::{Resp, TestApp};
use crate::opportunities::opportunity;

async fn get_if_none_match(app: &TestApp, path: &str, token: &str, tag: &str) -> Resp {
    app.send(
        app.client
            .get(app.url(path))
            .bearer_auth(token)
            .header("if-none-match", tag),
    )
    .await
}

/// Every `Vary` field, joined.
fn vary(r: &Resp) -> String {
    r.headers
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect::<Vec<_>>()
        .join(", ")
}

fn etag(r: &Resp) -> String {
    r.header("etag").expect("etag").to_string()
}

#[actix_web::test]
async fn if_none_match_answers_304_while_current() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Customer").await;
    let path = format!("/v1/accounts/{acc}");
    let first = app.get(&path, &admin).await;
    assert_eq!(etag(&first), "\"1\"");

    for tag in ["\"1\"", "W/\"1\"", "\"9\", \"1\"", "*"] {
        let r = get_if_none_match(&app, &path, &admin, tag).await;
        assert_eq!(r.status, 304, "{tag}: {}", r.text);
        assert_eq!(r.text, "", "a 304 has no body");
        assert_eq!(r.header("etag"), Some("\"1\""));
        assert_eq!(r.header("cache-control"), Some("no-cache"));
        assert!(r.header("content-type").is_none());
    }
    // Not ours, stale, or malformed: the full body.
    for tag in ["\"2\"", "1", "\"1", "W/1"] {
        let r = get_if_none_match(&app, &path, &admin, tag).await;
        assert_eq!(r.status, 200, "{tag}");
        assert_eq!(r.json["id"], acc);
    }

    let p = app
        .patch(&path, &admin, json!({"region": "华北"}), Some("\"1\""))
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    let r = get_if_none_match(&app, &path, &admin, "\"1\"").await;
    assert_eq!(r.status, 200, "changed since");
    assert_eq!(r.json["region"], "华北");
    assert_eq!(etag(&r), "\"2\"");

    // Errors stay errors; writes ignore If-None-Match.
    let missing = format!("/v1/accounts/{}", uuid::Uuid::now_v7());
    get_if_none_match(&app, &missing, &admin, "*")
        .await
        .assert_problem(404, "not_found");
    let r = app
        .send(
            app.client
                .post(app.url("/v1/accounts"))
                .bearer_auth(&admin)
                .header("if-none-match", "*")
                .json(&json!({"name": "Other"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[actix_web::test]
async fn playbook_languages_have_their_own_etags() {
    let app = TestApp::spawn().await;
    let viewer = app.viewer();
    let zh = app.get("/v1/playbook?lang=zh", &viewer).await;
    let en = app.get("/v1/playbook?lang=en", &viewer).await;
    let (zh_tag, en_tag) = (etag(&zh), etag(&en));
    assert!(zh_tag.starts_with("\"1-"), "{zh_tag}");
    assert!(en_tag.starts_with("\"1-"), "{en_tag}");
    assert_ne!(zh_tag, en_tag, "two bodies, two tags");
    assert_eq!(vary(&zh), "Accept-Language, accept-encoding");

    let r = get_if_none_match(&app, "/v1/playbook?lang=en", &viewer, &zh_tag).await;
    assert_eq!(r.status, 200, "the zh tag does not validate the en body");
    assert_eq!(r.json["lang"], "en");
    let r = get_if_none_match(&app, "/v1/playbook?lang=en", &viewer, &en_tag).await;
    assert_eq!(r.status, 304);
    assert_eq!(vary(&r), "Accept-Language, accept-encoding");
    // The same body asked by header gets the same tag.
    let by_header = app
        .send(
            app.client
                .get(app.url("/v1/playbook"))
                .bearer_auth(&viewer)
                .header("accept-language", "en-US,en;q=0.9"),
        )
        .await;
    assert_eq!(etag(&by_header), en_tag);
}

#[actix_web::test]
async fn computed_fields_change_the_etag_and_if_match_still_names_the_version() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "Customer").await;
    let opp = opportunity(&app, &admin, &acc, json!({"name": "Network"})).await;
    let path = format!("/v1/opportunities/{opp}");
    let before = app.get(&path, &admin).await;
    let old = etag(&before);
    assert!(old.starts_with("\"1-"), "{old}");
    assert!(before.json["latest_survey"].is_null());

    // A survey of the account changes latest_survey, not the opportunity's version.
    let s = app
        .post(
            &format!("/v1/accounts/{acc}/survey-records"),
            &admin,
            json!({"surveyed_at": "2026-11-20T09:30:00Z", "surveyor": "李工", "sections": {}}),
        )
        .await;
    assert_eq!(s.status, 201, "{}", s.text);
    let r = get_if_none_match(&app, &path, &admin, &old).await;
    assert_eq!(r.status, 200, "a changed body is never 304");
    assert_eq!(r.json["version"], 1);
    assert!(r.json["latest_survey"].is_object(), "{}", r.text);
    let new = etag(&r);
    assert!(new.starts_with("\"1-") && new != old, "{new} vs {old}");
    assert_eq!(
        get_if_none_match(&app, &path, &admin, &new).await.status,
        304
    );

    // If-Match compares the version: both tags of version 1 (and the bare number) name it.
    let p = app
        .patch(&path, &admin, json!({"name": "Network 2"}), Some(&old))
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    let p = app
        .patch(&path, &admin, json!({"name": "Network 3"}), Some(&new))
        .await;
    p.assert_problem(412, "precondition_failed");
    // The 412 names the version now, as a header If-Match takes and in the body.
    assert_eq!(etag(&p), "\"2\"");
    assert_eq!(p.json["current_version"], 2);
    let retried = app
        .patch(&path, &admin, json!({"name": "Network 3"}), Some(&etag(&p)))
        .await;
    assert_eq!(retried.status, 200, "{}", retried.text);
    let bad = app
        .patch(&path, &admin, json!({"name": "x"}), Some("\"3-zz\""))
        .await;
    bad.assert_problem(412, "precondition_failed");

    // A contact's activity figures come from activities.
    let c = app
        .contact(&admin, &acc, json!({"name": "王建国", "department": "it"}))
        .await;
    let cpath = format!("/v1/accounts/{acc}/contacts/{c}");
    let c_old = etag(&app.get(&cpath, &admin).await);
    let a = app
        .post(
            &format!("/v1/accounts/{acc}/activities"),
            &admin,
            json!({"kind": "call", "occurred_at": "2026-11-20T02:00:00Z", "subject": "电话",
                   "participants": [c]}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    let r = get_if_none_match(&app, &cpath, &admin, &c_old).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["activity_count"], 1);
    assert_ne!(etag(&r), c_old);
}

async fn raw(
    app: &TestApp,
    path: &str,
    token: &str,
    accept: Option<&str>,
) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = app.client.get(app.url(path)).bearer_auth(token);
    if let Some(a) = accept {
        req = req.header("accept-encoding", a);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    (headers, res.bytes().await.unwrap().to_vec())
}

#[actix_web::test]
async fn large_bodies_are_compressed_as_negotiated() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    for i in 0..30 {
        app.account(&admin, &format!("Customer {i}")).await;
    }
    let list = "/v1/accounts?limit=30";
    let (h, plain) = raw(&app, list, &admin, None).await;
    assert!(h.get("content-encoding").is_none());
    assert!(plain.len() > 1024, "{} bytes", plain.len());
    let expected: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(h.get("vary").unwrap(), "accept-encoding");

    let (h, gz) = raw(&app, list, &admin, Some("gzip")).await;
    assert_eq!(h.get("content-encoding").unwrap(), "gzip");
    assert!(
        gz.len() < plain.len() / 2,
        "{} of {}",
        gz.len(),
        plain.len()
    );
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut out)
        .unwrap();
    let got: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(got, expected);

    let (h, br) = raw(&app, list, &admin, Some("gzip;q=0.5, br")).await;
    assert_eq!(h.get("content-encoding").unwrap(), "br");
    let mut out = Vec::new();
    brotli::Decompressor::new(&br[..], 4096)
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out).unwrap(),
        expected
    );

    // Nothing we offer, or identity only: the body as it is (never 406).
    for accept in ["compress", "identity", "gzip;q=0"] {
        let (h, body) = raw(&app, list, &admin, Some(accept)).await;
        assert!(h.get("content-encoding").is_none(), "{accept}");
        assert_eq!(body, plain, "{accept}");
    }

    // A small body is sent as it is.
    let acc = app.account(&admin, "Small").await;
    let (h, body) = raw(&app, &format!("/v1/accounts/{acc}"), &admin, Some("gzip")).await;
    assert!(h.get("content-encoding").is_none());
    assert!(body.len() < 1024);
    assert_eq!(h.get("vary").unwrap(), "accept-encoding");

    // A 304 stays empty whatever the client accepts.
    let tag = h.get("etag").unwrap().to_str().unwrap().to_string();
    let r = app
        .client
        .get(app.url(&format!("/v1/accounts/{acc}")))
        .bearer_auth(&admin)
        .header("accept-encoding", "gzip")
        .header("if-none-match", tag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    assert!(r.headers().get("content-encoding").is_none());
}
