//! The purchase-stage methodology as data: the built-in playbook (shipped with the binary from
//! `purchase-stages.yaml`), the tenant's authored overlay, versions, item codes and language
//! selection.
//!
//! Pure code: no I/O.

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::validate::Violation;

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

// ---------------------------------------------------------------------------------------------
// Tenant authoring

/// What a tenant authored: per stage, its items (for S1: the items added to the built-in ones)
/// and the percentage; plus the highest number handed out per code prefix, so codes are never
/// reused even after an item is removed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Overlay {
    #[serde(default)]
    pub stages: BTreeMap<String, StageContent>,
    #[serde(default)]
    pub counters: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StageContent {
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
    #[serde(default)]
    pub purchase_progress_percent: Option<u8>,
}

/// The built-in playbook with `overlay` applied.
pub fn apply(built_in: &Playbook, overlay: &Overlay) -> Playbook {
    let mut p = built_in.clone();
    for stage in &mut p.stages {
        let Some(content) = overlay.stages.get(&stage.code) else {
            continue;
        };
        // Built-in items stay (stage 1); authored ones follow them.
        for kind in [Kind::Goal, Kind::Behaviour, Kind::Milestone, Kind::Note] {
            let extra = match kind {
                Kind::Goal => &content.customer_goals,
                Kind::Behaviour => &content.customer_behaviours,
                Kind::Milestone => &content.sales_milestones,
                _ => &content.notes,
            };
            stage.items_mut(kind).extend(extra.iter().cloned());
        }
        stage
            .key_actions
            .extend(content.key_actions.iter().cloned());
        if let Some(pct) = content.purchase_progress_percent {
            stage.purchase_progress_percent = pct;
            stage.default = false;
        }
    }
    p
}

/// One item of a stage as a tenant sends it; items without `code` are new.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    /// Omit for a new item; the server assigns the next code.
    pub code: Option<String>,
    pub zh: Option<String>,
    pub en: Option<String>,
}

/// A key action as a tenant sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    /// Omit for a new action; the server assigns the next code.
    pub code: Option<String>,
    pub zh: Option<String>,
    pub en: Option<String>,
    /// Codes of milestones of the same stage that this action advances.
    #[serde(default)]
    pub serves: Vec<String>,
    /// Codes of named tools (see `tools` in the playbook).
    #[serde(default)]
    pub tools: Vec<String>,
}

/// The body of `PUT /v1/playbook/stages/{code}`: the stage's complete authored content.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageInput {
    #[serde(default)]
    pub customer_goals: Vec<ItemInput>,
    #[serde(default)]
    pub customer_behaviours: Vec<ItemInput>,
    #[serde(default)]
    pub sales_milestones: Vec<ItemInput>,
    #[serde(default)]
    pub key_actions: Vec<ActionInput>,
    #[serde(default)]
    pub notes: Vec<ItemInput>,
    /// 0-100, strictly increasing with stage order. Stage 1 keeps its source value (10).
    #[schema(minimum = 0, maximum = 100)]
    pub purchase_progress_percent: Option<u8>,
}

const MAX_TEXT: usize = 2000;
const MAX_ITEMS: usize = 100;

fn check_text(
    errors: &mut Vec<Violation>,
    field: &str,
    zh: &Option<String>,
    en: &Option<String>,
) -> (Option<String>, Option<String>) {
    let clean = |v: &Option<String>, name: &str, errors: &mut Vec<Violation>| -> Option<String> {
        let v = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
        if v.chars().count() > MAX_TEXT {
            errors.push(Violation::new(
                format!("{field}.{name}"),
                format!("at most {MAX_TEXT} characters"),
            ));
        }
        if v.contains('\0') {
            errors.push(Violation::new(
                format!("{field}.{name}"),
                "must not contain NUL",
            ));
        }
        Some(v.to_string())
    };
    let zh = clean(zh, "zh", errors);
    let en = clean(en, "en", errors);
    if zh.is_none() && en.is_none() {
        errors.push(Violation::new(field.to_string(), "needs a zh or en text"));
    }
    (zh, en)
}

