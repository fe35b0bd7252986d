//! Moving in from other systems: HubSpot exports, Salesforce tasks and events, forms and
//! declared charsets, the command line, and an export read back.

use serde_json::json;

use crate::common::TestApp;
use crate::imports::{finished, import, report, upload, worker, SF_ACCOUNTS};

async fn export(app: &TestApp, token: &str, resource: &str) -> String {
    let r = app.get(&format!("/v1/exports/{resource}.csv"), token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    r.text
}

#[actix_web::test]
async fn an_export_imports_into_another_tenant_whole_and_into_its_own_as_unchanged() {
    let app = TestApp::spawn().await;
    let _worker = worker();
    let admin = app.admin();
    let acc = app
        .post("/v1/accounts", &admin, json!({"name": "华东电力, 设计院", "tags": ["能源", "a,b"], "region": "华东",
                                              "external_refs": [{"system": "salesforce", "id": "001 X"}]}))
        .await
        .id();
    let boss = app
        .contact(
            &admin,
            &acc,
            json!({"name": "李明", "methodology_role": "it_head", "key_person": true}),
        )
        .await;
    let wang = app
        .contact(
            &admin,
            &acc,
            json!({"name": "王建国", "reports_to": boss, "email": "wang@example.cn"}),
        )
        .await;
    let opp = app
        .post(
            &format!("/v1/accounts/{acc}/opportunities"),
            &admin,
            json!({"name": "网络改造", "estimated_amount": "1200000.50", "currency": "CNY",
                     "competitors": [{"name": "华为", "strengths": "价格"}]}),
        )
        .await
        .id();
    let act = app
        .post(&format!("/v1/accounts/{acc}/activities"), &admin,
              json!({"kind": "visit", "occurred_at": "2026-11-02T10:00:00.123456Z", "subject": "拜访\n信息中心",
                     "opportunity_id": opp, "participants": [wang, boss],
                     "observations": [{"signal": "S1.B03", "evidence": "宕机"}],
                     "next_step": {"text": "技术交流", "due_at": "2026-11-20T00:00:00Z"}}))
        .await;
    assert_eq!(act.status, 201, "{}", act.text);
    let files: Vec<(&str, String)> = vec![
        ("accounts", export(&app, &admin, "accounts").await),
        ("contacts", export(&app, &admin, "contacts").await),
        ("opportunities", export(&app, &admin, "opportunities").await),
        ("activities", export(&app, &admin, "activities").await),
    ];
    assert!(
        files[0].1.starts_with("\u{feff}id,external_refs,name,"),
        "{}",
        files[0].1
    );

    // Into another tenant: everything, linked as before, found by `buyerpath:<id>`.
    let other = app.token_for(
        uuid::Uuid::now_v7(),
        "admin-b",
        &[buyerpath::auth::Role::Admin],
    );
    for (resource, csv) in &files {
        let job = import(
            &app,
            &other,
            &format!("resource={resource}&source=buyerpath"),
            csv,
        )
        .await;
        assert_eq!(
            (job["status"].as_str(), job["failed_rows"].as_i64()),
            (Some("succeeded"), Some(0)),
            "{resource}: {job}"
        );
        assert_eq!(job["ignored_columns"], json!([]), "{resource}");
        let lines = report(&app, &other, &job).await;
        assert!(
            lines.iter().all(|l| l[1] == "created"),
            "{resource}: {lines:?}"
        );
    }
    let b_acc = app
        .get(
            &format!("/v1/accounts?external_ref=buyerpath:{acc}"),
            &other,
        )
        .await;
    let b_acc = &b_acc.json["items"][0];
    assert_eq!(b_acc["name"], "华东电力, 设计院");
    assert_eq!(b_acc["tags"], json!(["能源", "a,b"]));
    assert_eq!(
        b_acc["external_refs"],
        json!([{"system": "buyerpath", "id": acc}, {"system": "salesforce", "id": "001 X"}])
    );
    let b_acc_id = b_acc["id"].as_str().unwrap();
    let people = app
        .get(&format!("/v1/accounts/{b_acc_id}/contacts"), &other)
        .await;
    let items = people.json["items"].as_array().unwrap();
    let b_wang = items.iter().find(|c| c["name"] == "王建国").unwrap();
    let b_boss = items.iter().find(|c| c["name"] == "李明").unwrap();
    assert_eq!(b_wang["reports_to"], b_boss["id"]);
    assert_eq!(
        (
            b_boss["methodology_role"].as_str(),
            b_boss["key_person"].as_bool()
        ),
        (Some("it_head"), Some(true))
    );
    let b_act = app
        .get(&format!("/v1/accounts/{b_acc_id}/activities"), &other)
        .await;
    let b_act = &b_act.json["items"][0];
    assert_eq!(
        b_act["participants"],
        json!([b_wang["id"], b_boss["id"]]),
        "{b_act}"
    );
    assert_eq!(b_act["subject"], "拜访\n信息中心");
    assert_eq!(b_act["occurred_at"], "2026-11-02T10:00:00.123456Z");
    assert_eq!(b_act["observations"], act.json["observations"]);
    assert_eq!(b_act["next_step"], act.json["next_step"]);
    let b_opp = app
        .get(
            &format!(
                "/v1/opportunities/{}",
                b_act["opportunity_id"].as_str().unwrap()
            ),
            &other,
        )
        .await;
    assert_eq!(
        (
            b_opp.json["estimated_amount"].as_str(),
            b_opp.json["competitors"][0]["name"].as_str()
        ),
        (Some("1200000.50"), Some("华为"))
    );

    // Into its own tenant: the export is what is there.
    for (resource, csv) in &files {
        let job = import(
            &app,
            &admin,
            &format!("resource={resource}&source=buyerpath"),
            csv,
        )
        .await;
        assert_eq!(job["unchanged"], job["total_rows"], "{resource}: {job}");
    }
    assert_eq!(
        app.get("/v1/accounts", &admin).await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[actix_web::test]
async fn hubspot_exports_and_salesforce_tasks_and_events_go_in() {
    let app = TestApp::spawn().await;
    let _worker = worker();
    let admin = app.admin();
    let companies = "\u{feff}Record ID,Company name,Company Domain Name,City,Country/Region,Industry,Phone Number\n\
                     9001,星河科技,xinghe.example.cn,杭州,China,COMPUTER_SOFTWARE,+86 571 0000\n";
    let job = import(&app, &admin, "resource=accounts&source=hubspot", companies).await;
    assert_eq!(
        (job["created"].as_i64(), job["ignored_columns"].clone()),
        (Some(1), json!(["Country/Region", "Phone Number"])),
        "{job}"
    );
    let acc = app
        .get("/v1/accounts?external_ref=hubspot:9001", &admin)
        .await;
    let acc = &acc.json["items"][0];
    assert_eq!(
        (acc["website"].as_str(), acc["region"].as_str()),
        (Some("https://xinghe.example.cn"), Some("杭州")),
        "{acc}"
    );
    let contacts =
        "Record ID,First Name,Last Name,Email,Job Title,Phone Number,Associated Company IDs\n\
                    7001,Mei,Chen,chen@xinghe.example.cn,CIO,,9001\n\
                    7002,Lei,Zhang,,,,9001;9999\n";
    let job = import(&app, &admin, "resource=contacts&source=hubspot", contacts).await;
    assert_eq!(job["created"], 2, "{job}");
    let deals =
        "Record ID,Deal Name,Deal Stage,Pipeline,Amount,Close Date,Associated Company IDs\n\
                 5001,数据中心,appointmentscheduled,default,\"88,000\",2027-01-15 00:00,9001\n";
    app.patch(
        "/v1/settings",
        &admin,
        json!({"stage_mappings": {"hubspot": {"appointmentscheduled": "S1"}}}),
        None,
    )
    .await;
    let job = import(
        &app,
        &admin,
        "resource=opportunities&source=hubspot&currency=USD",
        deals,
    )
    .await;
    assert_eq!(job["created"], 1, "{job}");
    let deal = app
        .get("/v1/opportunities?external_ref=hubspot:5001", &admin)
        .await;
    assert_eq!(
        (
            deal.json["items"][0]["estimated_amount"].as_str(),
            deal.json["items"][0]["currency"].as_str()
        ),
        (Some("88000.00"), Some("USD"))
    );

    // Salesforce tasks and events: WhoId a contact, WhatId an opportunity or an account.
    import(
        &app,
        &admin,
        "resource=accounts&source=salesforce",
        SF_ACCOUNTS,
    )
    .await;
    import(
        &app,
        &admin,
        "resource=contacts&source=salesforce",
        "Id,AccountId,LastName\n003A,0015g00000AAA01,王\n",
    )
    .await;
    import(
        &app,
        &admin,
        "resource=opportunities&source=salesforce",
        "Id,AccountId,Name,StageName\n006A,0015g00000AAA01,改造,S2\n",
    )
    .await;
    let tasks = "Id,WhoId,WhatId,Subject,ActivityDate,StartDateTime,DurationInMinutes,Description,TaskSubtype\n\
                 00T1,003A,006A,电话沟通,2026-11-03,,15,聊了预算,Call\n\
                 00U1,003A,0015g00000AAA01,现场拜访,,2026-11-04T02:00:00.000+0000,90,,Event\n\
                 00T2,,,无主,2026-11-05,,,,Task\n";
    let job = import(&app, &admin, "resource=activities&source=salesforce", tasks).await;
    assert_eq!(
        (job["created"].as_i64(), job["failed_rows"].as_i64()),
        (Some(2), Some(1)),
        "{job}"
    );
    let call = app
        .get("/v1/opportunities?external_ref=salesforce:006A", &admin)
        .await;
    let opp_id = call.json["items"][0]["id"].as_str().unwrap().to_string();
    let account = call.json["items"][0]["account_id"]
        .as_str()
        .unwrap()
        .to_string();
    let acts = app
        .get(&format!("/v1/accounts/{account}/activities"), &admin)
        .await;
    let items = acts.json["items"].as_array().unwrap();
    let call = items.iter().find(|a| a["subject"] == "电话沟通").unwrap();
    assert_eq!(
        (
            call["kind"].as_str(),
            call["opportunity_id"].as_str(),
            call["duration_minutes"].as_i64()
        ),
        (Some("call"), Some(opp_id.as_str()), Some(15))
    );
    assert_eq!(call["participants"].as_array().unwrap().len(), 1);
    let visit = items.iter().find(|a| a["subject"] == "现场拜访").unwrap();
    assert_eq!(
        (visit["kind"].as_str(), visit["occurred_at"].as_str()),
        (Some("meeting"), Some("2026-11-04T02:00:00Z"))
    );
    let lines = report(&app, &admin, &job).await;
    assert!(
        lines[2][4].starts_with("WhatId: required"),
        "{:?}",
        lines[2]
    );
}

#[actix_web::test]
async fn the_command_line_imports_a_file_and_writes_its_report_beside_it() {
    let app = TestApp::spawn().await;
    let _worker = worker();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("accounts.csv");
    std::fs::write(&file, SF_ACCOUNTS).unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, app.manager()).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_buyerpath"))
        .args(["import", "--url", &app.base, "--token-file"])
        .arg(&token)
        .args(["--resource", "accounts", "--source", "salesforce"])
        .arg(&file)
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("succeeded: 2 created, 0 updated, 0 unchanged, 1 failed"),
        "{stdout}"
    );
    assert!(
        stderr.contains("3/3 rows"),
        "plain progress lines when not a terminal: {stderr}"
    );
    let report = std::fs::read_to_string(dir.path().join("accounts.report.csv")).unwrap();
    assert_eq!(
        report.trim_start_matches('\u{feff}').lines().count(),
        4,
        "{report}"
    );

    let exported = dir.path().join("out.csv");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_buyerpath"))
        .args(["export", "--url", &app.base, "--token-file"])
        .arg(&token)
        .args(["--resource", "accounts", "--out"])
        .arg(&exported)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(&exported).unwrap();
    assert!(
        csv.contains("华东电力设计院") && csv.contains("0015g00000AAA01"),
        "{csv}"
    );

    // A refused upload says why and fails.
    std::fs::write(&file, "Name\nx\n").unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_buyerpath"))
        .args(["import", "--url", &app.base, "--token-file"])
        .arg(&token)
        .args(["--resource", "accounts", "--source", "salesforce"])
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("422"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[actix_web::test]
async fn forms_declared_charsets_kind_mappings_and_the_row_limit() {
    let app = TestApp::spawn().await;
    let _worker = worker();
    let admin = app.admin();
    // A form's file part, GB18030 declared by its content type (bytes that are also valid
    // Latin-1, so only the declaration tells).
    let (bytes, _, _) = encoding_rs::GB18030.encode("Id,Name\n0015g00000FORM1,华东电力\n");
    let part = reqwest::multipart::Part::bytes(bytes.to_vec())
        .file_name("accounts.csv")
        .mime_str("text/csv; charset=GB18030")
        .unwrap();
    let form = reqwest::multipart::Form::new().part("file", part);
    let r = app
        .send(
            app.client
                .post(app.url("/v1/imports?resource=accounts&source=salesforce"))
                .bearer_auth(&admin)
                .multipart(form),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let job = finished(&app, &admin, r.header("location").unwrap()).await;
    assert_eq!(job["created"], 1, "{job}");
    let acc = app
        .get(
            "/v1/accounts?external_ref=salesforce:0015g00000FORM1",
            &admin,
        )
        .await;
    assert_eq!(acc.json["items"][0]["name"], "华东电力");

    // A tenant's activity types: Salesforce's "Meeting" is a visit here.
    let s = app
        .patch(
            "/v1/settings",
            &admin,
            json!({"activity_kind_mappings": {"salesforce": {"Meeting": "visit"}}}),
            None,
        )
        .await;
    assert_eq!(
        s.json["activity_kind_mappings"],
        json!({"salesforce": {"Meeting": "visit"}}),
        "{}",
        s.text
    );
    let bad = app
        .patch(
            "/v1/settings",
            &admin,
            json!({"activity_kind_mappings": {"salesforce": {"Meeting": "lunch"}}}),
            None,
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    let tasks =
        "Id,WhatId,Subject,ActivityDate,Type\n00TFORM1,0015g00000FORM1,见面,2026-11-06,Meeting\n";
    let job = import(&app, &admin, "resource=activities&source=salesforce", tasks).await;
    assert_eq!(job["created"], 1, "{job}");
    let id = acc.json["items"][0]["id"].as_str().unwrap();
    let acts = app
        .get(&format!("/v1/accounts/{id}/activities"), &admin)
        .await;
    assert_eq!(acts.json["items"][0]["kind"], "visit", "{}", acts.text);

    // More than 200,000 rows is refused before anything is queued.
    let mut big = String::from("Id,Name\n");
    for i in 0..200_001 {
        big.push_str(&format!("{i},n\n"));
    }
    let r = upload(
        &app,
        &admin,
        "resource=accounts&source=salesforce",
        "text/csv",
        big.into_bytes(),
    )
    .await;
    assert_eq!(r.error_fields(), ["file"]);
    assert_eq!(r.json["errors"][0]["code"], "too_many");
    let list = app.get("/v1/imports", &admin).await;
    assert_eq!(
        list.json["items"].as_array().unwrap().len(),
        2,
        "the refused file left no job"
    );
}
