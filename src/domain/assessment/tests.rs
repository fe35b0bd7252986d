//! The engine, rule by rule.
use super::*;
use crate::domain::org_chart::{
    coverage, Attitude, Department, MethodologyRole, Person, Relationship,
};
use crate::domain::playbook::{apply, author_stage, built_in, ItemInput, Overlay, StageInput};
use crate::domain::validate::Code;
use uuid::Uuid;

pub(super) fn pb() -> Playbook {
    built_in().unwrap().clone()
}

fn contact(n: u128) -> Source {
    Source {
        kind: SourceKind::Contact,
        contact_id: Some(Uuid::from_u128(n)),
        reference: None,
        note: None,
    }
}

fn src(kind: SourceKind) -> Source {
    Source {
        kind,
        contact_id: None,
        reference: Some("ref".into()),
        note: None,
    }
}

fn observed(code: &str, sources: Vec<Source>) -> ObservedBehaviour {
    ObservedBehaviour {
        code: code.into(),
        evidence: Some("seen".into()),
        sources,
    }
}

fn claim(code: &str, status: ClaimStatus, sources: Vec<Source>) -> MilestoneClaim {
    MilestoneClaim {
        code: code.into(),
        status,
        evidence: None,
        sources,
    }
}

pub(super) fn person(
    n: u128,
    dept: Department,
    role: Option<MethodologyRole>,
    att: Attitude,
    rel: Relationship,
    key: bool,
) -> Person {
    Person {
        id: Uuid::from_u128(n),
        name: format!("P{n}"),
        title: None,
        department: dept,
        methodology_role: role,
        reports_to: None,
        attitude: att,
        relationship: rel,
        influence: None,
        key_person: key,
        last_contacted_at: None,
    }
}

pub(super) fn empty_facts() -> Facts {
    Facts {
        org: coverage(&[]),
        survey: SurveyFact::NotTracked,
        stale_days: None,
    }
}

/// An IT head met already (the S1.A03 order kept) and a senior leader.
pub(super) fn good_facts() -> Facts {
    let mut head = person(
        1,
        Department::It,
        Some(MethodologyRole::ItHead),
        Attitude::Supporter,
        Relationship::Trusted,
        true,
    );
    head.last_contacted_at = Some(chrono::Utc::now());
    Facts {
        org: coverage(&[
            head,
            person(
                2,
                Department::SeniorLeadership,
                None,
                Attitude::Neutral,
                Relationship::Established,
                false,
            ),
        ]),
        survey: SurveyFact::NotTracked,
        stale_days: None,
    }
}

pub(super) fn run(
    p: &Playbook,
    current: &str,
    input: &AssessmentInput,
    facts: &Facts,
) -> Judgement {
    let cur = p.stage(current).unwrap();
    validate(p, cur, input).unwrap();
    judge(p, cur, input, facts, Lang::En)
}

#[test]
fn verification_rule() {
    assert_eq!(verification(&[]), Verification::Unsupported);
    assert_eq!(verification(&[contact(1)]), Verification::SingleSource);
    assert_eq!(
        verification(&[contact(1), contact(1)]),
        Verification::SingleSource,
        "same contact twice"
    );
    assert_eq!(
        verification(&[contact(1), contact(2)]),
        Verification::Verified,
        "two contacts"
    );
    assert_eq!(
        verification(&[contact(1), src(SourceKind::Email)]),
        Verification::Verified,
        "two kinds"
    );
    assert_eq!(
        verification(&[src(SourceKind::Email), src(SourceKind::Email)]),
        Verification::SingleSource
    );
    assert_eq!(
        verification(&[src(SourceKind::Meeting), src(SourceKind::Document)]),
        Verification::Verified
    );
}

#[test]
fn no_signals_keep_the_current_stage() {
    let p = pb();
    let j = run(&p, "S1", &AssessmentInput::default(), &empty_facts());
    assert_eq!(j.stage.code, "S1");
    assert_eq!(j.purchase_progress_percent, 10);
    assert_eq!(j.milestones.len(), 4);
    assert!(j.milestones.iter().all(
        |m| m.status == ClaimStatus::NotStarted && m.verification == Verification::Unsupported
    ));
    assert_eq!(j.milestone_completion_percent, 0);
    assert!(!j.ready_to_advance);
    assert_eq!(j.blocking_reasons.len(), 4);
    assert!(j.stage_change.is_none());
    // Every S1 action serves an open milestone; A06 serves two, so it leads the list with A10.
    assert_eq!(j.recommended_actions.len(), 10);
    assert_eq!(j.recommended_actions[0].code, "S1.A06");
    assert_eq!(j.recommended_actions[1].code, "S1.A10");
}

