//! The purchase-stage methodology as data: the built-in playbook (shipped with the binary from
//! `purchase-stages.yaml`), the tenant's authored overlay, versions, item codes and language
//! selection.
//!
//! Pure code: no I/O.
//!
//! - this module: the playbook's shape, the built-in one, item codes;
//! - `authoring`: the tenant's overlay, applying it, authoring a stage;
//! - `lang`: content languages and falling back between them.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

mod authoring;
pub mod codes;
mod lang;

#[cfg(test)]
mod tests;

pub use authoring::{
    apply, author_stage, ActionInput, ItemInput, Overlay, StageContent, StageInput,
};
pub use lang::{localize, Lang, Localized};

/// The methodology source, copied from `shared/methodology/purchase-stages.yaml`.
pub const BUILT_IN_YAML: &str = include_str!("purchase-stages.yaml");

/// Version number of the built-in playbook; tenant changes start at 2.
pub const BUILT_IN_VERSION: i32 = 1;

/// Bilingual text: `zh` is the source language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct I18n {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zh: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

/// A coded item (goal, buying signal, milestone, note).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub code: String,
    #[serde(default)]
    pub zh: Option<String>,
    #[serde(default)]
    pub en: Option<String>,
}

/// A key action: which milestones it serves and which named tools it uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub code: String,
    #[serde(default)]
    pub serves: Vec<String>,
    #[serde(default)]
    pub tools: Vec<String>,
    #[serde(default)]
    pub zh: Option<String>,
    #[serde(default)]
    pub en: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub code: String,
    pub order: u8,
    pub name: I18n,
    pub purchase_progress_percent: u8,
    /// The percentage is this product's proposal, not the source's.
    #[serde(default)]
    pub default: bool,
    #[serde(default)]
    pub customer_goals: Vec<Item>,
    #[serde(default)]
    pub customer_behaviours: Vec<Item>,
    #[serde(default)]
    pub sales_milestones: Vec<Item>,
    #[serde(default)]
    pub key_actions: Vec<Action>,
    #[serde(default)]
    pub notes: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    pub code: String,
    pub zh: Option<String>,
    pub en: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRoleDef {
    pub code: String,
    pub zh: Option<String>,
    pub en: Option<String>,
    #[serde(default)]
    pub visit_priority: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRoles {
    pub it_department: Vec<ContactRoleDef>,
    pub other_departments: Vec<ContactRoleDef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveySection {
    pub code: String,
    pub zh: Option<String>,
    pub en: Option<String>,
}

/// A complete playbook: the built-in one, or the built-in one with a tenant's overlay applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Playbook {
    pub stages: Vec<Stage>,
    pub tools: Vec<Tool>,
    pub contact_roles: ContactRoles,
    pub survey_sections: Vec<SurveySection>,
}

static BUILT_IN: LazyLock<Result<Playbook, String>> = LazyLock::new(|| {
    let mut p: Playbook = yaml_serde::from_str(BUILT_IN_YAML).map_err(|e| e.to_string())?;
    p.stages.sort_by_key(|s| s.order);
    Ok(p)
});

/// The built-in playbook (parsed once).
pub fn built_in() -> Result<&'static Playbook, String> {
    BUILT_IN
        .as_ref()
        .map_err(|e| format!("built-in playbook: {e}"))
}

/// The kinds of coded items and their code letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Goal,
    Behaviour,
    Milestone,
    Action,
    Note,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Goal,
        Kind::Behaviour,
        Kind::Milestone,
        Kind::Action,
        Kind::Note,
    ];

    pub fn letter(self) -> char {
        match self {
            Kind::Goal => 'G',
            Kind::Behaviour => 'B',
            Kind::Milestone => 'M',
            Kind::Action => 'A',
            Kind::Note => 'N',
        }
    }

    /// The kind as `unknown_code` names it.
    pub fn code_kind(self) -> crate::domain::validate::CodeKind {
        use crate::domain::validate::CodeKind;
        match self {
            Kind::Goal => CodeKind::Goal,
            Kind::Behaviour => CodeKind::Signal,
            Kind::Milestone => CodeKind::Milestone,
            Kind::Action => CodeKind::KeyAction,
            Kind::Note => CodeKind::Note,
        }
    }

    pub fn field(self) -> &'static str {
        match self {
            Kind::Goal => "customer_goals",
            Kind::Behaviour => "customer_behaviours",
            Kind::Milestone => "sales_milestones",
            Kind::Action => "key_actions",
            Kind::Note => "notes",
        }
    }
}

/// Parses `S1.B03` into (`S1`, `B`, 3).
pub fn parse_code(code: &str) -> Option<(&str, char, u32)> {
    let (stage, rest) = code.split_once('.')?;
    let mut chars = rest.chars();
    let letter = chars.next()?;
    let n: u32 = chars.as_str().parse().ok()?;
    Some((stage, letter, n))
}

/// Follows the source's pattern: behaviours and actions are two-digit (`S1.B03`, `S1.A10`),
/// goals, milestones and notes are not (`S1.G1`, `S1.M4`, `S1.N1`).
pub fn make_code(stage: &str, kind: Kind, n: u32) -> String {
    match kind {
        Kind::Behaviour | Kind::Action => format!("{stage}.{}{n:02}", kind.letter()),
        Kind::Goal | Kind::Milestone | Kind::Note => format!("{stage}.{}{n}", kind.letter()),
    }
}

impl Stage {
    pub fn codes(&self, kind: Kind) -> Vec<&str> {
        match kind {
            Kind::Action => self.key_actions.iter().map(|a| a.code.as_str()).collect(),
            _ => self.items(kind).iter().map(|i| i.code.as_str()).collect(),
        }
    }

    pub fn items(&self, kind: Kind) -> &[Item] {
        match kind {
            Kind::Goal => &self.customer_goals,
            Kind::Behaviour => &self.customer_behaviours,
            Kind::Milestone => &self.sales_milestones,
            Kind::Note => &self.notes,
            Kind::Action => &[],
        }
    }

    fn items_mut(&mut self, kind: Kind) -> &mut Vec<Item> {
        match kind {
            Kind::Goal => &mut self.customer_goals,
            Kind::Behaviour => &mut self.customer_behaviours,
            Kind::Milestone => &mut self.sales_milestones,
            Kind::Note | Kind::Action => &mut self.notes,
        }
    }

    /// True when the stage has any content beyond its name.
    pub fn is_authored(&self) -> bool {
        !(self.customer_goals.is_empty()
            && self.customer_behaviours.is_empty()
            && self.sales_milestones.is_empty()
            && self.key_actions.is_empty()
            && self.notes.is_empty())
    }
}

impl Playbook {
    pub fn stage(&self, code: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.code == code)
    }

    /// The stage a coded item belongs to (`S1.B03` → S1), if the item exists.
    pub fn stage_of_item(&self, code: &str, kind: Kind) -> Option<&Stage> {
        let (stage, letter, _) = parse_code(code)?;
        if letter != kind.letter() {
            return None;
        }
        let s = self.stage(stage)?;
        s.codes(kind).contains(&code).then_some(s)
    }

    pub fn action(&self, code: &str) -> Option<&Action> {
        self.stages
            .iter()
            .flat_map(|s| s.key_actions.iter())
            .find(|a| a.code == code)
    }
}
