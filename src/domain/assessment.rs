//! The stage engine: what the seller knows (evidence) + what is stored (facts) → judgement.
//!
//! Pure code: no I/O. The handler loads the facts (org chart coverage, later surveys) and the
//! playbook version, calls `validate` and `judge`, and stores input and judgement together.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::org_chart::Coverage;
use crate::domain::playbook::{localize, Kind, Lang, Localized, Playbook, Stage};
use crate::domain::text_enum;
use crate::domain::validate::Violation;

text_enum!(
    /// Where a piece of evidence comes from.
    SourceKind {
        Contact => "contact",
        Meeting => "meeting",
        Call => "call",
        Email => "email",
        Document => "document",
        Event => "event",
        Other => "other",
    }
);

text_enum!(
    /// The seller's claim about a milestone.
    ClaimStatus {
        Achieved => "achieved",
        InProgress => "in_progress",
        NotStarted => "not_started",
    }
);

text_enum!(
    /// How well the customer's requirements are defined.
    Clarity {
        Unclear => "unclear",
        Clear => "clear",
    }
);

text_enum!(
    /// Whom the customer's requirements favour.
    Leaning {
        Us => "us",
        Neutral => "neutral",
        Competitor => "competitor",
    }
);

text_enum!(
    /// How well a claim is supported: `verified` needs two or more sources that differ in kind
    /// or in contact ("several times, from several angles", S1.N1).
    Verification {
        Verified => "verified",
        SingleSource => "single_source",
        Unsupported => "unsupported",
    }
);

text_enum!(
    /// What stored data says about a milestone claim.
    DataCheck {
        Consistent => "consistent",
        Contradicted => "contradicted",
        NotApplicable => "not_applicable",
    }
);

/// A source of evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub kind: SourceKind,
    /// Required for `contact`: a contact of the opportunity's account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<Uuid>,
    /// A reference (meeting minutes id, document name, URL, ...).
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A buying signal the seller observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservedBehaviour {
    /// A buying-signal code of the playbook, e.g. `S1.B03`.
    #[schema(example = "S1.B03")]
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    #[serde(default)]
    pub sources: Vec<Source>,
}

/// The seller's claim about a milestone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneClaim {
    #[schema(example = "S1.M1")]
    pub code: String,
    pub status: ClaimStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    #[serde(default)]
    pub sources: Vec<Source>,
}

/// What is known about the customer's requirements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Requirements {
    pub clarity: Option<Clarity>,
    pub leaning: Option<Leaning>,
    /// The competitor the requirements lean toward.
    pub competitor: Option<String>,
}

/// What the seller knows now: a complete snapshot (clients pre-fill from the latest assessment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AssessmentInput {
    #[serde(default)]
    pub observed_behaviours: Vec<ObservedBehaviour>,
    /// Claims about milestones of the evidence stage or of the opportunity's current stage.
    #[serde(default)]
    pub milestones: Vec<MilestoneClaim>,
    /// Key-action codes already done.
    #[serde(default)]
    pub completed_actions: Vec<String>,
    #[serde(default)]
    pub requirements: Option<Requirements>,
    /// Move the opportunity to the evidence stage (owner or manager).
    #[serde(default)]
    pub apply: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// What the latest survey says (filled by the survey records feature).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum SurveyFact {
    /// Surveys do not feed this check.
    #[default]
    NotTracked,
    /// The account has no survey record.
    Missing,
    /// The latest survey's completeness.
    Latest {
        completeness_percent: u8,
        threshold_percent: u8,
        missing_sections: Vec<String>,
    },
}

/// Stored facts the engine checks claims against.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub org: Coverage,
    pub survey: SurveyFact,
}