#[test]
fn evidence_stage_is_the_highest_observed() {
    let mut p = pb();
    let overlay = author_stage(
        &p,
        &Overlay::default(),
        "S2",
        &StageInput {
            customer_behaviours: vec![ItemInput {
                code: None,
                zh: Some("发布招标".into()),
                en: None,
            }],
            sales_milestones: vec![ItemInput {
                code: None,
                zh: None,
                en: Some("Shortlist".into()),
            }],
            purchase_progress_percent: Some(35),
            ..Default::default()
        },
    )
    .unwrap();
    p = apply(&p, &overlay);
    let input = AssessmentInput {
        observed_behaviours: vec![
            observed("S1.B01", vec![contact(1)]),
            observed("S2.B01", vec![contact(1), contact(2)]),
        ],
        ..Default::default()
    };
    let j = run(&p, "S1", &input, &empty_facts());
    assert_eq!(j.stage.code, "S2");
    assert_eq!(j.stage.order, 2);
    assert_eq!(j.purchase_progress_percent, 35);
    assert_eq!(j.observed_behaviours[0].stage, "S1");
    assert_eq!(
        j.observed_behaviours[0].verification,
        Verification::SingleSource
    );
    assert_eq!(
        j.observed_behaviours[1].verification,
        Verification::Verified
    );
    assert_eq!(j.milestones.len(), 1);
    assert_eq!(j.milestones[0].code, "S2.M1");
    let change = j.stage_change.unwrap();
    assert_eq!(
        (
            change.from.as_str(),
            change.to.as_str(),
            change.direction.as_str()
        ),
        ("S1", "S2", "forward")
    );
    assert!(j
        .risks
        .iter()
        .any(|r| r.code == RiskCode::SellerBehindCustomer));
    // Backward.
    let back = AssessmentInput {
        observed_behaviours: vec![observed("S1.B02", vec![])],
        ..Default::default()
    };
    let j = run(&p, "S2", &back, &empty_facts());
    assert_eq!(j.stage_change.unwrap().direction, Direction::Backward);
}

#[test]
fn s1_m1_data_check_uses_the_org_chart() {
    let p = pb();
    let input = AssessmentInput {
        milestones: vec![claim(
            "S1.M1",
            ClaimStatus::Achieved,
            vec![contact(1), contact(2)],
        )],
        ..Default::default()
    };
    let j = run(&p, "S1", &input, &empty_facts());
    let m1 = &j.milestones[0];
    assert_eq!(m1.data_check, DataCheck::Contradicted);
    assert!(m1.data_check_detail.as_ref().unwrap().contains("IT head"));
    assert_eq!(
        j.milestone_completion_percent, 0,
        "contradicted does not count"
    );
    let j = run(&p, "S1", &input, &good_facts());
    assert_eq!(j.milestones[0].data_check, DataCheck::Consistent);
    assert_eq!(j.milestones[0].verification, Verification::Verified);
    assert_eq!(j.milestone_completion_percent, 25);
    // Not claimed: the data agrees with "in progress".
    let input = AssessmentInput {
        milestones: vec![claim("S1.M1", ClaimStatus::InProgress, vec![])],
        ..Default::default()
    };
    assert_eq!(
        run(&p, "S1", &input, &empty_facts()).milestones[0].data_check,
        DataCheck::Consistent
    );
    // Milestones without a data rule.
    assert_eq!(
        run(&p, "S1", &input, &empty_facts()).milestones[2].data_check,
        DataCheck::NotApplicable
    );
}

#[test]
fn s1_m2_data_check_uses_the_survey_when_tracked() {
    let p = pb();
    let input = AssessmentInput {
        milestones: vec![claim(
            "S1.M2",
            ClaimStatus::Achieved,
            vec![contact(1), contact(2)],
        )],
        ..Default::default()
    };
    let mut facts = good_facts();
    facts.survey = SurveyFact::Missing;
    assert_eq!(
        run(&p, "S1", &input, &facts).milestones[1].data_check,
        DataCheck::Contradicted
    );
    facts.survey = SurveyFact::Latest {
        completeness_percent: 60,
        threshold_percent: 80,
        missing_sections: vec!["Daily traffic".into()],
    };
    let j = run(&p, "S1", &input, &facts);
    assert_eq!(j.milestones[1].data_check, DataCheck::Contradicted);
    assert!(j.milestones[1]
        .data_check_detail
        .as_ref()
        .unwrap()
        .contains("Daily traffic"));
    facts.survey = SurveyFact::Latest {
        completeness_percent: 90,
        threshold_percent: 80,
        missing_sections: vec![],
    };
    assert_eq!(
        run(&p, "S1", &input, &facts).milestones[1].data_check,
        DataCheck::Consistent
    );
}

