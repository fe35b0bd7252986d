//! Evidence from the record: the activities of an opportunity (and its account's recent ones
//! without an opportunity) turned into the engine's input, and what supports each judged item.
//!
//! S1.N1 asks that important information be verified several times, from several angles: a
//! signal from the record is `verified` when it was observed on at least two days and from at
//! least two angles (`Seen`: the people met, and the kinds of activity) — one person met by one
//! kind of activity is one angle, however often; otherwise it has a single source.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::model::{
    AssessmentInput, Basis, ClaimStatus, Facts, Leaning, MilestoneClaim, MilestoneOut,
    ObservedBehaviour, ObservedOut, Requirements, SeenOut, Source, SourceKind, Verification,
};
use super::steps::{data_check, evidence_stage};
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
    observed: BTreeMap<String, (Vec<Uuid>, Seen)>,
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

/// How often and from how many angles the record shows something (S1.N1: important information
/// is verified several times, from several angles — 多次、多角度).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Seen {
    /// The days with an activity showing it.
    pub days: BTreeSet<NaiveDate>,
    /// The customer people met in those activities.
    pub people: BTreeSet<Uuid>,
    /// The kinds of those activities, in the order first seen.
    pub kinds: Vec<ActivityKind>,
    /// Whether one of them had nobody of the customer's in it (a document, a call not logged
    /// with its people): a source of its own.
    pub unattended: bool,
}

impl Seen {
    pub fn of(activities: &[&RecordActivity]) -> Seen {
        let mut seen = Seen::default();
        for a in activities {
            seen.days.insert(a.day());
            seen.people.extend(a.participants.iter().copied());
            if !seen.kinds.contains(&a.kind) {
                seen.kinds.push(a.kind);
            }
            seen.unattended |= a.participants.is_empty();
        }
        seen
    }

    /// Times: the distinct days.
    pub fn times(&self) -> usize {
        self.days.len()
    }

    /// Verified with two or more times and two or more angles.
    pub fn verification(&self) -> Verification {
        match (self.times(), self.angles()) {
            (0, _) => Verification::Unsupported,
            (t, a) if t >= 2 && a >= 2 => Verification::Verified,
            _ => Verification::SingleSource,
        }
    }

    /// As a judgement shows it, with a line in `lang` naming the people (`names`: contact
    /// names by id) and the kinds: "5 次, 1 个角度: 赵主任 (拜访)".
    pub fn out(&self, names: &std::collections::HashMap<Uuid, String>, lang: Lang) -> SeenOut {
        let who: Vec<String> = self
            .people
            .iter()
            .map(|id| names.get(id).map_or_else(|| id.to_string(), Clone::clone))
            .collect();
        let kinds: Vec<&str> = self.kinds.iter().map(|k| k.label(lang)).collect();
        let (times, angles) = (self.times(), self.angles());
        let summary = super::messages::Msg::Seen {
            times,
            angles,
            who: &who,
            kinds: &kinds,
        }
        .text(lang);
        SeenOut {
            times: u32::try_from(times).unwrap_or(u32::MAX),
            angles: u32::try_from(angles).unwrap_or(u32::MAX),
            people: self.people.iter().copied().collect(),
            kinds: self.kinds.clone(),
            unattended: self.unattended,
            summary,
        }
    }

    /// Angles: each person met is one, an activity without anybody is one, and each kind of
    /// activity beyond the first is one more — so one person met by one kind of activity is one
    /// angle however often, and the same person met also by another kind is two.
    pub fn angles(&self) -> usize {
        let sources = self.people.len() + usize::from(self.unattended);
        sources + self.kinds.len().saturating_sub(1)
    }
}

/// S1.N1 on the record: verified when seen on two or more days from two or more angles
/// (`Seen`); otherwise a single source.
pub fn record_verification(activities: &[&RecordActivity]) -> Verification {
    Seen::of(activities).verification()
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
            .insert(code.to_string(), (ids(acts), Seen::of(acts)));
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
    names: &std::collections::HashMap<Uuid, String>,
    lang: Lang,
) {
    for o in observed.iter_mut() {
        if let Some((ids, seen)) = support.observed.get(&o.code) {
            o.supported_by = ids.clone();
            o.verification = seen.verification();
            o.seen = Some(seen.out(names, lang));
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

    /// The situations of issue 22, as a table: (activities as (kind, day, people), times,
    /// angles, verification).
    #[test]
    fn times_and_angles_as_the_methodology_counts_them() {
        use ActivityKind::{Document, Email, Visit};
        use Verification::{SingleSource, Verified};
        type Situation = (
            &'static str,
            Vec<(ActivityKind, u32, Vec<u128>)>,
            usize,
            usize,
        );
        let table: Vec<(Situation, Verification)> = vec![
            (
                (
                    "one person, five visits on five days",
                    (18..23).map(|d| (Visit, d, vec![100])).collect(),
                    5,
                    1,
                ),
                SingleSource,
            ),
            (
                (
                    "two people on one day",
                    vec![(Visit, 18, vec![100]), (Visit, 18, vec![200])],
                    1,
                    2,
                ),
                SingleSource,
            ),
            (
                (
                    "one person by visit and by e-mail on two days",
                    vec![(Visit, 18, vec![100]), (Email, 20, vec![100])],
                    2,
                    2,
                ),
                Verified,
            ),
            (
                (
                    "a document and a visit on two days",
                    vec![(Document, 18, vec![]), (Visit, 20, vec![100])],
                    2,
                    3,
                ),
                Verified,
            ),
            (
                (
                    "two people in one visit, then one of them again",
                    vec![(Visit, 18, vec![100, 200]), (Visit, 25, vec![100])],
                    2,
                    2,
                ),
                Verified,
            ),
            (
                (
                    "two documents on two days",
                    vec![(Document, 18, vec![]), (Document, 20, vec![])],
                    2,
                    1,
                ),
                SingleSource,
            ),
        ];
        for ((name, acts, times, angles), expected) in table {
            let acts: Vec<RecordActivity> = acts
                .iter()
                .enumerate()
                .map(|(i, (kind, day, people))| act(i as u128, *kind, *day, 9, people))
                .collect();
            let refs: Vec<&RecordActivity> = acts.iter().collect();
            let seen = Seen::of(&refs);
            assert_eq!((seen.times(), seen.angles()), (times, angles), "{name}");
            assert_eq!(record_verification(&refs), expected, "{name}");
        }
    }

    #[test]
    fn the_seen_line_names_the_people_and_the_kinds_in_both_languages() {
        let doc = act(1, ActivityKind::Document, 18, 9, &[]);
        let visit = act(2, ActivityKind::Visit, 20, 9, &[100]);
        let names = std::collections::HashMap::from([(Uuid::from_u128(100), "赵主任".into())]);
        let seen = Seen::of(&[&doc, &visit]);
        let zh = seen.out(&names, Lang::Zh);
        assert_eq!(zh.summary, "2 次, 3 个角度: 赵主任 (文档、拜访)");
        assert!(zh.unattended);
        let en = Seen::of(&[&doc]).out(&names, Lang::En);
        assert_eq!(en.summary, "1 time, 1 angle: (Document)");
    }

    #[test]
    fn no_activity_supports_nothing() {
        assert_eq!(record_verification(&[]), Verification::Unsupported);
    }
}