/// Highest number used so far for `stage`+`kind` across built-in items, the current overlay's
/// counter and current items.
fn counter(built_in: &Playbook, overlay: &Overlay, stage: &str, kind: Kind) -> u32 {
    let key = format!("{stage}.{}", kind.letter());
    let from_counter = overlay.counters.get(&key).copied().unwrap_or(0);
    let from_built_in = built_in
        .stage(stage)
        .map(|s| {
            s.codes(kind)
                .iter()
                .filter_map(|c| parse_code(c).map(|(_, _, n)| n))
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    from_counter.max(from_built_in)
}

/// Replaces the authored content of `stage_code` with `input`, returning the new overlay.
/// Errors name the offending field. The stage must exist (the caller answers 404 otherwise).
pub fn author_stage(
    built_in: &Playbook,
    current: &Overlay,
    stage_code: &str,
    input: &StageInput,
) -> Result<Overlay, Vec<Violation>> {
    let mut errors = Vec::new();
    let Some(base) = built_in.stage(stage_code) else {
        return Err(vec![Violation::new("code", "unknown stage")]);
    };
    let current_playbook = apply(built_in, current);
    let Some(current_stage) = current_playbook.stage(stage_code) else {
        return Err(vec![Violation::new("code", "unknown stage")]);
    };
    let is_built_in_stage = base.is_authored();
    let mut next = current.clone();
    let mut content = StageContent::default();
    let mut seen: HashSet<String> = HashSet::new();

    // Items of every kind but actions.
    for kind in [Kind::Goal, Kind::Behaviour, Kind::Milestone, Kind::Note] {
        let inputs = match kind {
            Kind::Goal => &input.customer_goals,
            Kind::Behaviour => &input.customer_behaviours,
            Kind::Milestone => &input.sales_milestones,
            _ => &input.notes,
        };
        if inputs.len() > MAX_ITEMS {
            errors.push(Violation::new(
                kind.field(),
                format!("at most {MAX_ITEMS} items"),
            ));
            continue;
        }
        let mut n = counter(built_in, current, stage_code, kind);
        let existing: Vec<&Item> = current_stage.items(kind).iter().collect();
        for (i, it) in inputs.iter().enumerate() {
            let field = format!("{}[{i}]", kind.field());
            let (zh, en) = check_text(&mut errors, &field, &it.zh, &it.en);
            match &it.code {
                Some(code) => {
                    if !seen.insert(code.clone()) {
                        errors.push(Violation::new(format!("{field}.code"), "duplicate code"));
                        continue;
                    }
                    let Some(old) = existing.iter().find(|e| e.code == *code) else {
                        errors.push(Violation::new(
                            format!("{field}.code"),
                            format!("{code} is not a {} item of {stage_code}; omit the code for a new item", kind.field()),
                        ));
                        continue;
                    };
                    if base.items(kind).iter().any(|b| b.code == *code) {
                        if old.zh != zh || old.en != en {
                            errors.push(Violation::new(
                                field.clone(),
                                format!("{code} is a built-in item and cannot be edited"),
                            ));
                        }
                        // Built-in items are not stored in the overlay.
                        continue;
                    }
                    push_item(
                        &mut content,
                        kind,
                        Item {
                            code: code.clone(),
                            zh,
                            en,
                        },
                    );
                }
                None => {
                    n += 1;
                    push_item(
                        &mut content,
                        kind,
                        Item {
                            code: make_code(stage_code, kind, n),
                            zh,
                            en,
                        },
                    );
                }
            }
        }
        next.counters
            .insert(format!("{stage_code}.{}", kind.letter()), n);
    }

    // Milestones after the change (for `serves`).
    let mut milestones: HashSet<String> = base
        .sales_milestones
        .iter()
        .map(|m| m.code.clone())
        .collect();
    milestones.extend(content.sales_milestones.iter().map(|m| m.code.clone()));
    let tools: HashSet<&str> = built_in.tools.iter().map(|t| t.code.as_str()).collect();

    if input.key_actions.len() > MAX_ITEMS {
        errors.push(Violation::new(
            "key_actions",
            format!("at most {MAX_ITEMS} items"),
        ));
    } else {
        let mut n = counter(built_in, current, stage_code, Kind::Action);
        for (i, a) in input.key_actions.iter().enumerate() {
            let field = format!("key_actions[{i}]");
            let (zh, en) = check_text(&mut errors, &field, &a.zh, &a.en);
            for (j, s) in a.serves.iter().enumerate() {
                if !milestones.contains(s) {
                    errors.push(Violation::new(
                        format!("{field}.serves[{j}]"),
                        format!("{s} is not a milestone of {stage_code}"),
                    ));
                }
            }
            for (j, t) in a.tools.iter().enumerate() {
                if !tools.contains(t.as_str()) {
                    errors.push(Violation::new(
                        format!("{field}.tools[{j}]"),
                        format!("unknown tool {t}"),
                    ));
                }
            }
            let action = |code: String| Action {
                code,
                serves: a.serves.clone(),
                tools: a.tools.clone(),
                zh: zh.clone(),
                en: en.clone(),
            };
            match &a.code {
                Some(code) => {
                    if !seen.insert(code.clone()) {
                        errors.push(Violation::new(format!("{field}.code"), "duplicate code"));
                        continue;
                    }
                    let Some(old) = current_stage.key_actions.iter().find(|e| e.code == *code)
                    else {
                        errors.push(Violation::new(
                            format!("{field}.code"),
                            format!("{code} is not a key action of {stage_code}; omit the code for a new action"),
                        ));
                        continue;
                    };
                    if base.key_actions.iter().any(|b| b.code == *code) {
                        if *old != action(code.clone()) {
                            errors.push(Violation::new(
                                field.clone(),
                                format!("{code} is a built-in action and cannot be edited"),
                            ));
                        }
                        continue;
                    }
                    content.key_actions.push(action(code.clone()));
                }
                None => {
                    n += 1;
                    content
                        .key_actions
                        .push(action(make_code(stage_code, Kind::Action, n)));
                }
            }
        }
        next.counters.insert(format!("{stage_code}.A"), n);
    }

    match input.purchase_progress_percent {
        Some(p) if is_built_in_stage && p != base.purchase_progress_percent => {
            errors.push(Violation::new(
                "purchase_progress_percent",
                format!(
                    "{stage_code} keeps the source's {} %",
                    base.purchase_progress_percent
                ),
            ))
        }
        Some(p) if p > 100 => {
            errors.push(Violation::new("purchase_progress_percent", "must be 0-100"))
        }
        Some(p) if !is_built_in_stage => content.purchase_progress_percent = Some(p),
        _ => {}
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    next.stages.insert(stage_code.to_string(), content);

    // Percentages strictly increase with stage order.
    let result = apply(built_in, &next);
    for w in result.stages.windows(2) {
        if w[1].purchase_progress_percent <= w[0].purchase_progress_percent {
            return Err(vec![Violation::new(
                "purchase_progress_percent",
                format!(
                    "must increase with stage order: {} has {} %, {} would have {} %",
                    w[0].code,
                    w[0].purchase_progress_percent,
                    w[1].code,
                    w[1].purchase_progress_percent
                ),
            )]);
        }
    }
    Ok(next)
}

fn push_item(content: &mut StageContent, kind: Kind, item: Item) {
    match kind {
        Kind::Goal => content.customer_goals.push(item),
        Kind::Behaviour => content.customer_behaviours.push(item),
        Kind::Milestone => content.sales_milestones.push(item),
        Kind::Note | Kind::Action => content.notes.push(item),
    }
}

// ---------------------------------------------------------------------------------------------
// Language selection

/// A content language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Chinese, the source language (default).
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// Picks the language from an `Accept-Language` header: the highest-weighted zh* or en*
    /// range; `None` when neither is acceptable.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, usize, Lang)> = None;
        for (i, part) in header.split(',').enumerate() {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = if tag == "zh" || tag.starts_with("zh-") {
                Lang::Zh
            } else if tag == "en" || tag.starts_with("en-") {
                Lang::En
            } else {
                continue;
            };
            if q <= 0.0 {
                continue;
            }
            let better = match best {
                None => true,
                Some((bq, bi, _)) => q > bq || (q == bq && i < bi),
            };
            if better {
                best = Some((q, i, lang));
            }
        }
        best.map(|(_, _, l)| l)
    }
}

/// Text in the asked language, or the other one when it is missing (`fallback`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Localized {
    pub text: String,
    /// The language `text` is in.
    pub lang: Lang,
    /// True when the asked language was missing and the other one is served.
    pub fallback: bool,
}

