//! The codes of the built-in stage 1 that the engine's rules name, each named once here.
//!
//! Tenants author stages 2-6 and may change stage 1's texts, but these codes are the
//! methodology's (`purchase-stages.yaml`): the engine's rules refer to them by these names,
//! never by a literal, and a test checks each one is in the built-in playbook as the kind
//! named here.

/// Milestone: the IT department's organisation is known (the org chart decides it).
pub const ORG_CHART_MILESTONE: &str = "S1.M1";
/// Milestone: the current state is surveyed (the latest survey's completeness decides it).
pub const SURVEY_MILESTONE: &str = "S1.M2";
/// Milestone: the seller took part in the customer's planning (activities of
/// [`PLANNING_ACTION`] decide it from the record).
pub const PLANNING_MILESTONE: &str = "S1.M3";
/// Milestone: the requirements lean to us.
pub const LEANING_MILESTONE: &str = "S1.M4";

/// Key action: visit the IT department in order (who to see next comes with it).
pub const VISIT_ORDER_ACTION: &str = "S1.A03";
/// Key action: guide the requirements (recommended first when they are unclear).
pub const GUIDE_REQUIREMENTS_ACTION: &str = "S1.A07";
/// Key action: shape the requirements toward us (recommended first when they lean to a
/// competitor or are unclear).
pub const SHAPE_REQUIREMENTS_ACTION: &str = "S1.A08";
/// Key action: take part in the customer's planning.
pub const PLANNING_ACTION: &str = "S1.A09";

/// Tool: the current-state survey (its completeness note goes with the actions that use it).
pub const SURVEY_TOOL: &str = "current_state_survey";

/// Milestones the stored data (org chart, survey) decides.
pub const DATA_MILESTONES: [&str; 2] = [ORG_CHART_MILESTONE, SURVEY_MILESTONE];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::playbook::{built_in, Kind};

    #[test]
    fn every_named_code_is_in_the_built_in_playbook_as_its_kind() {
        let p = built_in().unwrap();
        for m in [
            ORG_CHART_MILESTONE,
            SURVEY_MILESTONE,
            PLANNING_MILESTONE,
            LEANING_MILESTONE,
        ] {
            assert!(p.stage_of_item(m, Kind::Milestone).is_some(), "{m}");
        }
        for a in [
            VISIT_ORDER_ACTION,
            GUIDE_REQUIREMENTS_ACTION,
            SHAPE_REQUIREMENTS_ACTION,
            PLANNING_ACTION,
        ] {
            assert!(p.action(a).is_some(), "{a}");
        }
        assert!(
            p.stages
                .iter()
                .flat_map(|s| &s.key_actions)
                .any(|a| a.tools.iter().any(|t| t == SURVEY_TOOL)),
            "{SURVEY_TOOL}"
        );
    }
}
