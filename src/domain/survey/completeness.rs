//! Which of the survey form's sections a record fills.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{BudgetStatus, InventoryCategory, Sections, SECTION_CODES};
use crate::domain::playbook::{localize, Lang, Playbook};

/// Is the section with this code filled?
pub fn is_filled(s: &Sections, code: &str) -> bool {
    match code {
        "topology" => s.topology.as_ref().is_some_and(|t| {
            t.summary.is_some()
                || t.sites.is_some()
                || !t.network_layers.is_empty()
                || t.diagram_ref.is_some()
        }),
        "inventory" => !s.inventory.is_empty(),
        "applications" => !s.applications.is_empty(),
        "business_platforms" => !s.business_platforms.is_empty(),
        "daily_traffic" => s
            .daily_traffic
            .as_ref()
            .is_some_and(|d| d.average_mbps.is_some() || d.peak_mbps.is_some()),
        "security_measures" => !s.security_measures.is_empty(),
        "servers_storage" => s.inventory.iter().any(|i| {
            matches!(
                i.category,
                InventoryCategory::Server | InventoryCategory::Storage
            )
        }),
        "problems" => !s.problems.is_empty(),
        "requirements_goals" => !s.requirements_goals.is_empty(),
        "third_parties" => !s.third_parties.is_empty(),
        "budget" => s.budget.as_ref().is_some_and(|b| {
            b.estimate.is_some()
                || b.ceiling.is_some()
                || b.status.is_some_and(|st| st != BudgetStatus::Unknown)
        }),
        "timeline" => s
            .timeline
            .as_ref()
            .is_some_and(|t| t.earliest_start.is_some() || t.deadline.is_some()),
        _ => false,
    }
}

/// A section with its names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SectionName {
    pub code: String,
    pub zh: String,
    pub en: String,
}

/// Which sections are filled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Completeness {
    /// Filled sections over all 12, rounded.
    pub percent: u8,
    /// Section code → filled.
    pub sections: std::collections::BTreeMap<String, bool>,
    pub missing_sections: Vec<SectionName>,
}

pub fn section_name(playbook: &Playbook, code: &str) -> SectionName {
    let s = playbook.survey_sections.iter().find(|s| s.code == code);
    SectionName {
        code: code.to_string(),
        zh: s
            .and_then(|s| s.zh.clone())
            .unwrap_or_else(|| code.to_string()),
        en: s
            .and_then(|s| s.en.clone())
            .unwrap_or_else(|| code.to_string()),
    }
}

pub fn completeness(playbook: &Playbook, s: &Sections) -> Completeness {
    let mut sections = std::collections::BTreeMap::new();
    let mut missing = Vec::new();
    let mut filled = 0usize;
    for code in SECTION_CODES {
        let f = is_filled(s, code);
        if f {
            filled += 1;
        } else {
            missing.push(section_name(playbook, code));
        }
        sections.insert(code.to_string(), f);
    }
    Completeness {
        percent: ((filled * 100 + SECTION_CODES.len() / 2) / SECTION_CODES.len()) as u8,
        sections,
        missing_sections: missing,
    }
}

/// Names of the missing sections in `lang`.
pub fn missing_names(c: &Completeness, lang: Lang) -> Vec<String> {
    c.missing_sections
        .iter()
        .map(|m| localize(&Some(m.zh.clone()), &Some(m.en.clone()), lang).text)
        .collect()
}
