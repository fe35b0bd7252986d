//! The stage engine: what the seller knows (evidence) + what is stored (facts) → judgement.
//!
//! Pure code: no I/O. The assessment service loads the facts (org chart coverage, the latest
//! survey) and the playbook version, calls `validate` and `judge`, and stores input and
//! judgement together.
//!
//! - `model`: the vocabulary (input, facts, judgement);
//! - `validate`: the input against the playbook;
//! - `steps`: the rules, one function each;
//! - `messages`: every text the rules write, in zh and en.

mod messages;
mod model;
mod record;
mod steps;
mod validate;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod visit_order_tests;

pub use model::*;
pub use record::{
    evidence_from_record, record_verification, single_threaded, RecordActivity, Support,
    RECENT_ACTION_DAYS,
};
pub use steps::{evidence_stage, verification};
pub use validate::{contact_sources, validate};

use std::collections::HashMap;

use uuid::Uuid;

use crate::domain::playbook::{localize, Lang, Playbook, Stage};

/// Judges `input` for an opportunity in `current` against `facts`, with texts in `lang`.
/// `validate` must have passed.
pub fn judge(
    playbook: &Playbook,
    current: &Stage,
    input: &AssessmentInput,
    facts: &Facts,
    lang: Lang,
) -> Judgement {
    judge_with(playbook, current, input, facts, lang, None, &HashMap::new())
}

/// `judge`, with the items the record supports judged by the record's own verification (see
/// `record`) before readiness, recommendations and risks are drawn from them.
pub fn judge_with(
    playbook: &Playbook,
    current: &Stage,
    input: &AssessmentInput,
    facts: &Facts,
    lang: Lang,
    support: Option<&Support>,
    names: &HashMap<Uuid, String>,
) -> Judgement {
    let stage = steps::evidence_stage(playbook, current, input);
    let mut observed = steps::observations(playbook, input);
    let mut milestones = steps::milestones(stage, input, facts, lang);
    if let Some(s) = support {
        record::annotate(&mut observed, &mut milestones, s, names, lang);
    }
    let (ready_to_advance, blocking_reasons) = steps::readiness(stage, &milestones, lang);
    let recommended_actions =
        steps::recommendations(playbook, stage, input, facts, &milestones, lang);
    let single = support.and_then(|s| s.single_threaded).map(|(count, id)| {
        let name = names.get(&id).map_or_else(|| id.to_string(), Clone::clone);
        (count, name)
    });
    let single = single.as_ref().map(|(n, name)| (*n, name.as_str()));
    let judged = steps::Judged {
        observed: &observed,
        milestones: &milestones,
    };
    let risks = steps::risks(stage, current, input, facts, judged, single, lang);
    Judgement {
        stage: StageRef {
            code: stage.code.clone(),
            order: stage.order,
            name: localize(&stage.name.zh, &stage.name.en, lang).text,
        },
        purchase_progress_percent: stage.purchase_progress_percent,
        milestone_completion_percent: steps::completion_percent(&milestones),
        observed_behaviours: observed,
        milestones,
        ready_to_advance,
        blocking_reasons,
        recommended_actions,
        risks,
        stage_change: steps::stage_change(stage, current),
    }
}
