//! Validation of an assessment's input against the playbook.

use std::collections::HashSet;

use uuid::Uuid;

use super::model::{AssessmentInput, Source, SourceKind};
use super::steps::evidence_stage;
use crate::domain::playbook::{Kind, Playbook, Stage};
use crate::domain::validate::{text, Code, CodeKind, Misplaced, Violation};

const MAX_EVIDENCE: usize = 5000;
const MAX_SOURCES: usize = 20;

fn check_len(errors: &mut Vec<Violation>, field: String, v: &Option<String>, max: usize) {
    if let Some(v) = v {
        text(errors, &field, v, max);
    }
}

fn check_sources(errors: &mut Vec<Violation>, field: &str, sources: &[Source]) {
    if sources.len() > MAX_SOURCES {
        errors.push(Violation::new(
            format!("{field}.sources"),
            Code::TooMany {
                max: MAX_SOURCES as u64,
            },
        ));
    }
    for (j, s) in sources.iter().enumerate() {
        let f = format!("{field}.sources[{j}]");
        match (s.kind, s.contact_id) {
            (SourceKind::Contact, None) => {
                errors.push(Violation::new(format!("{f}.contact_id"), Code::Required))
            }
            (k, Some(_)) if k != SourceKind::Contact => {
                errors.push(Violation::new(format!("{f}.contact_id"), Code::NotAllowed))
            }
            _ => {}
        }
        let blank = |v: &Option<String>| v.as_deref().map(str::trim).is_none_or(str::is_empty);
        if s.kind == SourceKind::Other && blank(&s.reference) && blank(&s.note) {
            errors.push(Violation::new(format!("{f}.ref"), Code::Required));
        }
        check_len(errors, format!("{f}.ref"), &s.reference, 500);
        check_len(errors, format!("{f}.note"), &s.note, 2000);
    }
}

/// Checks codes, duplicates, sources and lengths. Contact ids are checked by the caller against
/// the account's contacts (see `contact_sources`).
pub fn validate(
    playbook: &Playbook,
    current: &Stage,
    input: &AssessmentInput,
) -> Result<(), Vec<Violation>> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (i, b) in input.observed_behaviours.iter().enumerate() {
        let field = format!("observed_behaviours[{i}]");
        if playbook.stage_of_item(&b.code, Kind::Behaviour).is_none() {
            errors.push(Violation::new(
                format!("{field}.code"),
                Code::UnknownCode {
                    code: b.code.clone(),
                    kind: CodeKind::Signal,
                },
            ));
        } else if !seen.insert(b.code.clone()) {
            errors.push(Violation::new(format!("{field}.code"), Code::Duplicate));
        }
        check_len(
            &mut errors,
            format!("{field}.evidence"),
            &b.evidence,
            MAX_EVIDENCE,
        );
        check_sources(&mut errors, &field, &b.sources);
    }
    check_milestones(&mut errors, playbook, current, input);
    let mut seen = HashSet::new();
    for (i, a) in input.completed_actions.iter().enumerate() {
        let field = format!("completed_actions[{i}]");
        if playbook.action(a).is_none() {
            errors.push(Violation::new(
                field,
                Code::UnknownCode {
                    code: a.clone(),
                    kind: CodeKind::KeyAction,
                },
            ));
        } else if !seen.insert(a.clone()) {
            errors.push(Violation::new(field, Code::Duplicate));
        }
    }
    if let Some(r) = &input.requirements {
        check_len(
            &mut errors,
            "requirements.competitor".into(),
            &r.competitor,
            200,
        );
    }
    check_len(&mut errors, "notes".into(), &input.notes, 10_000);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Milestones are the playbook's, of the evidence or the current stage, each once.
fn check_milestones(
    errors: &mut Vec<Violation>,
    playbook: &Playbook,
    current: &Stage,
    input: &AssessmentInput,
) {
    let evidence = evidence_stage(playbook, current, input);
    let mut seen = HashSet::new();
    for (i, m) in input.milestones.iter().enumerate() {
        let field = format!("milestones[{i}]");
        match playbook.stage_of_item(&m.code, Kind::Milestone) {
            None => errors.push(Violation::new(
                format!("{field}.code"),
                Code::UnknownCode {
                    code: m.code.clone(),
                    kind: CodeKind::Milestone,
                },
            )),
            Some(s) if s.code != evidence.code && s.code != current.code => {
                errors.push(Violation::new(
                    format!("{field}.code"),
                    Code::NotAssessable(Box::new(Misplaced {
                        code: m.code.clone(),
                        stage: s.code.clone(),
                        evidence: evidence.code.clone(),
                        current: current.code.clone(),
                    })),
                ))
            }
            Some(_) if !seen.insert(m.code.clone()) => {
                errors.push(Violation::new(format!("{field}.code"), Code::Duplicate))
            }
            Some(_) => {}
        }
        check_len(
            errors,
            format!("{field}.evidence"),
            &m.evidence,
            MAX_EVIDENCE,
        );
        check_sources(errors, &field, &m.sources);
    }
}

/// Every contact source of the input with its field path, for the caller's existence check.
pub fn contact_sources(input: &AssessmentInput) -> Vec<(String, Uuid)> {
    let mut out = Vec::new();
    let groups = input
        .observed_behaviours
        .iter()
        .enumerate()
        .map(|(i, b)| (format!("observed_behaviours[{i}]"), &b.sources))
        .chain(
            input
                .milestones
                .iter()
                .enumerate()
                .map(|(i, m)| (format!("milestones[{i}]"), &m.sources)),
        );
    for (field, sources) in groups {
        for (j, s) in sources.iter().enumerate() {
            if let (SourceKind::Contact, Some(id)) = (s.kind, s.contact_id) {
                out.push((format!("{field}.sources[{j}].contact_id"), id));
            }
        }
    }
    out
}
