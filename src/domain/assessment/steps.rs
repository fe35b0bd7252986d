//! The engine's rules, one named step each: evidence stage, verification, data checks,
//! milestones, readiness, recommendations, risks, stage change. `judge` runs them in order.

use std::collections::HashSet;

use super::messages::{findings, Msg};
use super::model::{
    AssessmentInput, Basis, ClaimStatus, Clarity, DataCheck, Direction, Facts, Leaning,
    MilestoneOut, ObservedOut, Recommendation, Risk, RiskCode, Source, SourceKind, StageChange,
    SurveyFact, ToolRef, Verification,
};
use crate::domain::playbook::{codes, localize, Action, Kind, Lang, Playbook, Stage};

/// The evidence stage: the highest stage with an observed buying signal; with none, the
/// opportunity's current stage.
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

/// Two or more sources that differ in kind or in contact → verified (S1.N1).
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

/// Each observed buying signal with its stage and verification.
pub fn observations(playbook: &Playbook, input: &AssessmentInput) -> Vec<ObservedOut> {
    input
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
            supported_by: Vec::new(),
            basis: Basis::Claims,
            seen: None,
        })
        .collect()
}

/// What stored data says about a milestone: `None` when no stored data speaks to it, else
/// whether the data supports it and why.
pub fn data_check(code: &str, facts: &Facts, lang: Lang) -> Option<(bool, String)> {
    match code {
        codes::ORG_CHART_MILESTONE => {
            let mut missing = Vec::new();
            if !facts.org.it_leadership_known {
                missing.push(Msg::OrgNoItLeadership.text(lang));
            }
            if !facts.org.key_person_supporter {
                missing.push(Msg::OrgNoKeySupporter.text(lang));
            }
            if missing.is_empty() {
                Some((true, Msg::OrgConsistent.text(lang)))
            } else {
                Some((false, findings(&missing)))
            }
        }
        codes::SURVEY_MILESTONE => match &facts.survey {
            SurveyFact::NotTracked => None,
            SurveyFact::Missing => Some((false, Msg::SurveyMissing.text(lang))),
            SurveyFact::Latest {
                completeness_percent: percent,
                threshold_percent: threshold,
                missing_sections,
            } => {
                let (percent, threshold) = (*percent, *threshold);
                if percent >= threshold {
                    Some((true, Msg::SurveyComplete { percent, threshold }.text(lang)))
                } else {
                    let missing = missing_sections;
                    let msg = Msg::SurveyIncomplete {
                        percent,
                        threshold,
                        missing,
                    };
                    Some((false, msg.text(lang)))
                }
            }
        },
        _ => None,
    }
}

/// Every milestone of the evidence stage: the seller's claim, its verification and the data
/// check. A failing data check contradicts only a claim of `achieved`.
pub fn milestones(
    stage: &Stage,
    input: &AssessmentInput,
    facts: &Facts,
    lang: Lang,
) -> Vec<MilestoneOut> {
    stage
        .sales_milestones
        .iter()
        .map(|m| {
            let claim = input.milestones.iter().find(|c| c.code == m.code);
            let status = claim.map_or(ClaimStatus::NotStarted, |c| c.status);
            let sources = claim.map(|c| c.sources.clone()).unwrap_or_default();
            let (data_check, data_check_detail) = match data_check(&m.code, facts, lang) {
                None => (DataCheck::NotApplicable, None),
                Some((true, d)) => (DataCheck::Consistent, Some(d)),
                Some((false, d)) if status == ClaimStatus::Achieved => {
                    (DataCheck::Contradicted, Some(d))
                }
                Some((false, d)) => (DataCheck::Consistent, Some(d)),
            };
            MilestoneOut {
                code: m.code.clone(),
                text: localize(&m.zh, &m.en, lang).text,
                status,
                evidence: claim.and_then(|c| c.evidence.clone()),
                verification: verification(&sources),
                sources,
                data_check,
                data_check_detail,
                supported_by: Vec::new(),
                basis: Basis::Claims,
            }
        })
        .collect()
}

/// Achieved and not contradicted.
fn done(m: &MilestoneOut) -> bool {
    m.status == ClaimStatus::Achieved && m.data_check != DataCheck::Contradicted
}

/// Done and verified: nothing is missing.
pub fn complete(m: &MilestoneOut) -> bool {
    done(m) && m.verification == Verification::Verified
}