#[test]
fn s1_a05_names_the_missing_survey_sections() {
    let p = pb();
    let input = AssessmentInput::default();
    let mut facts = good_facts();
    facts.survey = SurveyFact::Latest {
        completeness_percent: 50,
        threshold_percent: 80,
        missing_sections: vec!["Daily traffic".into(), "Budget".into()],
    };
    let j = run(&p, "S1", &input, &facts);
    let a05 = j
        .recommended_actions
        .iter()
        .find(|r| r.code == "S1.A05")
        .unwrap();
    assert!(
        a05.reason.contains("S1.M2") && a05.reason.contains("Daily traffic, Budget"),
        "{}",
        a05.reason
    );
    let a01 = j
        .recommended_actions
        .iter()
        .find(|r| r.code == "S1.A01")
        .unwrap();
    assert!(!a01.reason.contains("survey"));
    facts.survey = SurveyFact::Missing;
    let j = run(&p, "S1", &input, &facts);
    let a05 = j
        .recommended_actions
        .iter()
        .find(|r| r.code == "S1.A05")
        .unwrap();
    assert!(
        a05.reason.contains("no current-state survey"),
        "{}",
        a05.reason
    );
}

#[test]
fn ready_to_advance_needs_every_milestone_achieved_verified_and_consistent() {
    let p = pb();
    let two = || vec![contact(1), src(SourceKind::Document)];
    let mut input = AssessmentInput {
        milestones: ["S1.M1", "S1.M2", "S1.M3", "S1.M4"]
            .iter()
            .map(|c| claim(c, ClaimStatus::Achieved, two()))
            .collect(),
        ..Default::default()
    };
    let j = run(&p, "S1", &input, &good_facts());
    assert!(j.ready_to_advance, "{:?}", j.blocking_reasons);
    assert_eq!(j.milestone_completion_percent, 100);
    assert!(j.blocking_reasons.is_empty());
    assert!(j.recommended_actions.is_empty());
    input.milestones[3].sources = vec![contact(1)];
    let j = run(&p, "S1", &input, &good_facts());
    assert!(!j.ready_to_advance);
    assert_eq!(
        j.milestone_completion_percent, 100,
        "single source still counts as achieved"
    );
    assert!(j.blocking_reasons[0].starts_with("S1.M4"));
    assert!(j.blocking_reasons[0].contains("one source"));
    // The unverified milestone brings its actions back (S1.A06/A07/A08 serve S1.M4).
    let codes: Vec<&str> = j
        .recommended_actions
        .iter()
        .map(|r| r.code.as_str())
        .collect();
    assert_eq!(codes, ["S1.A06", "S1.A07", "S1.A08"]);
    assert!(j
        .risks
        .iter()
        .any(|r| r.code == RiskCode::UnverifiedKeyInformation && r.detail.contains("S1.M4")));
    let j = run(&p, "S1", &input, &empty_facts());
    assert!(!j.ready_to_advance, "contradicted by an empty org chart");
}

#[test]
fn recommendations_skip_completed_actions_and_name_the_gap() {
    let p = pb();
    let input = AssessmentInput {
        milestones: vec![
            claim("S1.M1", ClaimStatus::Achieved, vec![contact(1), contact(2)]),
            claim("S1.M3", ClaimStatus::Achieved, vec![contact(1), contact(2)]),
            claim("S1.M4", ClaimStatus::Achieved, vec![contact(1), contact(2)]),
        ],
        completed_actions: vec!["S1.A05".into()],
        ..Default::default()
    };
    let j = run(&p, "S1", &input, &good_facts());
    let codes: Vec<&str> = j
        .recommended_actions
        .iter()
        .map(|r| r.code.as_str())
        .collect();
    assert_eq!(codes, ["S1.A06"], "only S1.M2 is open; A05 is done");
    assert!(j.recommended_actions[0].reason.contains("S1.M2"));
    assert!(j.recommended_actions[0].reason.contains("not achieved"));
    assert_eq!(j.recommended_actions[0].tools.len(), 3);
    assert_eq!(j.recommended_actions[0].tools[0].code, "bss");
}

