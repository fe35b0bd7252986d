//! Tenant authoring: the overlay on top of the built-in playbook, and authoring a stage with
//! codes that are never reused.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{make_code, parse_code, Action, Item, Kind, Playbook, Stage};
use crate::domain::validate::{text, Code, CodeKind, In, Violation};

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
        errors.push(Violation::new(format!("{field}.zh"), Code::Required));
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
    let unknown = || {
        vec![Violation::at(
            In::Path,
            "code",
            Code::UnknownCode {
                code: stage_code.to_string(),
                kind: CodeKind::Stage,
            },
        )]
    };
    let base = built_in.stage(stage_code).ok_or_else(unknown)?;
    let current_playbook = apply(built_in, current);
    let current_stage = current_playbook.stage(stage_code).ok_or_else(unknown)?;
    let mut a = Authoring {
        built_in,
        current,
        stage_code,
        base,
        current_stage,
        next: current.clone(),
        content: StageContent::default(),
        seen: HashSet::new(),
        errors: Vec::new(),
    };
    for kind in [Kind::Goal, Kind::Behaviour, Kind::Milestone, Kind::Note] {
        let inputs = match kind {
            Kind::Goal => &input.customer_goals,
            Kind::Behaviour => &input.customer_behaviours,
            Kind::Milestone => &input.sales_milestones,
            _ => &input.notes,
        };
        a.items(kind, inputs);
    }
    a.actions(&input.key_actions);
    a.percent(input.purchase_progress_percent);
    let Authoring {
        mut next,
        content,
        errors,
        ..
    } = a;
    if !errors.is_empty() {
        return Err(errors);
    }
    next.stages.insert(stage_code.to_string(), content);
    percentages_increase(&apply(built_in, &next))?;
    Ok(next)
}

/// One stage being authored: what it was, what it becomes, what is wrong so far.
struct Authoring<'a> {
    built_in: &'a Playbook,
    current: &'a Overlay,
    stage_code: &'a str,
    /// The stage as built in.
    base: &'a Stage,
    /// The stage as the tenant has it now.
    current_stage: &'a Stage,
    next: Overlay,
    content: StageContent,
    /// Codes given in the input so far (each once).
    seen: HashSet<String>,
    errors: Vec<Violation>,
}

