//! S1.A03's visit order kept (issue 22, item 2): the action counts as done only once the first
//! person known in the order (IT head, deputy head, technical authority, staff) is reached.

use super::tests::{empty_facts, pb, person, run};
use super::*;
use crate::domain::org_chart::{
    coverage, Attitude, Department, MethodologyRole, Person, Relationship,
};

fn it(n: u128, role: MethodologyRole, reached: bool) -> Person {
    let mut p = person(
        n,
        Department::It,
        Some(role),
        Attitude::Neutral,
        Relationship::Contacted,
        false,
    );
    p.last_contacted_at = reached.then(chrono::Utc::now);
    p.name = format!("{role:?}");
    p
}

fn facts(people: &[Person]) -> Facts {
    Facts {
        org: coverage(people),
        survey: SurveyFact::NotTracked,
        stale_days: None,
    }
}

/// The S1.A03 recommendation, if any, after S1.A03 was carried out (with somebody).
fn a03_after_doing_it(people: &[Person]) -> Option<Recommendation> {
    let input = AssessmentInput {
        completed_actions: vec!["S1.A03".into()],
        ..Default::default()
    };
    run(&pb(), "S1", &input, &facts(people))
        .recommended_actions
        .into_iter()
        .find(|r| r.code == "S1.A03")
}

#[test]
fn carried_out_lower_down_while_the_head_is_unreached_it_stays_naming_the_head() {
    let people = [
        it(1, MethodologyRole::ItHead, false),
        it(2, MethodologyRole::TechnicalAuthority, true),
    ];
    let a03 = a03_after_doing_it(&people).expect("S1.A03 stays recommended");
    assert!(
        a03.reason.contains("next to visit: ItHead"),
        "{}",
        a03.reason
    );
}

#[test]
fn once_the_first_known_person_is_reached_it_is_done() {
    let people = [
        it(1, MethodologyRole::ItHead, true),
        it(2, MethodologyRole::TechnicalAuthority, false),
    ];
    let input = AssessmentInput {
        completed_actions: vec!["S1.A03".into()],
        ..Default::default()
    };
    let j = run(&pb(), "S1", &input, &facts(&people));
    let a03 = j.recommended_actions.iter().find(|r| r.code == "S1.A03");
    // Done: not recommended again, though the milestones it serves are still open.
    assert!(a03.is_none(), "{a03:?}");
}

#[test]
fn with_the_head_unknown_the_first_known_counts_and_the_missing_role_is_named() {
    let people = [it(2, MethodologyRole::ItDeputyHead, true)];
    assert!(
        a03_after_doing_it(&people).is_none(),
        "the deputy is the first known, and reached"
    );
    let input = AssessmentInput::default();
    let j = run(&pb(), "S1", &input, &facts(&people));
    let a03 = j
        .recommended_actions
        .iter()
        .find(|r| r.code == "S1.A03")
        .expect("not done yet: recommended for its milestones");
    assert!(
        a03.reason
            .contains("nobody known yet as IT department head"),
        "{}",
        a03.reason
    );
}

#[test]
fn nobody_known_in_the_order_keeps_it_recommended_with_the_role_to_find() {
    let a03 = a03_after_doing_it(&[]).expect("S1.A03 stays recommended");
    assert!(
        a03.reason
            .contains("nobody known yet as IT department head"),
        "{}",
        a03.reason
    );
    assert!(
        a03.reason
            .contains("nobody known yet in Procurement, Finance, Equipment office"),
        "S1.A03's note: {}",
        a03.reason
    );
    let j = run(&pb(), "S1", &AssessmentInput::default(), &empty_facts());
    let zh = judge(
        &pb(),
        pb().stage("S1").unwrap(),
        &AssessmentInput::default(),
        &empty_facts(),
        Lang::Zh,
    );
    assert!(j.recommended_actions.iter().any(|r| r.code == "S1.A03"));
    let a03_zh = zh
        .recommended_actions
        .iter()
        .find(|r| r.code == "S1.A03")
        .unwrap();
    assert!(
        a03_zh
            .reason
            .contains("还需结识采购部门、财务部门、设备处的联系人"),
        "{}",
        a03_zh.reason
    );
}
