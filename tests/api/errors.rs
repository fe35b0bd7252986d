//! One error shape a form can show: a table of bad requests, each answered with `errors[]`
//! naming field, location and code, with a message in the request's language (zh by default,
//! `lang`, then `Accept-Language`), and no library wording.

use serde_json::{json, Value};

use crate::common::{Resp, TestApp};

/// Words of serde, uuid, chrono and actix that must never reach a client.
const LIBRARY_WORDING: &[&str] = &[
    "unknown variant",
    "invalid type",
    "UUID parsing failed",
    "input contains invalid characters",
    "expected one of",
    "missing field",
    "invalid digit",
    "`",
];

/// One bad request: what to send, the status, and the `(field, in, code)`s it must name.
struct Case {
    what: &'static str,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Option<String>,
    status: u16,
    errors: Vec<(&'static str, &'static str, &'static str)>,
}

fn case(
    what: &'static str,
    method: &'static str,
    path: String,
    body: Option<Value>,
    status: u16,
    errors: Vec<(&'static str, &'static str, &'static str)>,
) -> Case {
    Case {
        what,
        method,
        path,
        headers: Vec::new(),
        body: body.map(|b| b.to_string()),
        status,
        errors,
    }
}

async fn send(app: &TestApp, token: &str, c: &Case, lang: Option<&str>) -> Resp {
    let method = reqwest::Method::from_bytes(c.method.as_bytes()).unwrap();
    let mut req = app.client.request(method, app.url(&c.path));
    if !c.headers.iter().any(|(h, _)| *h == "authorization") {
        req = req.bearer_auth(token);
    }
    for (h, v) in &c.headers {
        req = req.header(*h, v);
    }
    if let Some(b) = &c.body {
        if !c.headers.iter().any(|(h, _)| *h == "content-type") {
            let ct = if c.method == "PATCH" {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            req = req.header("content-type", ct);
        }
        req = req.body(b.clone());
    }
    if let Some(l) = lang {
        req = req.header("accept-language", l);
    }
    app.send(req).await
}

fn named(r: &Resp) -> Vec<(String, String, String)> {
    r.json["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors[] in {}", r.text))
        .iter()
        .map(|e| {
            let s = |m: &str| e[m].as_str().unwrap_or_default().to_string();
            (s("field"), s("in"), s("code"))
        })
        .collect()
}

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[actix_web::test]
async fn every_bad_request_names_what_is_wrong_in_both_languages() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let acc = app.account(&admin, "华东电力设计院").await;
    let contacts = format!("/v1/accounts/{acc}/contacts");
    let r = app.post(&contacts, &admin, json!({"name": "王建国"})).await;
    let contact = r.id();
    let etag = r.header("etag").unwrap().to_string();
    // Move it on so that the first ETag is stale.
    let moved = app
        .patch(
            &format!("{contacts}/{contact}"),
            &admin,
            json!({"title": "CIO"}),
            None,
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);

    let mut cases = vec![
        case(
            "the issue's form: an unknown attitude hid three more mistakes",
            "POST",
            contacts.clone(),
            Some(
                json!({"name": "  ", "attitude": "friendly", "email": "nobody",
                        "department": 7}),
            ),
            422,
            vec![
                ("/attitude", "body", "unknown_value"),
                ("/department", "body", "invalid_type"),
                ("/email", "body", "invalid_format"),
                ("/name", "body", "required"),
            ],
        ),
        case(
            "types, lengths, unknown members at once",
            "POST",
            "/v1/accounts".into(),
            Some(json!({"name": "x".repeat(201), "tags": "hot", "size_band": "huge", "colour": 1})),
            422,
            vec![
                ("/colour", "body", "unknown_field"),
                ("/name", "body", "too_long"),
                ("/size_band", "body", "unknown_value"),
                ("/tags", "body", "invalid_type"),
            ],
        ),
        case(
            "a missing member",
            "POST",
            "/v1/accounts".into(),
            Some(json!({})),
            422,
            vec![("/name", "body", "required")],
        ),
        case(
            "a member that cannot be removed",
            "PATCH",
            format!("/v1/accounts/{acc}"),
            Some(json!({"name": null})),
            422,
            vec![("/name", "body", "required")],
        ),
        case(
            "a reference to another account's contact",
            "POST",
            contacts.clone(),
            Some(json!({"name": "李四", "reports_to": uuid::Uuid::now_v7()})),
            422,
            vec![("/reports_to", "body", "not_in_account")],
        ),
        case(
            "a path id that is not a UUID",
            "GET",
            "/v1/accounts/abc".into(),
            None,
            400,
            vec![("account_id", "path", "invalid_format")],
        ),
        case(
            "query parameters that do not parse, and one out of range",
            "GET",
            "/v1/accounts?limit=0&include_archived=maybe&updated_since=yesterday&colour=red".into(),
            None,
            400,
            vec![
                ("limit", "query", "out_of_range"),
                ("include_archived", "query", "invalid_format"),
                ("updated_since", "query", "invalid_format"),
                ("colour", "query", "unknown_field"),
            ],
        ),
        case(
            "a page size out of range",
            "GET",
            "/v1/accounts?limit=500".into(),
            None,
            422,
            vec![("limit", "query", "out_of_range")],
        ),
        case(
            "an unknown enumeration value in the query",
            "GET",
            "/v1/inventory?category=robot".into(),
            None,
            422,
            vec![("category", "query", "unknown_value")],
        ),
        case(
            "a stage that does not exist",
            "GET",
            "/v1/opportunities?stage=S9".into(),
            None,
            422,
            vec![("stage", "query", "unknown_value")],
        ),
        case(
            "a cursor this API did not write",
            "GET",
            "/v1/accounts?cursor=bogus".into(),
            None,
            422,
            vec![("cursor", "query", "invalid_format")],
        ),
        case(
            "JSON that does not parse",
            "POST",
            "/v1/accounts".into(),
            None,
            400,
            vec![("", "body", "invalid_format")],
        ),
        case(
            "a body that is not an object",
            "POST",
            "/v1/accounts".into(),
            Some(json!([1])),
            422,
            vec![("", "body", "invalid_type")],
        ),
    ];
    cases[11].body = Some("{\"name\": ".into());
    let mut more = vec![
        Case {
            what: "not JSON at all",
            method: "POST",
            path: "/v1/accounts".into(),
            headers: vec![("content-type", "text/plain".into())],
            body: Some("name=x".into()),
            status: 415,
            errors: vec![("Content-Type", "header", "unsupported_type")],
        },
        Case {
            what: "no token",
            method: "GET",
            path: "/v1/accounts".into(),
            headers: vec![("authorization", String::new())],
            body: None,
            status: 401,
            errors: vec![("Authorization", "header", "invalid_format")],
        },
        Case {
            what: "a token that is not one",
            method: "GET",
            path: "/v1/accounts".into(),
            headers: vec![("authorization", "Bearer not.a.token".into())],
            body: None,
            status: 401,
            errors: vec![("Authorization", "header", "invalid_token")],
        },
        Case {
            what: "an If-Match that is not an entity tag",
            method: "PATCH",
            path: format!("{contacts}/{contact}"),
            headers: vec![("if-match", "W/\"2\" garbage".into())],
            body: Some(json!({"title": "CTO"}).to_string()),
            status: 400,
            errors: vec![("If-Match", "header", "invalid_format")],
        },
        Case {
            what: "a stale If-Match",
            method: "PATCH",
            path: format!("{contacts}/{contact}"),
            headers: vec![("if-match", etag.clone())],
            body: Some(json!({"title": "CTO"}).to_string()),
            status: 412,
            errors: vec![("If-Match", "header", "stale")],
        },
        Case {
            what: "an Idempotency-Key that is not one",
            method: "POST",
            path: "/v1/accounts".into(),
            headers: vec![("idempotency-key", "has space".into())],
            body: Some(json!({"name": "x"}).to_string()),
            status: 400,
            errors: vec![("Idempotency-Key", "header", "invalid_format")],
        },
    ];
    cases.append(&mut more);

    for c in &cases {
        let zh = send(&app, &admin, c, None).await;
        assert_eq!(zh.status, c.status, "{}: {}", c.what, zh.text);
        let expected: Vec<(String, String, String)> = c
            .errors
            .iter()
            .map(|(f, i, k)| (f.to_string(), i.to_string(), k.to_string()))
            .collect();
        assert_eq!(named(&zh), expected, "{}: {}", c.what, zh.text);
        let en = send(&app, &admin, c, Some("en-GB,en;q=0.9")).await;
        assert_eq!(named(&en), expected, "{}", c.what);
        for (i, _) in c.errors.iter().enumerate() {
            let zm = zh.json["errors"][i]["message"].as_str().unwrap();
            let em = en.json["errors"][i]["message"].as_str().unwrap();
            assert!(has_cjk(zm), "{}: zh message {zm:?}", c.what);
            assert!(
                !has_cjk(em) && !em.is_empty(),
                "{}: en message {em:?}",
                c.what
            );
        }
        assert!(has_cjk(zh.json["title"].as_str().unwrap()), "{}", c.what);
        assert!(!has_cjk(en.json["title"].as_str().unwrap()), "{}", c.what);
        assert!(!has_cjk(en.json["detail"].as_str().unwrap()), "{}", c.what);
        for words in LIBRARY_WORDING {
            assert!(
                !zh.text.contains(words),
                "{}: {words:?} in {}",
                c.what,
                zh.text
            );
            assert!(
                !en.text.contains(words),
                "{}: {words:?} in {}",
                c.what,
                en.text
            );
        }
    }

    // `lang` wins over Accept-Language.
    let r = app
        .send(
            app.client
                .post(app.url("/v1/accounts?lang=en"))
                .bearer_auth(&admin)
                .header("accept-language", "zh-CN")
                .json(&json!({})),
        )
        .await;
    assert_eq!(
        r.json["errors"][0]["message"],
        "is required and must not be blank or removed"
    );
    assert_eq!(r.json["title"], "Validation failed");

    // Every operation takes `lang`, lists too.
    let r = app.get("/v1/accounts?lang=en&limit=0", &admin).await;
    assert_eq!(r.json["errors"][0]["field"], "limit", "{}", r.text);
    assert_eq!(r.json["errors"][0]["message"], "must be from 1 to 200");
    let r = app.get("/v1/event-types?lang=fr", &admin).await;
    assert_eq!(
        r.error_fields(),
        ["lang"],
        "a handler that reads no query refuses it too"
    );
    let r = app.get("/v1/accounts/abc?lang=en", &admin).await;

    assert_eq!(r.json["title"], "Bad request", "{}", r.text);

    // Nothing of the refused writes was stored.
    let list = app
        .get(&format!("{contacts}?include_archived=true"), &admin)
        .await;
    assert_eq!(
        list.json["items"].as_array().unwrap().len(),
        1,
        "{}",
        list.text
    );
}

#[actix_web::test]
async fn the_document_lists_the_codes_and_locations() {
    let app = TestApp::spawn().await;
    let doc = app.get("/openapi.json", &app.viewer()).await.json;
    let field_error = &doc["components"]["schemas"]["FieldError"];
    let code = &field_error["properties"]["code"];
    let name = code["$ref"]
        .as_str()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let codes = &doc["components"]["schemas"][name]["enum"];
    for code in [
        "required",
        "too_long",
        "invalid_format",
        "unknown_value",
        "out_of_range",
        "not_in_account",
        "unknown_code",
        "invalid_type",
        "unknown_field",
    ] {
        assert!(
            codes.as_array().unwrap().iter().any(|c| c == code),
            "{code} not listed"
        );
    }
    assert!(
        field_error["required"].as_array().unwrap().len() >= 4,
        "{field_error}"
    );
}
