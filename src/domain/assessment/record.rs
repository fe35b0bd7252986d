//! Evidence from the record: the activities of an opportunity (and its account's recent ones
//! without an opportunity) turned into the engine's input, and what supports each judged item.
//!
//! S1.N1 asks that important information be verified several times, from several angles: a
//! signal from the record is `verified` when it was observed in at least two activities on
//! different days and its sources differ in contact or kind; otherwise it has a single source.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::model::{
    AssessmentInput, Basis, ClaimStatus, Facts, Leaning, MilestoneClaim, MilestoneOut,
    ObservedBehaviour, ObservedOut, Requirements, Source, SourceKind, Verification,
};
use super::steps::{data_check, evidence_stage, verification};
use crate::domain::activity::{ActivityKind, Observation};
use crate::domain::playbook::{Kind, Lang, Playbook, Stage};

use crate::domain::playbook::codes::{
    DATA_MILESTONES, LEANING_MILESTONE, PLANNING_ACTION, PLANNING_MILESTONE,
};

/// One activity of the record, as the engine sees it.
#[derive(Debug, Clone)]
pub struct RecordActivity {
    pub id: Uuid,
    /// Linked to the opportunity being assessed (else an account activity without one).
    pub on_opportunity: bool,
    pub kind: ActivityKind,
    pub occurred_at: DateTime<Utc>,
    pub participants: Vec<Uuid>,
    pub key_actions: Vec<String>,
    pub observations: Vec<Observation>,
    pub requirements: Option<Requirements>,
}

impl RecordActivity {
    /// The activity itself (its kind, referenced by id) and each participant as sources.
    fn sources(&self) -> Vec<Source> {
        let mut out = vec![Source {
            kind: source_kind(self.kind),
            contact_id: None,
            reference: Some(self.id.to_string()),
            note: None,
        }];
        out.extend(self.participants.iter().map(|c| Source {
            kind: SourceKind::Contact,
            contact_id: Some(*c),
            reference: Some(self.id.to_string()),
            note: None,
        }));
        out
    }

    fn day(&self) -> NaiveDate {
        self.occurred_at.date_naive()
    }
}

/// What supports each judged item of an assessment from the record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Support {
    observed: BTreeMap<String, (Vec<Uuid>, Verification)>,
    milestones: BTreeMap<String, (Vec<Uuid>, Option<Verification>)>,
    /// Three or more activities on the opportunity, all with the same single contact: how many,
    /// and that contact.
    pub single_threaded: Option<(usize, Uuid)>,
}

/// A key action carried out this recently is not recommended again.
pub const RECENT_ACTION_DAYS: i64 = 30;

/// Three or more activities on the opportunity, all with the same single contact.
pub fn single_threaded(record: &[RecordActivity]) -> Option<(usize, Uuid)> {
    let on: Vec<&RecordActivity> = record.iter().filter(|a| a.on_opportunity).collect();
    let first = on.first()?.participants.as_slice();
    let only = match first {
        [one] => *one,
        _ => return None,
    };
    (on.len() >= 3 && on.iter().all(|a| a.participants == [only])).then_some((on.len(), only))
}

/// S1.N1 on the record: several times (activities on two or more days) and from several angles
/// (sources differing in contact or kind).
pub fn record_verification(activities: &[&RecordActivity]) -> Verification {
    let days: BTreeSet<NaiveDate> = activities.iter().map(|a| a.day()).collect();
    let sources: Vec<Source> = activities.iter().flat_map(|a| a.sources()).collect();
    match (days.len(), verification(&sources)) {
        (0, _) => Verification::Unsupported,
        (d, Verification::Verified) if d >= 2 => Verification::Verified,
        _ => Verification::SingleSource,
    }
}

/// The distinct sources of `activities`: one per kind and per contact (the first activity
/// showing it is the reference; `supported_by` lists them all).
fn distinct_sources(activities: &[&RecordActivity]) -> Vec<Source> {
    let mut out: Vec<Source> = Vec::new();
    for s in activities.iter().flat_map(|a| a.sources()) {
        if !out
            .iter()
            .any(|o| o.kind == s.kind && o.contact_id == s.contact_id)
        {
            out.push(s);
        }
    }
    out
}

fn ids(list: &[&RecordActivity]) -> Vec<Uuid> {
    list.iter().map(|a| a.id).collect()
}

