//! Tenant authoring: the overlay on top of the built-in playbook, and authoring a stage with
//! codes that are never reused.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{make_code, parse_code, Action, Item, Kind, Playbook};
use crate::domain::validate::{text, Violation};

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
    #[schema(max_length = 2000)]
    pub zh: Option<String>,
    #[schema(max_length = 2000)]
    pub en: Option<String>,
}

/// A key action as a tenant sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    /// Omit for a new action; the server assigns the next code.
    pub code: Option<String>,
    #[schema(max_length = 2000)]
    pub zh: Option<String>,
    #[schema(max_length = 2000)]
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
    #[schema(max_items = 100)]
    pub customer_goals: Vec<ItemInput>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub customer_behaviours: Vec<ItemInput>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub sales_milestones: Vec<ItemInput>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub key_actions: Vec<ActionInput>,
    #[serde(default)]
    #[schema(max_items = 100)]
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
        text(errors, &format!("{field}.{name}"), v.as_deref()?, MAX_TEXT)
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