pub fn localize(zh: &Option<String>, en: &Option<String>, lang: Lang) -> Localized {
    let (want, other, other_lang) = match lang {
        Lang::Zh => (zh, en, Lang::En),
        Lang::En => (en, zh, Lang::Zh),
    };
    match (want, other) {
        (Some(t), _) => Localized {
            text: t.clone(),
            lang,
            fallback: false,
        },
        (None, Some(t)) => Localized {
            text: t.clone(),
            lang: other_lang,
            fallback: true,
        },
        (None, None) => Localized {
            text: String::new(),
            lang,
            fallback: true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bi() -> &'static Playbook {
        built_in().unwrap()
    }

    fn item(code: Option<&str>, en: &str) -> ItemInput {
        ItemInput {
            code: code.map(str::to_string),
            zh: None,
            en: Some(en.to_string()),
        }
    }

    #[test]
    fn built_in_playbook_has_the_source_content() {
        let p = bi();
        assert_eq!(p.stages.len(), 6);
        let s1 = p.stage("S1").unwrap();
        assert_eq!(s1.purchase_progress_percent, 10);
        assert_eq!(s1.customer_goals.len(), 3);
        assert_eq!(s1.customer_behaviours.len(), 14);
        assert_eq!(s1.sales_milestones.len(), 4);
        assert_eq!(s1.key_actions.len(), 10);
        assert_eq!(s1.notes[0].code, "S1.N1");
        assert_eq!(p.tools.len(), 14);
        assert_eq!(p.survey_sections.len(), 12);
        assert_eq!(p.contact_roles.it_department.len(), 4);
        let pcts: Vec<u8> = p
            .stages
            .iter()
            .map(|s| s.purchase_progress_percent)
            .collect();
        assert_eq!(pcts, [10, 30, 50, 70, 90, 100]);
        assert!(!p.stage("S2").unwrap().is_authored());
        // Every action serves milestones of its stage and uses known tools.
        let tools: HashSet<&str> = p.tools.iter().map(|t| t.code.as_str()).collect();
        for a in &s1.key_actions {
            assert!(!a.serves.is_empty());
            assert!(a
                .serves
                .iter()
                .all(|m| p.stage_of_item(m, Kind::Milestone).is_some()));
            assert!(a.tools.iter().all(|t| tools.contains(t.as_str())));
        }
    }

    #[test]
    fn codes() {
        assert_eq!(parse_code("S1.B03"), Some(("S1", 'B', 3)));
        assert_eq!(parse_code("S12.A101"), Some(("S12", 'A', 101)));
        assert_eq!(parse_code("S1"), None);
        assert_eq!(make_code("S2", Kind::Milestone, 1), "S2.M1");
        assert_eq!(make_code("S2", Kind::Action, 3), "S2.A03");
        assert!(bi().stage_of_item("S1.B14", Kind::Behaviour).is_some());
        assert!(bi().stage_of_item("S1.B15", Kind::Behaviour).is_none());
        assert!(bi().stage_of_item("S1.M01", Kind::Behaviour).is_none());
    }

    #[test]
    fn authoring_stage_two_assigns_codes_and_sets_percent() {
        let input = StageInput {
            customer_behaviours: vec![
                item(None, "Issues an RFP"),
                item(None, "Forms a project team"),
            ],
            sales_milestones: vec![item(None, "Project team mapped")],
            key_actions: vec![ActionInput {
                code: None,
                zh: Some("拜访项目组".into()),
                en: None,
                serves: vec![],
                tools: vec!["technical_exchange".into()],
            }],
            purchase_progress_percent: Some(25),
            ..Default::default()
        };
        let o = author_stage(bi(), &Overlay::default(), "S2", &input).unwrap();
        let p = apply(bi(), &o);
        let s2 = p.stage("S2").unwrap();
        assert_eq!(s2.codes(Kind::Behaviour), ["S2.B01", "S2.B02"]);
        assert_eq!(s2.codes(Kind::Milestone), ["S2.M1"]);
        assert_eq!(s2.codes(Kind::Action), ["S2.A01"]);
        assert_eq!(s2.purchase_progress_percent, 25);
        assert!(!s2.default);

        // Removing B01 and adding a new one never reuses B01/B02.
        let again = StageInput {
            customer_behaviours: vec![
                item(Some("S2.B02"), "Forms a project team (edited)"),
                item(None, "new"),
            ],
            sales_milestones: vec![item(Some("S2.M1"), "Project team mapped")],
            key_actions: vec![ActionInput {
                code: Some("S2.A01".into()),
                zh: Some("拜访项目组".into()),
                en: Some("Visit the project team".into()),
                serves: vec!["S2.M1".into()],
                tools: vec![],
            }],
            purchase_progress_percent: Some(25),
            ..Default::default()
        };
        let o2 = author_stage(bi(), &o, "S2", &again).unwrap();
        let p2 = apply(bi(), &o2);
        let s2 = p2.stage("S2").unwrap();
        assert_eq!(s2.codes(Kind::Behaviour), ["S2.B02", "S2.B03"]);
        assert_eq!(
            s2.customer_behaviours[0].en.as_deref(),
            Some("Forms a project team (edited)")
        );
        assert_eq!(s2.key_actions[0].serves, ["S2.M1"]);
        let o3 = author_stage(bi(), &o2, "S2", &StageInput::default()).unwrap();
        let o4 = author_stage(
            bi(),
            &o3,
            "S2",
            &StageInput {
                customer_behaviours: vec![item(None, "x")],
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            apply(bi(), &o4).stage("S2").unwrap().codes(Kind::Behaviour),
            ["S2.B04"]
        );
    }

    #[test]
    fn stage_one_is_only_added_to() {
        let s1 = bi().stage("S1").unwrap();
        let b01 = &s1.customer_behaviours[0];
        let add = StageInput {
            customer_behaviours: vec![
                ItemInput {
                    code: Some("S1.B01".into()),
                    zh: b01.zh.clone(),
                    en: b01.en.clone(),
                },
                item(None, "Hires a CIO"),
            ],
            ..Default::default()
        };
        let o = author_stage(bi(), &Overlay::default(), "S1", &add).unwrap();
        let p = apply(bi(), &o);
        let codes = p.stage("S1").unwrap().codes(Kind::Behaviour);
        assert_eq!(codes.len(), 15, "built-in items stay even when omitted");
        assert_eq!(codes[14], "S1.B15");

        let edit = StageInput {
            customer_behaviours: vec![item(Some("S1.B01"), "changed")],
            ..Default::default()
        };
        let e = author_stage(bi(), &Overlay::default(), "S1", &edit).unwrap_err();
        assert_eq!(e[0].path, "customer_behaviours[0]");
        let pct = StageInput {
            purchase_progress_percent: Some(15),
            ..Default::default()
        };
        let e = author_stage(bi(), &Overlay::default(), "S1", &pct).unwrap_err();
        assert_eq!(e[0].path, "purchase_progress_percent");
    }

    #[test]
    fn authoring_validation() {
        let bad = StageInput {
            customer_goals: vec![ItemInput {
                code: None,
                zh: None,
                en: Some("  ".into()),
            }],
            sales_milestones: vec![item(Some("S2.M09"), "unknown")],
            key_actions: vec![ActionInput {
                code: None,
                zh: Some("x".into()),
                en: None,
                serves: vec!["S1.M1".into()],
                tools: vec!["hammer".into()],
            }],
            notes: vec![item(Some("S1.N1"), "other stage")],
            ..Default::default()
        };
        let e = author_stage(bi(), &Overlay::default(), "S2", &bad).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            fields,
            [
                "customer_goals[0]",
                "sales_milestones[0].code",
                "notes[0].code",
                "key_actions[0].serves[0]",
                "key_actions[0].tools[0]"
            ]
        );
        let dup = StageInput {
            customer_behaviours: vec![item(None, "a")],
            ..Default::default()
        };
        let o = author_stage(bi(), &Overlay::default(), "S2", &dup).unwrap();
        let twice = StageInput {
            customer_behaviours: vec![item(Some("S2.B01"), "a"), item(Some("S2.B01"), "b")],
            ..Default::default()
        };
        let e = author_stage(bi(), &o, "S2", &twice).unwrap_err();
        assert_eq!(e[0].path, "customer_behaviours[1].code");
    }

    #[test]
    fn percentages_must_increase() {
        let too_high = StageInput {
            purchase_progress_percent: Some(60),
            ..Default::default()
        };
        let e = author_stage(bi(), &Overlay::default(), "S2", &too_high).unwrap_err();
        assert!(e[0].message.contains("S3"), "{}", e[0].message);
        let too_low = StageInput {
            purchase_progress_percent: Some(10),
            ..Default::default()
        };
        assert!(author_stage(bi(), &Overlay::default(), "S2", &too_low).is_err());
        let over = StageInput {
            purchase_progress_percent: Some(101),
            ..Default::default()
        };
        assert!(author_stage(bi(), &Overlay::default(), "S6", &over).is_err());
        let ok = StageInput {
            purchase_progress_percent: Some(45),
            ..Default::default()
        };
        assert!(author_stage(bi(), &Overlay::default(), "S2", &ok).is_ok());
    }

    #[test]
    fn language_selection() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Some(Lang::En));
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Some(Lang::Zh)
        );
        assert_eq!(Lang::from_accept_language("fr, en;q=0.5"), Some(Lang::En));
        assert_eq!(
            Lang::from_accept_language("en;q=0.4, zh;q=0.6"),
            Some(Lang::Zh)
        );
        assert_eq!(Lang::from_accept_language("fr"), None);
        assert_eq!(Lang::from_accept_language("en;q=0"), None);
        let l = localize(&Some("中".into()), &None, Lang::En);
        assert_eq!(
            (l.text.as_str(), l.lang, l.fallback),
            ("中", Lang::Zh, true)
        );
        let l = localize(&Some("中".into()), &Some("en".into()), Lang::En);
        assert!(!l.fallback);
    }
}