/// The engine's input built from `record` (oldest first) and the facts, with the claims of
/// `claims` merged in (a claim about a signal or milestone the record also shows is left to the
/// record).
pub fn evidence_from_record(
    playbook: &Playbook,
    current: &Stage,
    record: &[RecordActivity],
    claims: &AssessmentInput,
    facts: &Facts,
    now: DateTime<Utc>,
    lang: Lang,
) -> (AssessmentInput, Support) {
    let mut support = Support {
        single_threaded: single_threaded(record),
        ..Support::default()
    };
    let mut input = AssessmentInput {
        apply: claims.apply,
        from_record: true,
        notes: claims.notes.clone(),
        ..AssessmentInput::default()
    };
    observed_signals(playbook, record, claims, &mut input, &mut support);
    input.completed_actions = completed_actions(playbook, record, claims, now);
    // The requirements as last stated.
    let stated = record.iter().rev().find(|a| a.requirements.is_some());
    input.requirements = stated
        .and_then(|a| a.requirements.clone())
        .or_else(|| claims.requirements.clone());
    let judge = Milestones {
        playbook,
        evidence: evidence_stage(playbook, current, &input).code.clone(),
        current: &current.code,
    };
    judge.decided_by_data(facts, lang, &mut input, &mut support);
    judge.decided_by_record(record, stated, &mut input, &mut support);
    for m in &claims.milestones {
        if !support.milestones.contains_key(&m.code) {
            input.milestones.push(m.clone());
        }
    }
    (input, support)
}

/// Observed signals, in the order first seen; then the claimed ones the record does not show.
/// Codes the current playbook no longer has cannot be judged and are left out.
fn observed_signals(
    playbook: &Playbook,
    record: &[RecordActivity],
    claims: &AssessmentInput,
    input: &mut AssessmentInput,
    support: &mut Support,
) {
    let mut by_signal: BTreeMap<&str, Vec<&RecordActivity>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for a in record {
        let known = a
            .observations
            .iter()
            .filter(|o| playbook.stage_of_item(&o.signal, Kind::Behaviour).is_some());
        for o in known {
            let seen = by_signal.entry(o.signal.as_str()).or_default();
            if seen.is_empty() {
                order.push(o.signal.as_str());
            }
            if !seen.iter().any(|x| x.id == a.id) {
                seen.push(a);
            }
        }
    }
    for code in order {
        let acts = &by_signal[code];
        let evidence: Vec<String> = acts
            .iter()
            .flat_map(|a| a.observations.iter())
            .filter(|o| o.signal == code)
            .filter_map(|o| o.evidence.clone())
            .collect();
        input.observed_behaviours.push(ObservedBehaviour {
            code: code.to_string(),
            evidence: (!evidence.is_empty()).then(|| evidence.join("; ")),
            sources: distinct_sources(acts),
        });
        support
            .observed
            .insert(code.to_string(), (ids(acts), record_verification(acts)));
    }
    for b in &claims.observed_behaviours {
        if !support.observed.contains_key(&b.code) {
            input.observed_behaviours.push(b.clone());
        }
    }
}

/// Key actions carried out recently (not recommended again), then the claimed ones.
fn completed_actions(
    playbook: &Playbook,
    record: &[RecordActivity],
    claims: &AssessmentInput,
    now: DateTime<Utc>,
) -> Vec<String> {
    let recent = record
        .iter()
        .filter(|a| (now - a.occurred_at).num_days() <= RECENT_ACTION_DAYS)
        .flat_map(|a| a.key_actions.iter())
        .filter(|k| playbook.action(k).is_some());
    let mut done: Vec<String> = Vec::new();
    for k in recent.chain(claims.completed_actions.iter()) {
        if !done.contains(k) {
            done.push(k.clone());
        }
    }
    done
}

/// Milestones from data and from the record, where the methodology allows it, for the stages
/// being judged (the evidence stage and the current one).
struct Milestones<'a> {
    playbook: &'a Playbook,
    evidence: String,
    current: &'a str,
}

impl Milestones<'_> {
    fn judged(&self, code: &str) -> bool {
        self.playbook
            .stage_of_item(code, Kind::Milestone)
            .is_some_and(|s| s.code == self.evidence || s.code == self.current)
    }

    /// The org chart and the survey decide their milestones.
    fn decided_by_data(
        &self,
        facts: &Facts,
        lang: Lang,
        input: &mut AssessmentInput,
        support: &mut Support,
    ) {
        for code in DATA_MILESTONES.into_iter().filter(|c| self.judged(c)) {
            if let Some((true, _)) = data_check(code, facts, lang) {
                input.milestones.push(achieved(code, Vec::new()));
                support
                    .milestones
                    .insert(code.to_string(), (Vec::new(), Some(Verification::Verified)));
            }
        }
    }

    /// Taking part in the planning, and requirements that (as last stated) lean to us.
    fn decided_by_record(
        &self,
        record: &[RecordActivity],
        stated: Option<&RecordActivity>,
        input: &mut AssessmentInput,
        support: &mut Support,
    ) {
        let planning: Vec<&RecordActivity> = record
            .iter()
            .filter(|a| a.key_actions.iter().any(|k| k == PLANNING_ACTION))
            .collect();
        if !planning.is_empty() && self.judged(PLANNING_MILESTONE) {
            let sources = distinct_sources(&planning);
            input.milestones.push(achieved(PLANNING_MILESTONE, sources));
            support.milestones.insert(
                PLANNING_MILESTONE.to_string(),
                (ids(&planning), Some(record_verification(&planning))),
            );
        }
        let leaning_us = stated.filter(|a| {
            a.requirements
                .as_ref()
                .is_some_and(|r| r.leaning == Some(Leaning::Us))
        });
        if let Some(a) = leaning_us.filter(|_| self.judged(LEANING_MILESTONE)) {
            input
                .milestones
                .push(achieved(LEANING_MILESTONE, a.sources()));
            support.milestones.insert(
                LEANING_MILESTONE.to_string(),
                (vec![a.id], Some(record_verification(&[a]))),
            );
        }
    }
}

