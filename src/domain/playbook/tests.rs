//! The built-in playbook, codes, authoring and languages.
use std::collections::HashSet;

use super::*;
use crate::domain::validate::Code;

fn bi() -> &'static Playbook {
    built_in().unwrap()
}

fn item(code: Option<&str>, en: &str) -> ItemInput {
    ItemInput {
        code: code.map(str::to_string),
        zh: None,
        en: Some(en.to_string()),
    }
}

#[test]
fn built_in_playbook_has_the_source_content() {
    let p = bi();
    assert_eq!(p.stages.len(), 6);
    let s1 = p.stage("S1").unwrap();
    assert_eq!(s1.purchase_progress_percent, 10);
    assert_eq!(s1.customer_goals.len(), 3);
    assert_eq!(s1.customer_behaviours.len(), 14);
    assert_eq!(s1.sales_milestones.len(), 4);
    assert_eq!(s1.key_actions.len(), 10);
    assert_eq!(s1.notes[0].code, "S1.N1");
    assert_eq!(p.tools.len(), 14);
    assert_eq!(p.survey_sections.len(), 12);
    assert_eq!(p.contact_roles.it_department.len(), 4);
    let pcts: Vec<u8> = p
        .stages
        .iter()
        .map(|s| s.purchase_progress_percent)
        .collect();
    assert_eq!(pcts, [10, 30, 50, 70, 90, 100]);
    assert!(!p.stage("S2").unwrap().is_authored());
    // Every action serves milestones of its stage and uses known tools.
    let tools: HashSet<&str> = p.tools.iter().map(|t| t.code.as_str()).collect();
    for a in &s1.key_actions {
        assert!(!a.serves.is_empty());
        assert!(a
            .serves
            .iter()
            .all(|m| p.stage_of_item(m, Kind::Milestone).is_some()));
        assert!(a.tools.iter().all(|t| tools.contains(t.as_str())));
    }
}

#[test]
fn codes() {
    assert_eq!(parse_code("S1.B03"), Some(("S1", 'B', 3)));
    assert_eq!(parse_code("S12.A101"), Some(("S12", 'A', 101)));
    assert_eq!(parse_code("S1"), None);
    assert_eq!(make_code("S2", Kind::Milestone, 1), "S2.M1");
    assert_eq!(make_code("S2", Kind::Action, 3), "S2.A03");
    assert!(bi().stage_of_item("S1.B14", Kind::Behaviour).is_some());
    assert!(bi().stage_of_item("S1.B15", Kind::Behaviour).is_none());
    assert!(bi().stage_of_item("S1.M01", Kind::Behaviour).is_none());
}