// ---------------------------------------------------------------------------------------------
// Output

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StageRef {
    #[schema(example = "S1")]
    pub code: String,
    pub order: u8,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ObservedOut {
    pub code: String,
    /// The stage the signal belongs to.
    pub stage: String,
    pub evidence: Option<String>,
    pub sources: Vec<Source>,
    pub verification: Verification,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MilestoneOut {
    pub code: String,
    pub text: String,
    /// The seller's claim (`not_started` when not claimed).
    pub status: ClaimStatus,
    pub evidence: Option<String>,
    pub sources: Vec<Source>,
    pub verification: Verification,
    pub data_check: DataCheck,
    /// Why the data check says what it says.
    pub data_check_detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ToolRef {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Recommendation {
    pub code: String,
    pub text: String,
    pub tools: Vec<ToolRef>,
    /// The milestone(s) it serves and what is missing.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Risk {
    /// `seller_behind_customer`, `competitor_leaning`, `no_supporter`,
    /// `no_senior_leadership_contact` or `unverified_key_information`.
    pub code: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StageChange {
    pub from: String,
    pub to: String,
    /// `forward` or `backward`.
    pub direction: String,
    /// True when the opportunity was moved (`apply: true`).
    pub applied: bool,
}

/// The engine's judgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Judgement {
    /// The evidence stage: the highest stage with an observed buying signal; with none, the
    /// opportunity's current stage.
    pub stage: StageRef,
    pub purchase_progress_percent: u8,
    pub observed_behaviours: Vec<ObservedOut>,
    pub milestones: Vec<MilestoneOut>,
    /// Milestones achieved and not contradicted, over all milestones of the stage.
    pub milestone_completion_percent: u8,
    pub ready_to_advance: bool,
    pub blocking_reasons: Vec<String>,
    pub recommended_actions: Vec<Recommendation>,
    pub risks: Vec<Risk>,
    pub stage_change: Option<StageChange>,
}

// ---------------------------------------------------------------------------------------------
// Validation

const MAX_EVIDENCE: usize = 5000;
const MAX_SOURCES: usize = 20;

fn check_len(errors: &mut Vec<Violation>, field: String, v: &Option<String>, max: usize) {
    if let Some(v) = v {
        if v.chars().count() > max {
            errors.push(Violation::new(field, format!("at most {max} characters")));
        } else if v.contains('\0') {
            errors.push(Violation::new(field, "must not contain NUL"));
        }
    }
}

fn check_sources(errors: &mut Vec<Violation>, field: &str, sources: &[Source]) {
    if sources.len() > MAX_SOURCES {
        errors.push(Violation::new(
            format!("{field}.sources"),
            format!("at most {MAX_SOURCES} sources"),
        ));
    }
    for (j, s) in sources.iter().enumerate() {
        let f = format!("{field}.sources[{j}]");
        match (s.kind, s.contact_id) {
            (SourceKind::Contact, None) => errors.push(Violation::new(
                format!("{f}.contact_id"),
                "required for a contact source",
            )),
            (k, Some(_)) if k != SourceKind::Contact => errors.push(Violation::new(
                format!("{f}.contact_id"),
                "only a contact source names a contact",
            )),
            _ => {}
        }
        let blank = |v: &Option<String>| v.as_deref().map(str::trim).is_none_or(str::is_empty);
        if s.kind == SourceKind::Other && blank(&s.reference) && blank(&s.note) {
            errors.push(Violation::new(
                f.clone(),
                "an `other` source needs a ref or a note",
            ));
        }
        check_len(errors, format!("{f}.ref"), &s.reference, 500);
        check_len(errors, format!("{f}.note"), &s.note, 2000);
    }
}

/// The evidence stage (see `Judgement::stage`).
pub fn evidence_stage<'p>(
    playbook: &'p Playbook,
    current: &'p Stage,
    input: &AssessmentInput,
) -> &'p Stage {
    input
        .observed_behaviours
        .iter()
        .filter_map(|b| playbook.stage_of_item(&b.code, Kind::Behaviour))
        .max_by_key(|s| s.order)
        .unwrap_or(current)
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
                format!("{} is not a buying signal of the playbook", b.code),
            ));
        } else if !seen.insert(b.code.clone()) {
            errors.push(Violation::new(
                format!("{field}.code"),
                format!("{} is listed twice", b.code),
            ));
        }
        check_len(
            &mut errors,
            format!("{field}.evidence"),
            &b.evidence,
            MAX_EVIDENCE,
        );
        check_sources(&mut errors, &field, &b.sources);
    }
    let evidence = evidence_stage(playbook, current, input);
    let mut seen = HashSet::new();
    for (i, m) in input.milestones.iter().enumerate() {
        let field = format!("milestones[{i}]");
        match playbook.stage_of_item(&m.code, Kind::Milestone) {
            None => errors.push(Violation::new(format!("{field}.code"), format!("{} is not a milestone of the playbook", m.code))),
            Some(s) if s.code != evidence.code && s.code != current.code => errors.push(Violation::new(
                format!("{field}.code"),
                format!(
                    "{} belongs to {}; only milestones of the evidence stage ({}) or the current stage ({}) are assessed",
                    m.code, s.code, evidence.code, current.code
                ),
            )),
            Some(_) if !seen.insert(m.code.clone()) => {
                errors.push(Violation::new(format!("{field}.code"), format!("{} is listed twice", m.code)))
            }
            Some(_) => {}
        }
        check_len(
            &mut errors,
            format!("{field}.evidence"),
            &m.evidence,
            MAX_EVIDENCE,
        );
        check_sources(&mut errors, &field, &m.sources);
    }
    let mut seen = HashSet::new();
    for (i, a) in input.completed_actions.iter().enumerate() {
        let field = format!("completed_actions[{i}]");
        if playbook.action(a).is_none() {
            errors.push(Violation::new(
                field,
                format!("{a} is not a key action of the playbook"),
            ));
        } else if !seen.insert(a.clone()) {
            errors.push(Violation::new(field, format!("{a} is listed twice")));
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

// ---------------------------------------------------------------------------------------------
// Judgement

/// Two or more sources that differ in kind or in contact → verified.
pub fn verification(sources: &[Source]) -> Verification {
    let distinct: HashSet<String> = sources
        .iter()
        .map(|s| match (s.kind, s.contact_id) {
            (SourceKind::Contact, Some(id)) => format!("contact:{id}"),
            (k, _) => k.as_str().to_string(),
        })
        .collect();
    match distinct.len() {
        0 => Verification::Unsupported,
        1 => Verification::SingleSource,
        _ => Verification::Verified,
    }
}

fn status_zh(s: ClaimStatus) -> &'static str {
    match s {
        ClaimStatus::Achieved => "已达成",
        ClaimStatus::InProgress => "进行中",
        ClaimStatus::NotStarted => "未开始",
    }
}

fn t(lang: Lang, zh: &str, en: &str) -> String {
    match lang {
        Lang::Zh => zh.to_string(),
        Lang::En => en.to_string(),
    }
}

/// The data check of a milestone: `None` when no stored data speaks to it.
fn data_rule(code: &str, facts: &Facts, lang: Lang) -> Option<(bool, String)> {
    match code {
        "S1.M1" => {
            let mut missing = Vec::new();
            if !facts.org.it_leadership_known {
                missing.push(t(
                    lang,
                    "组织结构中没有信息部门主管或副主管",
                    "no IT head or deputy head in the org chart",
                ));
            }
            if !facts.org.key_person_supporter {
                missing.push(t(
                    lang,
                    "没有关键人物是支持者",
                    "no key person is a supporter",
                ));
            }
            if missing.is_empty() {
                Some((
                    true,
                    t(
                        lang,
                        "组织结构中有信息部门领导,且关键人物中有支持者",
                        "the org chart knows the IT leadership and a key person supports us",
                    ),
                ))
            } else {
                Some((false, missing.join("; ")))
            }
        }
        "S1.M2" => match &facts.survey {
            SurveyFact::NotTracked => None,
            SurveyFact::Missing => Some((
                false,
                t(
                    lang,
                    "该客户没有现状调查记录",
                    "the account has no current-state survey",
                ),
            )),
            SurveyFact::Latest {
                completeness_percent,
                threshold_percent,
                missing_sections,
            } => {
                if completeness_percent >= threshold_percent {
                    Some((true, match lang {
                        Lang::Zh => format!("最新调查完整度 {completeness_percent}%(阈值 {threshold_percent}%)"),
                        Lang::En => format!("latest survey is {completeness_percent}% complete (threshold {threshold_percent}%)"),
                    }))
                } else {
                    Some((false, match lang {
                        Lang::Zh => format!("最新调查完整度仅 {completeness_percent}%(阈值 {threshold_percent}%),缺少:{}", missing_sections.join("、")),
                        Lang::En => format!("latest survey is only {completeness_percent}% complete (threshold {threshold_percent}%); missing: {}", missing_sections.join(", ")),
                    }))
                }
            }
        },
        _ => None,
    }
}

/// Judges `input` for an opportunity in `current` against `facts`, with texts in `lang`.
/// `validate` must have passed.
pub fn judge(
    playbook: &Playbook,
    current: &Stage,
    input: &AssessmentInput,
    facts: &Facts,
    lang: Lang,
) -> Judgement {
    let stage = evidence_stage(playbook, current, input);
    let loc = |zh: &Option<String>, en: &Option<String>| -> Localized { localize(zh, en, lang) };

    let observed: Vec<ObservedOut> = input
        .observed_behaviours
        .iter()
        .map(|b| ObservedOut {
            code: b.code.clone(),
            stage: playbook
                .stage_of_item(&b.code, Kind::Behaviour)
                .map(|s| s.code.clone())
                .unwrap_or_default(),
            evidence: b.evidence.clone(),
            sources: b.sources.clone(),
            verification: verification(&b.sources),
        })
        .collect();

    let milestones: Vec<MilestoneOut> = stage
        .sales_milestones
        .iter()
        .map(|m| {
            let claim = input.milestones.iter().find(|c| c.code == m.code);
            let status = claim.map(|c| c.status).unwrap_or(ClaimStatus::NotStarted);
            let sources = claim.map(|c| c.sources.clone()).unwrap_or_default();
            let (data_check, data_check_detail) = match data_rule(&m.code, facts, lang) {
                None => (DataCheck::NotApplicable, None),
                Some((true, d)) => (DataCheck::Consistent, Some(d)),
                Some((false, d)) if status == ClaimStatus::Achieved => {
                    (DataCheck::Contradicted, Some(d))
                }
                Some((false, d)) => (DataCheck::Consistent, Some(d)),
            };
            MilestoneOut {
                code: m.code.clone(),
                text: loc(&m.zh, &m.en).text,
                status,
                evidence: claim.and_then(|c| c.evidence.clone()),
                verification: verification(&sources),
                sources,
                data_check,
                data_check_detail,
            }
        })
        .collect();

    let done = |m: &MilestoneOut| {
        m.status == ClaimStatus::Achieved && m.data_check != DataCheck::Contradicted
    };
    let complete = |m: &MilestoneOut| done(m) && m.verification == Verification::Verified;
    let total = milestones.len();
    let achieved = milestones.iter().filter(|m| done(m)).count();
    let milestone_completion_percent = (achieved * 100 + total / 2)
        .checked_div(total)
        .map_or(0, |p| p as u8);

    // What is missing for each open milestone.
    let gap = |m: &MilestoneOut| -> String {
        if m.data_check == DataCheck::Contradicted {
            match lang {
                Lang::Zh => format!(
                    "{}:声称已达成,但与已存数据矛盾({})",
                    m.code,
                    m.data_check_detail.clone().unwrap_or_default()
                ),
                Lang::En => format!(
                    "{}: claimed achieved but contradicted by stored data ({})",
                    m.code,
                    m.data_check_detail.clone().unwrap_or_default()
                ),
            }
        } else if m.status != ClaimStatus::Achieved {
            match lang {
                Lang::Zh => format!("{}:尚未达成({})", m.code, status_zh(m.status)),
                Lang::En => format!("{}: not achieved yet ({})", m.code, m.status),
            }
        } else if m.verification == Verification::SingleSource {
            match lang {
                Lang::Zh => format!("{}:只有单一来源,需多次、多角度验证(S1.N1)", m.code),
                Lang::En => format!(
                    "{}: only one source; verify several times from several angles (S1.N1)",
                    m.code
                ),
            }
        } else {
            match lang {
                Lang::Zh => format!("{}:没有任何来源支持", m.code),
                Lang::En => format!("{}: no source supports the claim", m.code),
            }
        }
    };
    let open: Vec<&MilestoneOut> = milestones.iter().filter(|m| !complete(m)).collect();
    let mut blocking_reasons: Vec<String> = open.iter().map(|m| gap(m)).collect();
    if total == 0 {
        blocking_reasons.push(match lang {
            Lang::Zh => format!("{} 在销售手册中没有里程碑,请先编写", stage.code),
            Lang::En => format!(
                "{} has no milestones in the playbook; author them first",
                stage.code
            ),
        });
    }
    let ready_to_advance = total > 0 && open.is_empty();

    // Recommendations: actions of the stage serving open milestones, most open milestones first.
    let tool_ref = |code: &String| ToolRef {
        code: code.clone(),
        name: playbook
            .tools
            .iter()
            .find(|tl| tl.code == *code)
            .map(|tl| loc(&tl.zh, &tl.en).text)
            .unwrap_or_else(|| code.clone()),
    };
    // The survey tool's recommendation names what the survey still lacks.
    let survey_note = match &facts.survey {
        SurveyFact::Missing => Some(t(
            lang,
            "尚无客户现状调查记录",
            "no current-state survey recorded yet",
        )),
        SurveyFact::Latest {
            missing_sections, ..
        } if !missing_sections.is_empty() => Some(match lang {
            Lang::Zh => format!("现状调查缺少:{}", missing_sections.join("、")),
            Lang::En => format!("the survey lacks: {}", missing_sections.join(", ")),
        }),
        _ => None,
    };
    let with_survey_note = |a: &crate::domain::playbook::Action, reason: String| -> String {
        match &survey_note {
            Some(note) if a.tools.iter().any(|t| t == "current_state_survey") => {
                format!("{reason}; {note}")
            }
            _ => reason,
        }
    };
    let completed: HashSet<&str> = input.completed_actions.iter().map(String::as_str).collect();
    let mut scored: Vec<(usize, usize, Recommendation)> = stage
        .key_actions
        .iter()
        .enumerate()
        .filter(|(_, a)| !completed.contains(a.code.as_str()))
        .filter_map(|(i, a)| {
            let served: Vec<&&MilestoneOut> =
                open.iter().filter(|m| a.serves.contains(&m.code)).collect();
            if served.is_empty() {
                return None;
            }
            Some((
                served.len(),
                i,
                Recommendation {
                    code: a.code.clone(),
                    text: loc(&a.zh, &a.en).text,
                    tools: a.tools.iter().map(tool_ref).collect(),
                    reason: with_survey_note(
                        a,
                        served.iter().map(|m| gap(m)).collect::<Vec<_>>().join("; "),
                    ),
                },
            ))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut recommended_actions: Vec<Recommendation> =
        scored.into_iter().map(|(_, _, r)| r).collect();

    let requirements = input.requirements.clone().unwrap_or_default();
    let competitor_name = requirements
        .competitor
        .clone()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or_else(|| t(lang, "某竞争对手", "a competitor"));
    let mut front: Vec<(String, String)> = Vec::new();
    if requirements.leaning == Some(Leaning::Competitor) {
        front.push((
            "S1.A08".into(),
            match lang {
                Lang::Zh => format!("客户需求偏向{competitor_name}:从业务等多角度帮客户分析风险,重新获得梳理需求的地位"),
                Lang::En => format!("requirements lean toward {competitor_name}: analyse risks from the business side to win back the role of re-shaping them"),
            },
        ));
    }
    if requirements.clarity == Some(Clarity::Unclear) {
        let reason = t(
            lang,
            "客户需求尚不明确:以我司对信息技术趋势的理解加以引导",
            "requirements are unclear: guide them toward a framework that favours us",
        );
        front.push(("S1.A08".into(), reason.clone()));
        front.push(("S1.A07".into(), reason));
    }
    let mut placed: Vec<Recommendation> = Vec::new();
    for (code, reason) in front {
        if placed.iter().any(|r| r.code == code) {
            continue;
        }
        let Some(a) = playbook.action(&code) else {
            continue;
        };
        recommended_actions.retain(|r| r.code != code);
        placed.push(Recommendation {
            code: a.code.clone(),
            text: loc(&a.zh, &a.en).text,
            tools: a.tools.iter().map(tool_ref).collect(),
            reason,
        });
    }
    placed.extend(recommended_actions);
    let recommended_actions = placed;

    // Risks.
    let mut risks = Vec::new();
    if stage.order > current.order {
        let current_open: Vec<&str> = current
            .sales_milestones
            .iter()
            .filter(|m| {
                !input
                    .milestones
                    .iter()
                    .any(|c| c.code == m.code && c.status == ClaimStatus::Achieved)
            })
            .map(|m| m.code.as_str())
            .collect();
        if !current_open.is_empty() {
            risks.push(Risk {
                code: "seller_behind_customer".into(),
                detail: match lang {
                    Lang::Zh => format!(
                        "客户已处于 {},而 {} 的里程碑仍未完成:{}",
                        stage.code,
                        current.code,
                        current_open.join("、")
                    ),
                    Lang::En => format!(
                        "the customer is in {} while milestones of {} are still open: {}",
                        stage.code,
                        current.code,
                        current_open.join(", ")
                    ),
                },
            });
        }
    }
    if requirements.leaning == Some(Leaning::Competitor) {
        risks.push(Risk {
            code: "competitor_leaning".into(),
            detail: match lang {
                Lang::Zh => format!("客户需求偏向{competitor_name}"),
                Lang::En => format!("requirements lean toward {competitor_name}"),
            },
        });
    }
    if facts.org.supporters.is_empty() {
        risks.push(Risk {
            code: "no_supporter".into(),
            detail: t(
                lang,
                "客户联系人中还没有支持者",
                "no contact of the account is a supporter",
            ),
        });
    }
    if !facts.org.senior_leadership_reached {
        risks.push(Risk {
            code: "no_senior_leadership_contact".into(),
            detail: t(
                lang,
                "尚未与客户高层建立关系(S1.A10)",
                "nobody in senior leadership with an established relationship (S1.A10)",
            ),
        });
    }
    let mut unverified: Vec<String> = observed
        .iter()
        .filter(|o| o.verification != Verification::Verified)
        .map(|o| o.code.clone())
        .collect();
    unverified.extend(
        input
            .milestones
            .iter()
            .filter(|c| {
                c.status == ClaimStatus::Achieved
                    && verification(&c.sources) != Verification::Verified
            })
            .map(|c| c.code.clone()),
    );
    if !unverified.is_empty() {
        risks.push(Risk {
            code: "unverified_key_information".into(),
            detail: match lang {
                Lang::Zh => format!(
                    "以下信息尚未经多次、多角度验证(S1.N1):{}",
                    unverified.join("、")
                ),
                Lang::En => format!(
                    "not yet verified several times from several angles (S1.N1): {}",
                    unverified.join(", ")
                ),
            },
        });
    }

    let stage_change = (stage.code != current.code).then(|| StageChange {
        from: current.code.clone(),
        to: stage.code.clone(),
        direction: if stage.order > current.order {
            "forward"
        } else {
            "backward"
        }
        .into(),
        applied: false,
    });

    Judgement {
        stage: StageRef {
            code: stage.code.clone(),
            order: stage.order,
            name: loc(&stage.name.zh, &stage.name.en).text,
        },
        purchase_progress_percent: stage.purchase_progress_percent,
        observed_behaviours: observed,
        milestones,
        milestone_completion_percent,
        ready_to_advance,
        blocking_reasons,
        recommended_actions,
        risks,
        stage_change,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::org_chart::{
        coverage, Attitude, Department, MethodologyRole, Person, Relationship,
    };
    use crate::domain::playbook::{apply, author_stage, built_in, ItemInput, Overlay, StageInput};

    fn pb() -> Playbook {
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

    fn person(
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
        }
    }

    fn empty_facts() -> Facts {
        Facts {
            org: coverage(&[]),
            survey: SurveyFact::NotTracked,
        }
    }

    fn good_facts() -> Facts {
        Facts {
            org: coverage(&[
                person(
                    1,
                    Department::It,
                    Some(MethodologyRole::ItHead),
                    Attitude::Supporter,
                    Relationship::Trusted,
                    true,
                ),
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
        }
    }

    fn run(p: &Playbook, current: &str, input: &AssessmentInput, facts: &Facts) -> Judgement {
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
        assert!(j
            .milestones
            .iter()
            .all(|m| m.status == ClaimStatus::NotStarted
                && m.verification == Verification::Unsupported));
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
        assert!(j.risks.iter().any(|r| r.code == "seller_behind_customer"));
        // Backward.
        let back = AssessmentInput {
            observed_behaviours: vec![observed("S1.B02", vec![])],
            ..Default::default()
        };
        let j = run(&p, "S2", &back, &empty_facts());
        assert_eq!(j.stage_change.unwrap().direction, "backward");
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
            .any(|r| r.code == "unverified_key_information" && r.detail.contains("S1.M4")));
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
            .any(|r| r.code == "competitor_leaning" && r.detail.contains("Huawei")));

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
                "observed_behaviours[2].sources[0]",
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
        assert!(e[0].message.contains("evidence stage"));
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
}