/// Milestones done over all milestones of the stage, in percent (rounded).
pub fn completion_percent(milestones: &[MilestoneOut]) -> u8 {
    let total = milestones.len();
    let achieved = milestones.iter().filter(|m| done(m)).count();
    (achieved * 100 + total / 2)
        .checked_div(total)
        .map_or(0, |p| u8::try_from(p).unwrap_or(100))
}

/// What is missing for an open milestone.
pub fn gap(m: &MilestoneOut, lang: Lang) -> String {
    let code = m.code.as_str();
    if m.data_check == DataCheck::Contradicted {
        let detail = m.data_check_detail.as_deref().unwrap_or_default();
        Msg::GapContradicted { code, detail }.text(lang)
    } else if m.status != ClaimStatus::Achieved {
        Msg::GapNotAchieved {
            code,
            status: m.status,
        }
        .text(lang)
    } else if m.verification == Verification::SingleSource {
        Msg::GapSingleSource { code }.text(lang)
    } else {
        Msg::GapUnsupported { code }.text(lang)
    }
}

/// Ready to advance when the stage has milestones and every one is complete; otherwise the
/// reasons that block it.
pub fn readiness(stage: &Stage, milestones: &[MilestoneOut], lang: Lang) -> (bool, Vec<String>) {
    let mut reasons: Vec<String> = milestones
        .iter()
        .filter(|m| !complete(m))
        .map(|m| gap(m, lang))
        .collect();
    if milestones.is_empty() {
        reasons.push(Msg::NoMilestones { stage: &stage.code }.text(lang));
    }
    (!milestones.is_empty() && reasons.is_empty(), reasons)
}

fn recommend(playbook: &Playbook, a: &Action, reason: String, lang: Lang) -> Recommendation {
    let tool = |code: &String| ToolRef {
        code: code.clone(),
        name: playbook
            .tools
            .iter()
            .find(|t| t.code == *code)
            .map_or_else(|| code.clone(), |t| localize(&t.zh, &t.en, lang).text),
    };
    Recommendation {
        code: a.code.clone(),
        text: localize(&a.zh, &a.en, lang).text,
        tools: a.tools.iter().map(tool).collect(),
        reason,
    }
}

/// What the survey still lacks, added to the survey tool's recommendation.
fn survey_note(facts: &Facts, lang: Lang) -> Option<String> {
    match &facts.survey {
        SurveyFact::Missing => Some(Msg::SurveyNotRecorded.text(lang)),
        SurveyFact::Latest {
            missing_sections, ..
        } if !missing_sections.is_empty() => Some(
            Msg::SurveyLacks {
                missing: missing_sections,
            }
            .text(lang),
        ),
        _ => None,
    }
}

fn competitor_name(input: &AssessmentInput, lang: Lang) -> String {
    input
        .requirements
        .as_ref()
        .and_then(|r| r.competitor.clone())
        .filter(|c| !c.trim().is_empty())
        .unwrap_or_else(|| Msg::SomeCompetitor.text(lang))
}

/// Who to visit next in the S1.A03 order: the first person not reached yet, or the first role
/// nobody is known in.
fn next_visit(playbook: &Playbook, facts: &Facts, lang: Lang) -> Option<String> {
    let step = facts.org.next_visit.as_ref()?;
    Some(match &step.name {
        Some(name) => Msg::NextVisit { name }.text(lang),
        None => {
            let code = step.methodology_role.as_str();
            let role = playbook
                .contact_roles
                .it_department
                .iter()
                .find(|r| r.code == code)
                .map_or_else(|| code.to_string(), |r| localize(&r.zh, &r.en, lang).text);
            Msg::RoleUnknown { role: &role }.text(lang)
        }
    })
}

/// Whether S1.A03's order is kept: the first person known in the visit order (IT head, deputy
/// head, technical authority, staff) has been reached. Until then S1.A03 is not done, even when
/// it was carried out with someone lower; with nobody known in the order, the IT head is still
/// to be found.
pub fn visit_order_kept(facts: &Facts) -> bool {
    facts
        .org
        .visit_order
        .iter()
        .find(|s| s.contact_id.is_some())
        .is_some_and(|s| s.reached)
}