#[test]
fn requirements_shape_the_front_of_the_list() {
    let p = pb();
    let input = AssessmentInput {
        requirements: Some(Requirements {
            clarity: Some(Clarity::Clear),
            leaning: Some(Leaning::Competitor),
            competitor: Some("Huawei".into()),
        }),
        ..Default::default()
    };
    let j = run(&p, "S1", &input, &good_facts());
    assert_eq!(j.recommended_actions[0].code, "S1.A08");
    assert!(j.recommended_actions[0].reason.contains("Huawei"));
    assert_eq!(
        j.recommended_actions
            .iter()
            .filter(|r| r.code == "S1.A08")
            .count(),
        1
    );
    assert!(j
        .risks
        .iter()
        .any(|r| r.code == RiskCode::CompetitorLeaning && r.detail.contains("Huawei")));

    let input = AssessmentInput {
        requirements: Some(Requirements {
            clarity: Some(Clarity::Unclear),
            leaning: None,
            competitor: None,
        }),
        completed_actions: vec!["S1.A07".into(), "S1.A08".into()],
        milestones: ["S1.M1", "S1.M2", "S1.M3", "S1.M4"]
            .iter()
            .map(|c| claim(c, ClaimStatus::Achieved, vec![contact(1), contact(2)]))
            .collect(),
        ..Default::default()
    };
    let j = run(&p, "S1", &input, &good_facts());
    let codes: Vec<&str> = j
        .recommended_actions
        .iter()
        .map(|r| r.code.as_str())
        .collect();
    assert_eq!(
        codes,
        ["S1.A08", "S1.A07"],
        "unclear requirements recommend both"
    );
}

#[test]
fn relationship_risks() {
    let p = pb();
    let j = run(&p, "S1", &AssessmentInput::default(), &empty_facts());
    let codes: Vec<&str> = j.risks.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["no_supporter", "no_senior_leadership_contact"]);
    let j = run(&p, "S1", &AssessmentInput::default(), &good_facts());
    assert!(j.risks.is_empty());
}

#[test]
fn validation_names_fields() {
    let p = pb();
    let cur = p.stage("S1").unwrap();
    let input = AssessmentInput {
        observed_behaviours: vec![
            observed("S1.B99", vec![]),
            observed(
                "S1.B01",
                vec![Source {
                    kind: SourceKind::Contact,
                    contact_id: None,
                    reference: None,
                    note: None,
                }],
            ),
            observed(
                "S1.B01",
                vec![Source {
                    kind: SourceKind::Other,
                    contact_id: None,
                    reference: None,
                    note: Some(" ".into()),
                }],
            ),
        ],
        milestones: vec![
            claim("S1.B01", ClaimStatus::Achieved, vec![]),
            claim("S1.M1", ClaimStatus::Achieved, vec![]),
            claim("S1.M1", ClaimStatus::InProgress, vec![]),
        ],
        completed_actions: vec!["S1.A99".into(), "S1.A01".into(), "S1.A01".into()],
        ..Default::default()
    };
    let e = validate(&p, cur, &input).unwrap_err();
    let fields: Vec<&str> = e.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        fields,
        [
            "observed_behaviours[0].code",
            "observed_behaviours[1].sources[0].contact_id",
            "observed_behaviours[2].code",
            "observed_behaviours[2].sources[0].ref",
            "milestones[0].code",
            "milestones[2].code",
            "completed_actions[0]",
            "completed_actions[2]",
        ]
    );
    // A milestone of a stage that is neither the evidence stage nor the current one.
    let mut p2 = pb();
    let o = author_stage(
        &p2,
        &Overlay::default(),
        "S3",
        &StageInput {
            sales_milestones: vec![ItemInput {
                code: None,
                zh: None,
                en: Some("x".into()),
            }],
            ..Default::default()
        },
    )
    .unwrap();
    p2 = apply(&p2, &o);
    let input = AssessmentInput {
        milestones: vec![claim("S3.M1", ClaimStatus::Achieved, vec![])],
        ..Default::default()
    };
    let e = validate(&p2, p2.stage("S1").unwrap(), &input).unwrap_err();
    assert!(matches!(&e[0].code, Code::NotAssessable(m) if m.evidence == "S1"));
    let ids = contact_sources(&AssessmentInput {
        observed_behaviours: vec![observed("S1.B01", vec![contact(7), src(SourceKind::Email)])],
        milestones: vec![claim("S1.M1", ClaimStatus::Achieved, vec![contact(8)])],
        ..Default::default()
    });
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[1].0, "milestones[0].sources[0].contact_id");
}

#[test]
fn chinese_texts() {
    let p = pb();
    let cur = p.stage("S1").unwrap();
    let j = judge(
        &p,
        cur,
        &AssessmentInput::default(),
        &empty_facts(),
        Lang::Zh,
    );
    assert_eq!(j.stage.name, "业务驱动、定位问题");
    assert!(j.risks[0].detail.contains("支持者"));
    assert!(j.recommended_actions[0]
        .tools
        .iter()
        .any(|t| t.name == "BSS"));
}