fn achieved(code: &str, sources: Vec<Source>) -> MilestoneClaim {
    MilestoneClaim {
        code: code.to_string(),
        status: ClaimStatus::Achieved,
        evidence: None,
        sources,
    }
}

/// Marks the items the record supports: their activities, their basis, and the record's own
/// verification (several days, several angles) instead of the claims' rule.
pub(super) fn annotate(
    observed: &mut [ObservedOut],
    milestones: &mut [MilestoneOut],
    support: &Support,
) {
    for o in observed.iter_mut() {
        if let Some((ids, v)) = support.observed.get(&o.code) {
            o.supported_by = ids.clone();
            o.verification = *v;
            o.basis = Basis::Record;
        }
    }
    for m in milestones.iter_mut() {
        if let Some((ids, v)) = support.milestones.get(&m.code) {
            m.supported_by = ids.clone();
            if let Some(v) = v {
                m.verification = *v;
            }
            m.basis = Basis::Record;
        }
    }
}

/// The evidence source kind an activity of `kind` is.
fn source_kind(kind: ActivityKind) -> SourceKind {
    match kind {
        ActivityKind::Visit => SourceKind::Visit,
        ActivityKind::Meeting => SourceKind::Meeting,
        ActivityKind::Call => SourceKind::Call,
        ActivityKind::Email => SourceKind::Email,
        ActivityKind::Event => SourceKind::Event,
        ActivityKind::Document => SourceKind::Document,
        ActivityKind::Other => SourceKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn act(n: u128, kind: ActivityKind, day: u32, hour: u32, people: &[u128]) -> RecordActivity {
        RecordActivity {
            id: Uuid::from_u128(n),
            on_opportunity: true,
            kind,
            occurred_at: Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap(),
            participants: people.iter().map(|p| Uuid::from_u128(*p)).collect(),
            key_actions: Vec::new(),
            observations: vec![Observation {
                signal: "S1.B03".into(),
                evidence: None,
            }],
            requirements: None,
        }
    }

    #[test]
    fn several_days_and_several_angles_verify() {
        let a = act(1, ActivityKind::Visit, 18, 2, &[100]);
        let b = act(2, ActivityKind::Visit, 20, 2, &[200]);
        assert_eq!(record_verification(&[&a, &b]), Verification::Verified);
    }

    #[test]
    fn one_day_is_a_single_source_even_from_two_angles() {
        let a = act(1, ActivityKind::Visit, 18, 2, &[100]);
        let b = act(2, ActivityKind::Call, 18, 9, &[200]);
        assert_eq!(record_verification(&[&a, &b]), Verification::SingleSource);
    }

    #[test]
    fn two_days_from_the_same_angle_is_a_single_source() {
        let a = act(1, ActivityKind::Call, 18, 2, &[]);
        let b = act(2, ActivityKind::Call, 20, 2, &[]);
        assert_eq!(record_verification(&[&a, &b]), Verification::SingleSource);
        // The same contact in the same kind of activity is still one angle; a second kind
        // makes two.
        let c = act(3, ActivityKind::Email, 21, 2, &[]);
        assert_eq!(record_verification(&[&a, &c]), Verification::Verified);
    }

    #[test]
    fn one_contact_in_three_activities_is_single_threaded() {
        let a = act(1, ActivityKind::Visit, 18, 2, &[100]);
        let b = act(2, ActivityKind::Call, 19, 2, &[100]);
        let c = act(3, ActivityKind::Email, 20, 2, &[100]);
        assert_eq!(
            single_threaded(&[a.clone(), b.clone(), c.clone()]),
            Some((3, Uuid::from_u128(100)))
        );
        assert_eq!(
            single_threaded(&[a.clone(), b.clone()]),
            None,
            "two are not yet a pattern"
        );
        let d = act(4, ActivityKind::Visit, 21, 2, &[100, 200]);
        assert_eq!(single_threaded(&[a, b, c, d]), None);
    }

    #[test]
    fn no_activity_supports_nothing() {
        assert_eq!(record_verification(&[]), Verification::Unsupported);
    }
}
