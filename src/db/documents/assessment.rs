//! `stage_assessments.input` and `.judgement`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{read, unknown_version, version_of, write, DecodeError};
use crate::domain::assessment::{
    AssessmentInput, Basis, ClaimStatus, Clarity, DataCheck, Direction, Judgement, Leaning,
    MilestoneClaim, MilestoneOut, ObservedBehaviour, ObservedOut, Recommendation, Requirements,
    Risk, RiskCode, SeenOut, Source, SourceKind, StageChange, StageRef, ToolRef, Verification,
};

pub const INPUT_VERSION: u32 = 1;
/// Version 2 added `supported_by` and `basis` to observed signals and milestones (version 1
/// documents read them as empty and `claims`).
pub const JUDGEMENT_VERSION: u32 = 2;

#[derive(Debug, Serialize, Deserialize)]
struct SourceV1 {
    kind: SourceKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contact_id: Option<Uuid>,
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ObservedV1 {
    code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    evidence: Option<String>,
    #[serde(default)]
    sources: Vec<SourceV1>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ClaimV1 {
    code: String,
    status: ClaimStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    evidence: Option<String>,
    #[serde(default)]
    sources: Vec<SourceV1>,
}

#[derive(Debug, Serialize, Deserialize)]
struct RequirementsV1 {
    #[serde(default)]
    clarity: Option<Clarity>,
    #[serde(default)]
    leaning: Option<Leaning>,
    #[serde(default)]
    competitor: Option<String>,
}

/// The evidence as submitted (version 1).
#[derive(Debug, Serialize, Deserialize)]
struct InputV1 {
    #[serde(default = "one")]
    schema_version: u32,
    #[serde(default)]
    observed_behaviours: Vec<ObservedV1>,
    #[serde(default)]
    milestones: Vec<ClaimV1>,
    #[serde(default)]
    completed_actions: Vec<String>,
    #[serde(default)]
    requirements: Option<RequirementsV1>,
    #[serde(default)]
    apply: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    from_record: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notes: Option<String>,
}

fn one() -> u32 {
    1
}

impl From<SourceV1> for Source {
    fn from(s: SourceV1) -> Self {
        Source {
            kind: s.kind,
            contact_id: s.contact_id,
            reference: s.reference,
            note: s.note,
        }
    }
}

impl From<&Source> for SourceV1 {
    fn from(s: &Source) -> Self {
        SourceV1 {
            kind: s.kind,
            contact_id: s.contact_id,
            reference: s.reference.clone(),
            note: s.note.clone(),
        }
    }
}

fn sources_in(list: Vec<SourceV1>) -> Vec<Source> {
    list.into_iter().map(Source::from).collect()
}

fn sources_out(list: &[Source]) -> Vec<SourceV1> {
    list.iter().map(SourceV1::from).collect()
}

/// Writes the input as the current version.
pub fn write_input(i: &AssessmentInput) -> serde_json::Result<Value> {
    write(&InputV1 {
        schema_version: INPUT_VERSION,
        observed_behaviours: i
            .observed_behaviours
            .iter()
            .map(|b| ObservedV1 {
                code: b.code.clone(),
                evidence: b.evidence.clone(),
                sources: sources_out(&b.sources),
            })
            .collect(),
        milestones: i
            .milestones
            .iter()
            .map(|m| ClaimV1 {
                code: m.code.clone(),
                status: m.status,
                evidence: m.evidence.clone(),
                sources: sources_out(&m.sources),
            })
            .collect(),
        completed_actions: i.completed_actions.clone(),
        requirements: i.requirements.as_ref().map(|r| RequirementsV1 {
            clarity: r.clarity,
            leaning: r.leaning,
            competitor: r.competitor.clone(),
        }),
        apply: i.apply,
        from_record: i.from_record,
        notes: i.notes.clone(),
    })
}

/// Reads a stored input of any known version.
pub fn read_input(doc: Value, id: Uuid) -> Result<AssessmentInput, DecodeError> {
    const WHAT: &str = "assessment input of";
    let v = version_of(&doc).map_err(|e| DecodeError::new(WHAT, id, e))?;
    if v != 1 {
        return Err(unknown_version(WHAT, id, v));
    }
    let i: InputV1 = read(doc, WHAT, id)?;
    Ok(AssessmentInput {
        observed_behaviours: i
            .observed_behaviours
            .into_iter()
            .map(|b| ObservedBehaviour {
                code: b.code,
                evidence: b.evidence,
                sources: sources_in(b.sources),
            })
            .collect(),
        milestones: i
            .milestones
            .into_iter()
            .map(|m| MilestoneClaim {
                code: m.code,
                status: m.status,
                evidence: m.evidence,
                sources: sources_in(m.sources),
            })
            .collect(),
        completed_actions: i.completed_actions,
        requirements: i.requirements.map(|r| Requirements {
            clarity: r.clarity,
            leaning: r.leaning,
            competitor: r.competitor,
        }),
        apply: i.apply,
        from_record: i.from_record,
        notes: i.notes,
    })
}

#[derive(Debug, Serialize, Deserialize)]
struct StageRefV1 {
    code: String,
    order: u8,
    name: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct ObservedOutV1 {
    code: String,
    stage: String,
    #[serde(default)]
    evidence: Option<String>,
    #[serde(default)]
    sources: Vec<SourceV1>,
    verification: Verification,
    #[serde(default)]
    supported_by: Vec<Uuid>,
    #[serde(default = "Basis::claims")]
    basis: Basis,
    /// Added in place (judgements stored before it have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seen: Option<SeenV1>,
}

/// Times and angles of a signal in the record.
#[derive(Debug, Serialize, Deserialize)]
struct SeenV1 {
    times: u32,
    angles: u32,
    people: Vec<Uuid>,
    kinds: Vec<crate::domain::activity::ActivityKind>,
    unattended: bool,
    #[serde(default)]
    summary: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct MilestoneOutV1 {
    code: String,
    text: String,
    status: ClaimStatus,
    #[serde(default)]
    evidence: Option<String>,
    #[serde(default)]
    sources: Vec<SourceV1>,
    verification: Verification,
    data_check: DataCheck,
    #[serde(default)]
    data_check_detail: Option<String>,
    #[serde(default)]
    supported_by: Vec<Uuid>,
    #[serde(default = "Basis::claims")]
    basis: Basis,
}

#[derive(Debug, Serialize, Deserialize)]
struct ToolRefV1 {
    code: String,
    name: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct RecommendationV1 {
    code: String,
    text: String,
    #[serde(default)]
    tools: Vec<ToolRefV1>,
    reason: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct RiskV1 {
    code: RiskCode,
    detail: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct StageChangeV1 {
    from: String,
    to: String,
    direction: Direction,
    applied: bool,
}

/// The engine's judgement as it was made (version 1).
#[derive(Debug, Serialize, Deserialize)]
struct JudgementV1 {
    #[serde(default = "one")]
    schema_version: u32,
    stage: StageRefV1,
    purchase_progress_percent: u8,
    #[serde(default)]
    observed_behaviours: Vec<ObservedOutV1>,
    #[serde(default)]
    milestones: Vec<MilestoneOutV1>,
    milestone_completion_percent: u8,
    ready_to_advance: bool,
    #[serde(default)]
    blocking_reasons: Vec<String>,
    #[serde(default)]
    recommended_actions: Vec<RecommendationV1>,
    #[serde(default)]
    risks: Vec<RiskV1>,
    #[serde(default)]
    stage_change: Option<StageChangeV1>,
}

/// Writes the judgement as the current version.
pub fn write_judgement(j: &Judgement) -> serde_json::Result<Value> {
    write(&JudgementV1 {
        schema_version: JUDGEMENT_VERSION,
        stage: StageRefV1 {
            code: j.stage.code.clone(),
            order: j.stage.order,
            name: j.stage.name.clone(),
        },
        purchase_progress_percent: j.purchase_progress_percent,
        observed_behaviours: j.observed_behaviours.iter().map(observed_out).collect(),
        milestones: j.milestones.iter().map(milestone_out).collect(),
        milestone_completion_percent: j.milestone_completion_percent,
        ready_to_advance: j.ready_to_advance,
        blocking_reasons: j.blocking_reasons.clone(),
        recommended_actions: j
            .recommended_actions
            .iter()
            .map(recommendation_out)
            .collect(),
        risks: j
            .risks
            .iter()
            .map(|r| RiskV1 {
                code: r.code,
                detail: r.detail.clone(),
            })
            .collect(),
        stage_change: j.stage_change.as_ref().map(|c| StageChangeV1 {
            from: c.from.clone(),
            to: c.to.clone(),
            direction: c.direction,
            applied: c.applied,
        }),
    })
}

fn observed_out(o: &ObservedOut) -> ObservedOutV1 {
    ObservedOutV1 {
        code: o.code.clone(),
        stage: o.stage.clone(),
        evidence: o.evidence.clone(),
        sources: sources_out(&o.sources),
        verification: o.verification,
        supported_by: o.supported_by.clone(),
        basis: o.basis,
        seen: o.seen.as_ref().map(|x| SeenV1 {
            times: x.times,
            angles: x.angles,
            people: x.people.clone(),
            kinds: x.kinds.clone(),
            unattended: x.unattended,
            summary: x.summary.clone(),
        }),
    }
}

fn milestone_out(m: &MilestoneOut) -> MilestoneOutV1 {
    MilestoneOutV1 {
        code: m.code.clone(),
        text: m.text.clone(),
        status: m.status,
        evidence: m.evidence.clone(),
        sources: sources_out(&m.sources),
        verification: m.verification,
        data_check: m.data_check,
        data_check_detail: m.data_check_detail.clone(),
        supported_by: m.supported_by.clone(),
        basis: m.basis,
    }
}

fn recommendation_out(r: &Recommendation) -> RecommendationV1 {
    RecommendationV1 {
        code: r.code.clone(),
        text: r.text.clone(),
        tools: r
            .tools
            .iter()
            .map(|t| ToolRefV1 {
                code: t.code.clone(),
                name: t.name.clone(),
            })
            .collect(),
        reason: r.reason.clone(),
    }
}

/// Reads a stored judgement of any known version.
pub fn read_judgement(doc: Value, id: Uuid) -> Result<Judgement, DecodeError> {
    const WHAT: &str = "assessment judgement of";
    let v = version_of(&doc).map_err(|e| DecodeError::new(WHAT, id, e))?;
    if v != 1 && v != JUDGEMENT_VERSION {
        return Err(unknown_version(WHAT, id, v));
    }
    let j: JudgementV1 = read(doc, WHAT, id)?;
    Ok(Judgement {
        stage: StageRef {
            code: j.stage.code,
            order: j.stage.order,
            name: j.stage.name,
        },
        purchase_progress_percent: j.purchase_progress_percent,
        observed_behaviours: j
            .observed_behaviours
            .into_iter()
            .map(|o| ObservedOut {
                code: o.code,
                stage: o.stage,
                evidence: o.evidence,
                sources: sources_in(o.sources),
                verification: o.verification,
                supported_by: o.supported_by,
                basis: o.basis,
                seen: o.seen.map(|x| SeenOut {
                    times: x.times,
                    angles: x.angles,
                    people: x.people,
                    kinds: x.kinds,
                    unattended: x.unattended,
                    summary: x.summary,
                }),
            })
            .collect(),
        milestones: j
            .milestones
            .into_iter()
            .map(|m| MilestoneOut {
                code: m.code,
                text: m.text,
                status: m.status,
                evidence: m.evidence,
                sources: sources_in(m.sources),
                verification: m.verification,
                data_check: m.data_check,
                data_check_detail: m.data_check_detail,
                supported_by: m.supported_by,
                basis: m.basis,
            })
            .collect(),
        milestone_completion_percent: j.milestone_completion_percent,
        ready_to_advance: j.ready_to_advance,
        blocking_reasons: j.blocking_reasons,
        recommended_actions: j
            .recommended_actions
            .into_iter()
            .map(|r| Recommendation {
                code: r.code,
                text: r.text,
                tools: r
                    .tools
                    .into_iter()
                    .map(|t| ToolRef {
                        code: t.code,
                        name: t.name,
                    })
                    .collect(),
                reason: r.reason,
            })
            .collect(),
        risks: j
            .risks
            .into_iter()
            .map(|r| Risk {
                code: r.code,
                detail: r.detail,
            })
            .collect(),
        stage_change: j.stage_change.map(|c| StageChange {
            from: c.from,
            to: c.to,
            direction: c.direction,
            applied: c.applied,
        }),
    })
}