impl Authoring<'_> {
    fn error(&mut self, field: impl Into<String>, code: Code) {
        self.errors.push(Violation::new(field, code));
    }

    /// The highest number used so far for `kind`'s codes in this stage (new items count on from it).
    fn counter(&self, kind: Kind) -> u32 {
        counter(self.built_in, self.current, self.stage_code, kind)
    }

    fn set_counter(&mut self, kind: Kind, n: u32) {
        let key = format!("{}.{}", self.stage_code, kind.letter());
        self.next.counters.insert(key, n);
    }

    /// Whether `code` (given at `field`) is new in the input; a duplicate is an error.
    fn first_use(&mut self, field: &str, code: &str) -> bool {
        if self.seen.insert(code.to_string()) {
            return true;
        }
        self.error(format!("{field}.code"), Code::Duplicate);
        false
    }

    /// Goals, signals, milestones or notes: kept (built-in ones unchanged), changed, or new.
    fn items(&mut self, kind: Kind, inputs: &[ItemInput]) {
        if inputs.len() > MAX_ITEMS {
            self.error(
                kind.field(),
                Code::TooMany {
                    max: MAX_ITEMS as u64,
                },
            );
            return;
        }
        let mut n = self.counter(kind);
        for (i, it) in inputs.iter().enumerate() {
            let field = format!("{}[{i}]", kind.field());
            let (zh, en) = check_text(&mut self.errors, &field, &it.zh, &it.en);
            let code = match &it.code {
                None => {
                    n += 1;
                    make_code(self.stage_code, kind, n)
                }
                Some(code) => {
                    if !self.first_use(&field, code) {
                        continue;
                    }
                    let Some(old) = self
                        .current_stage
                        .items(kind)
                        .iter()
                        .find(|e| e.code == *code)
                    else {
                        let kind = kind.code_kind();
                        let code = code.clone();
                        self.error(format!("{field}.code"), Code::UnknownCode { code, kind });
                        continue;
                    };
                    if self.base.items(kind).iter().any(|b| b.code == *code) {
                        if old.zh != zh || old.en != en {
                            self.error(field, Code::ReadOnly);
                        }
                        // Built-in items are not stored in the overlay.
                        continue;
                    }
                    code.clone()
                }
            };
            push_item(&mut self.content, kind, Item { code, zh, en });
        }
        self.set_counter(kind, n);
    }

    /// Key actions: serve milestones of the stage (after this change), use known tools.
    fn actions(&mut self, inputs: &[ActionInput]) {
        if inputs.len() > MAX_ITEMS {
            self.error(
                "key_actions",
                Code::TooMany {
                    max: MAX_ITEMS as u64,
                },
            );
            return;
        }
        let mut milestones: HashSet<String> = self
            .base
            .sales_milestones
            .iter()
            .map(|m| m.code.clone())
            .collect();
        milestones.extend(self.content.sales_milestones.iter().map(|m| m.code.clone()));
        let mut n = self.counter(Kind::Action);
        for (i, a) in inputs.iter().enumerate() {
            let field = format!("key_actions[{i}]");
            let (zh, en) = check_text(&mut self.errors, &field, &a.zh, &a.en);
            self.check_action_refs(&field, a, &milestones);
            let action = |code: String| Action {
                code,
                serves: a.serves.clone(),
                tools: a.tools.clone(),
                zh: zh.clone(),
                en: en.clone(),
            };
            let code = match &a.code {
                None => {
                    n += 1;
                    make_code(self.stage_code, Kind::Action, n)
                }
                Some(code) => {
                    if !self.first_use(&field, code) {
                        continue;
                    }
                    let Some(old) = self
                        .current_stage
                        .key_actions
                        .iter()
                        .find(|e| e.code == *code)
                    else {
                        let kind = CodeKind::KeyAction;
                        let code = code.clone();
                        self.error(format!("{field}.code"), Code::UnknownCode { code, kind });
                        continue;
                    };
                    if self.base.key_actions.iter().any(|b| b.code == *code) {
                        if *old != action(code.clone()) {
                            self.error(field, Code::ReadOnly);
                        }
                        continue;
                    }
                    code.clone()
                }
            };
            self.content.key_actions.push(action(code));
        }
        self.set_counter(Kind::Action, n);
    }

    /// An action serves milestones of the stage and uses tools of the playbook.
    fn check_action_refs(&mut self, field: &str, a: &ActionInput, milestones: &HashSet<String>) {
        for (j, m) in a.serves.iter().enumerate() {
            if !milestones.contains(m) {
                let code = m.clone();
                let kind = CodeKind::Milestone;
                self.error(
                    format!("{field}.serves[{j}]"),
                    Code::UnknownCode { code, kind },
                );
            }
        }
        for (j, t) in a.tools.iter().enumerate() {
            if !self.built_in.tools.iter().any(|k| k.code == *t) {
                let (code, kind) = (t.clone(), CodeKind::Tool);
                self.error(
                    format!("{field}.tools[{j}]"),
                    Code::UnknownCode { code, kind },
                );
            }
        }
    }

    /// A built-in stage keeps the source's percentage; an authored one sets its own.
    fn percent(&mut self, percent: Option<u8>) {
        let source = self.base.purchase_progress_percent;
        match percent {
            Some(p) if self.base.is_authored() && p != source => {
                self.error("purchase_progress_percent", Code::ReadOnly);
            }
            Some(p) if p > 100 => self.error("purchase_progress_percent", Code::range(0, 100)),
            Some(p) if !self.base.is_authored() => {
                self.content.purchase_progress_percent = Some(p);
            }
            _ => {}
        }
    }
}

/// Percentages strictly increase with stage order.
fn percentages_increase(p: &Playbook) -> Result<(), Vec<Violation>> {
    for w in p.stages.windows(2) {
        if w[1].purchase_progress_percent <= w[0].purchase_progress_percent {
            return Err(vec![Violation::new(
                "purchase_progress_percent",
                Code::NotIncreasing {
                    stage: w[0].code.clone(),
                    percent: w[0].purchase_progress_percent,
                    value: w[1].purchase_progress_percent,
                },
            )]);
        }
    }
    Ok(())
}

fn push_item(content: &mut StageContent, kind: Kind, item: Item) {
    match kind {
        Kind::Goal => content.customer_goals.push(item),
        Kind::Behaviour => content.customer_behaviours.push(item),
        Kind::Milestone => content.sales_milestones.push(item),
        Kind::Note | Kind::Action => content.notes.push(item),
    }
}
