//! The timeline of an account or an opportunity: what happened, newest first, each entry
//! summarised in zh or en.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::activity::ActivityKind;
use crate::domain::playbook::Lang;
use crate::domain::text_enum;

text_enum!(
    /// What a timeline entry is.
    TimelineType {
        Activity => "activity",
        StageAssessment => "stage_assessment",
        StageChange => "stage_change",
        SurveyRecord => "survey_record",
    }
);

/// What an entry says, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Activity {
        kind: ActivityKind,
        subject: String,
    },
    StageAssessment {
        evidence_stage: String,
        from_stage: String,
        ready: bool,
    },
    StageChange {
        from: String,
        to: String,
        reason: Option<String>,
    },
    SurveyRecord {
        completeness_percent: u8,
    },
}

impl Entry {
    pub fn kind(&self) -> TimelineType {
        match self {
            Entry::Activity { .. } => TimelineType::Activity,
            Entry::StageAssessment { .. } => TimelineType::StageAssessment,
            Entry::StageChange { .. } => TimelineType::StageChange,
            Entry::SurveyRecord { .. } => TimelineType::SurveyRecord,
        }
    }

    /// One line in `lang`.
    pub fn summary(&self, lang: Lang) -> String {
        match (self, lang) {
            (Entry::Activity { kind, subject }, Lang::Zh) => {
                format!("{}:{subject}", kind.label(lang))
            }
            (Entry::Activity { kind, subject }, Lang::En) => {
                format!("{}: {subject}", kind.label(lang))
            }
            (
                Entry::StageAssessment {
                    evidence_stage,
                    from_stage,
                    ready,
                },
                Lang::Zh,
            ) => format!(
                "阶段评估:证据阶段 {evidence_stage}(当时处于 {from_stage}),{}",
                if *ready {
                    "可推进"
                } else {
                    "尚不可推进"
                }
            ),
            (
                Entry::StageAssessment {
                    evidence_stage,
                    from_stage,
                    ready,
                },
                Lang::En,
            ) => format!(
                "Stage assessment: evidence stage {evidence_stage} (then in {from_stage}), {}",
                if *ready {
                    "ready to advance"
                } else {
                    "not ready to advance"
                }
            ),
            (Entry::StageChange { from, to, reason }, Lang::Zh) => match reason {
                Some(r) => format!("阶段变更:{from} → {to}({r})"),
                None => format!("阶段变更:{from} → {to}"),
            },
            (Entry::StageChange { from, to, reason }, Lang::En) => match reason {
                Some(r) => format!("Stage change: {from} → {to} ({r})"),
                None => format!("Stage change: {from} → {to}"),
            },
            (
                Entry::SurveyRecord {
                    completeness_percent,
                },
                Lang::Zh,
            ) => {
                format!("客户现状调查(完整度 {completeness_percent}%)")
            }
            (
                Entry::SurveyRecord {
                    completeness_percent,
                },
                Lang::En,
            ) => {
                format!("Current-state survey ({completeness_percent}% complete)")
            }
        }
    }
}

/// One entry of the timeline, as answered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineItem {
    #[serde(rename = "type")]
    pub item_type: TimelineType,
    pub id: uuid::Uuid,
    pub at: chrono::DateTime<chrono::Utc>,
    pub summary: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_in_both_languages() {
        let e = Entry::Activity {
            kind: ActivityKind::Visit,
            subject: "拜访王主任".into(),
        };
        assert_eq!(e.summary(Lang::Zh), "拜访:拜访王主任");
        assert_eq!(e.summary(Lang::En), "Visit: 拜访王主任");
        let c = Entry::StageChange {
            from: "S1".into(),
            to: "S2".into(),
            reason: None,
        };
        assert_eq!(c.summary(Lang::En), "Stage change: S1 → S2");
        let s = Entry::SurveyRecord {
            completeness_percent: 80,
        };
        assert_eq!(s.summary(Lang::Zh), "客户现状调查(完整度 80%)");
        assert_eq!(s.kind(), TimelineType::SurveyRecord);
    }
}