/// S1.A03's note: the departments beyond IT (procurement, finance, the equipment office) with
/// nobody known yet, by the playbook's names.
fn departments_to_find(playbook: &Playbook, facts: &Facts, lang: Lang) -> Option<String> {
    use crate::domain::org_chart::Department;
    let wanted = [
        Department::Procurement,
        Department::Finance,
        Department::EquipmentOffice,
    ];
    let names: Vec<String> = wanted
        .iter()
        .filter(|d| facts.org.departments_missing.contains(d))
        .map(|d| {
            let code = d.as_str();
            playbook
                .contact_roles
                .other_departments
                .iter()
                .find(|r| r.code == code)
                .map_or_else(|| code.to_string(), |r| localize(&r.zh, &r.en, lang).text)
        })
        .collect();
    (!names.is_empty()).then(|| Msg::DepartmentsUnknown { names: &names }.text(lang))
}

/// Why to carry out S1.A03 (now or again): the milestones it serves, who to visit next in its
/// order, and the departments with nobody known. `None` when none of these holds.
fn visit_reason(playbook: &Playbook, facts: &Facts, gaps: &[String], lang: Lang) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    if !gaps.is_empty() {
        parts.push(findings(gaps));
    }
    let order_open = !visit_order_kept(facts);
    if !gaps.is_empty() || order_open {
        parts.extend(next_visit(playbook, facts, lang));
    }
    if !parts.is_empty() {
        parts.extend(departments_to_find(playbook, facts, lang));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Key actions of the stage that serve open milestones, those serving most first, minus the
/// completed ones (S1.A03 counts as completed only with its visit order kept); what the
/// requirements call for (S1.A08, S1.A07) goes in front.
pub fn recommendations(
    playbook: &Playbook,
    stage: &Stage,
    input: &AssessmentInput,
    facts: &Facts,
    milestones: &[MilestoneOut],
    lang: Lang,
) -> Vec<Recommendation> {
    let open: Vec<&MilestoneOut> = milestones.iter().filter(|m| !complete(m)).collect();
    let note = survey_note(facts, lang);
    let completed: HashSet<&str> = input.completed_actions.iter().map(String::as_str).collect();
    let mut scored: Vec<(usize, usize, Recommendation)> = stage
        .key_actions
        .iter()
        .enumerate()
        .filter(|(_, a)| {
            let visit = a.code == codes::VISIT_ORDER_ACTION;
            !completed.contains(a.code.as_str()) || (visit && !visit_order_kept(facts))
        })
        .filter_map(|(i, a)| {
            let gaps: Vec<String> = open
                .iter()
                .filter(|m| a.serves.contains(&m.code))
                .map(|m| gap(m, lang))
                .collect();
            let mut reason = if a.code == codes::VISIT_ORDER_ACTION {
                visit_reason(playbook, facts, &gaps, lang)?
            } else if gaps.is_empty() {
                return None;
            } else {
                findings(&gaps)
            };
            if let Some(note) = note
                .as_ref()
                .filter(|_| a.tools.iter().any(|t| t == codes::SURVEY_TOOL))
            {
                reason = format!("{reason}; {note}");
            }
            Some((gaps.len(), i, recommend(playbook, a, reason, lang)))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut by_gaps: Vec<Recommendation> = scored.into_iter().map(|(_, _, r)| r).collect();

    let requirements = input.requirements.clone().unwrap_or_default();
    let mut front: Vec<(&str, String)> = Vec::new();
    if requirements.leaning == Some(Leaning::Competitor) {
        let competitor = competitor_name(input, lang);
        let reason = Msg::WinBackRequirements {
            competitor: &competitor,
        }
        .text(lang);
        front.push((codes::SHAPE_REQUIREMENTS_ACTION, reason));
    }
    if requirements.clarity == Some(Clarity::Unclear) {
        let reason = Msg::GuideUnclearRequirements.text(lang);
        front.push((codes::SHAPE_REQUIREMENTS_ACTION, reason.clone()));
        front.push((codes::GUIDE_REQUIREMENTS_ACTION, reason));
    }
    let mut placed: Vec<Recommendation> = Vec::new();
    for (code, reason) in front {
        if placed.iter().any(|r| r.code == code) {
            continue;
        }
        let Some(a) = playbook.action(code) else {
            continue;
        };
        by_gaps.retain(|r| r.code != code);
        placed.push(recommend(playbook, a, reason, lang));
    }
    placed.extend(by_gaps);
    placed
}

/// The items judged so far, that risks are drawn from.
#[derive(Debug, Clone, Copy)]
pub struct Judged<'a> {
    pub observed: &'a [ObservedOut],
    pub milestones: &'a [MilestoneOut],
}

/// The risks: the seller behind the customer, requirements leaning to a competitor, no
/// supporter, no senior leadership, unverified key information, stale relationships, a
/// single-threaded record.
pub fn risks(
    stage: &Stage,
    current: &Stage,
    input: &AssessmentInput,
    facts: &Facts,
    judged: Judged<'_>,
    single_threaded: Option<(usize, &str)>,
    lang: Lang,
) -> Vec<Risk> {
    let mut found: Vec<(RiskCode, String)> = Vec::new();
    let mut add = |code: RiskCode, msg: Msg| found.push((code, msg.text(lang)));
    let open = open_milestones(stage, current, input);
    if !open.is_empty() {
        let msg = Msg::SellerBehind {
            stage: &stage.code,
            current: &current.code,
            open: &open,
        };
        add(RiskCode::SellerBehindCustomer, msg);
    }
    let leaning = input.requirements.as_ref().and_then(|r| r.leaning);
    if leaning == Some(Leaning::Competitor) {
        let competitor = competitor_name(input, lang);
        let msg = Msg::CompetitorLeaning {
            competitor: &competitor,
        };
        add(RiskCode::CompetitorLeaning, msg);
    }
    if facts.org.supporters.is_empty() {
        add(RiskCode::NoSupporter, Msg::NoSupporter);
    }
    if !facts.org.senior_leadership_reached {
        add(RiskCode::NoSeniorLeadershipContact, Msg::NoSeniorLeadership);
    }
    let unverified = unverified(input, judged);
    if !unverified.is_empty() {
        let msg = Msg::Unverified { codes: &unverified };
        add(RiskCode::UnverifiedKeyInformation, msg);
    }
    if let Some(days) = facts
        .stale_days
        .filter(|_| !facts.org.stale_contacts.is_empty())
    {
        let names: Vec<String> = facts
            .org
            .stale_contacts
            .iter()
            .map(|c| c.name.clone())
            .collect();
        let msg = Msg::StaleRelationship {
            names: &names,
            days,
        };
        add(RiskCode::StaleRelationship, msg);
    }
    if let Some((count, name)) = single_threaded {
        add(
            RiskCode::SingleThreaded,
            Msg::SingleThreaded { count, name },
        );
    }
    found
        .into_iter()
        .map(|(code, detail)| Risk { code, detail })
        .collect()
}

/// When the customer is ahead (the evidence stage after the current one): the current stage's
/// milestones not achieved yet.
fn open_milestones<'a>(stage: &Stage, current: &'a Stage, input: &AssessmentInput) -> Vec<&'a str> {
    if stage.order <= current.order {
        return Vec::new();
    }
    current
        .sales_milestones
        .iter()
        .filter(|m| {
            !input
                .milestones
                .iter()
                .any(|c| c.code == m.code && c.status == ClaimStatus::Achieved)
        })
        .map(|m| m.code.as_str())
        .collect()
}

/// Observed signals and achieved milestones that are not verified (several times, from
/// several angles: S1.N1).
fn unverified(input: &AssessmentInput, judged: Judged<'_>) -> Vec<String> {
    let signals = judged
        .observed
        .iter()
        .filter(|o| o.verification != Verification::Verified)
        .map(|o| o.code.clone());
    let milestones = input
        .milestones
        .iter()
        .filter(|c| {
            let found = judged.milestones.iter().find(|m| m.code == c.code);
            let v = found.map_or_else(|| verification(&c.sources), |m| m.verification);
            c.status == ClaimStatus::Achieved && v != Verification::Verified
        })
        .map(|c| c.code.clone());
    signals.chain(milestones).collect()
}

/// The change from the current stage to the evidence stage, if they differ.
pub fn stage_change(stage: &Stage, current: &Stage) -> Option<StageChange> {
    (stage.code != current.code).then(|| StageChange {
        from: current.code.clone(),
        to: stage.code.clone(),
        direction: if stage.order > current.order {
            Direction::Forward
        } else {
            Direction::Backward
        },
        applied: false,
    })
}