#[test]
fn authoring_stage_two_assigns_codes_and_sets_percent() {
    let input = StageInput {
        customer_behaviours: vec![
            item(None, "Issues an RFP"),
            item(None, "Forms a project team"),
        ],
        sales_milestones: vec![item(None, "Project team mapped")],
        key_actions: vec![ActionInput {
            code: None,
            zh: Some("拜访项目组".into()),
            en: None,
            serves: vec![],
            tools: vec!["technical_exchange".into()],
        }],
        purchase_progress_percent: Some(25),
        ..Default::default()
    };
    let o = author_stage(bi(), &Overlay::default(), "S2", &input).unwrap();
    let p = apply(bi(), &o);
    let s2 = p.stage("S2").unwrap();
    assert_eq!(s2.codes(Kind::Behaviour), ["S2.B01", "S2.B02"]);
    assert_eq!(s2.codes(Kind::Milestone), ["S2.M1"]);
    assert_eq!(s2.codes(Kind::Action), ["S2.A01"]);
    assert_eq!(s2.purchase_progress_percent, 25);
    assert!(!s2.default);

    // Removing B01 and adding a new one never reuses B01/B02.
    let again = StageInput {
        customer_behaviours: vec![
            item(Some("S2.B02"), "Forms a project team (edited)"),
            item(None, "new"),
        ],
        sales_milestones: vec![item(Some("S2.M1"), "Project team mapped")],
        key_actions: vec![ActionInput {
            code: Some("S2.A01".into()),
            zh: Some("拜访项目组".into()),
            en: Some("Visit the project team".into()),
            serves: vec!["S2.M1".into()],
            tools: vec![],
        }],
        purchase_progress_percent: Some(25),
        ..Default::default()
    };
    let o2 = author_stage(bi(), &o, "S2", &again).unwrap();
    let p2 = apply(bi(), &o2);
    let s2 = p2.stage("S2").unwrap();
    assert_eq!(s2.codes(Kind::Behaviour), ["S2.B02", "S2.B03"]);
    assert_eq!(
        s2.customer_behaviours[0].en.as_deref(),
        Some("Forms a project team (edited)")
    );
    assert_eq!(s2.key_actions[0].serves, ["S2.M1"]);
    let o3 = author_stage(bi(), &o2, "S2", &StageInput::default()).unwrap();
    let o4 = author_stage(
        bi(),
        &o3,
        "S2",
        &StageInput {
            customer_behaviours: vec![item(None, "x")],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        apply(bi(), &o4).stage("S2").unwrap().codes(Kind::Behaviour),
        ["S2.B04"]
    );
}

#[test]
fn stage_one_is_only_added_to() {
    let s1 = bi().stage("S1").unwrap();
    let b01 = &s1.customer_behaviours[0];
    let add = StageInput {
        customer_behaviours: vec![
            ItemInput {
                code: Some("S1.B01".into()),
                zh: b01.zh.clone(),
                en: b01.en.clone(),
            },
            item(None, "Hires a CIO"),
        ],
        ..Default::default()
    };
    let o = author_stage(bi(), &Overlay::default(), "S1", &add).unwrap();
    let p = apply(bi(), &o);
    let codes = p.stage("S1").unwrap().codes(Kind::Behaviour);
    assert_eq!(codes.len(), 15, "built-in items stay even when omitted");
    assert_eq!(codes[14], "S1.B15");

    let edit = StageInput {
        customer_behaviours: vec![item(Some("S1.B01"), "changed")],
        ..Default::default()
    };
    let e = author_stage(bi(), &Overlay::default(), "S1", &edit).unwrap_err();
    assert_eq!(e[0].path, "customer_behaviours[0]");
    let pct = StageInput {
        purchase_progress_percent: Some(15),
        ..Default::default()
    };
    let e = author_stage(bi(), &Overlay::default(), "S1", &pct).unwrap_err();
    assert_eq!(e[0].path, "purchase_progress_percent");
}

#[test]
fn authoring_validation() {
    let bad = StageInput {
        customer_goals: vec![ItemInput {
            code: None,
            zh: None,
            en: Some("  ".into()),
        }],
        sales_milestones: vec![item(Some("S2.M09"), "unknown")],
        key_actions: vec![ActionInput {
            code: None,
            zh: Some("x".into()),
            en: None,
            serves: vec!["S1.M1".into()],
            tools: vec!["hammer".into()],
        }],
        notes: vec![item(Some("S1.N1"), "other stage")],
        ..Default::default()
    };
    let e = author_stage(bi(), &Overlay::default(), "S2", &bad).unwrap_err();
    let fields: Vec<&str> = e.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        fields,
        [
            "customer_goals[0].zh",
            "sales_milestones[0].code",
            "notes[0].code",
            "key_actions[0].serves[0]",
            "key_actions[0].tools[0]"
        ]
    );
    let dup = StageInput {
        customer_behaviours: vec![item(None, "a")],
        ..Default::default()
    };
    let o = author_stage(bi(), &Overlay::default(), "S2", &dup).unwrap();
    let twice = StageInput {
        customer_behaviours: vec![item(Some("S2.B01"), "a"), item(Some("S2.B01"), "b")],
        ..Default::default()
    };
    let e = author_stage(bi(), &o, "S2", &twice).unwrap_err();
    assert_eq!(e[0].path, "customer_behaviours[1].code");
}

#[test]
fn percentages_must_increase() {
    let too_high = StageInput {
        purchase_progress_percent: Some(60),
        ..Default::default()
    };
    let e = author_stage(bi(), &Overlay::default(), "S2", &too_high).unwrap_err();
    assert!(
        matches!(&e[0].code, Code::NotIncreasing { stage, .. } if stage == "S2" || stage == "S3"),
        "{:?}",
        e[0]
    );
    let too_low = StageInput {
        purchase_progress_percent: Some(10),
        ..Default::default()
    };
    assert!(author_stage(bi(), &Overlay::default(), "S2", &too_low).is_err());
    let over = StageInput {
        purchase_progress_percent: Some(101),
        ..Default::default()
    };
    assert!(author_stage(bi(), &Overlay::default(), "S6", &over).is_err());
    let ok = StageInput {
        purchase_progress_percent: Some(45),
        ..Default::default()
    };
    assert!(author_stage(bi(), &Overlay::default(), "S2", &ok).is_ok());
}

#[test]
fn language_selection() {
    assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Some(Lang::En));
    assert_eq!(
        Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
        Some(Lang::Zh)
    );
    assert_eq!(Lang::from_accept_language("fr, en;q=0.5"), Some(Lang::En));
    assert_eq!(
        Lang::from_accept_language("en;q=0.4, zh;q=0.6"),
        Some(Lang::Zh)
    );
    assert_eq!(Lang::from_accept_language("fr"), None);
    assert_eq!(Lang::from_accept_language("en;q=0"), None);
    let l = localize(&Some("中".into()), &None, Lang::En);
    assert_eq!(
        (l.text.as_str(), l.lang, l.fallback),
        ("中", Lang::Zh, true)
    );
    let l = localize(&Some("中".into()), &Some("en".into()), Lang::En);
    assert!(!l.fallback);
}
