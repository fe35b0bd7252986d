//! `playbook_versions.overlay`: what a tenant authored on top of the built-in methodology.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{read, unknown_version, version_of, write, DecodeError};
use crate::domain::playbook::{Action, Item, Overlay, StageContent};

pub const VERSION: u32 = 1;
const WHAT: &str = "playbook overlay of version";

#[derive(Debug, Serialize, Deserialize)]
struct ItemV1 {
    code: String,
    #[serde(default)]
    zh: Option<String>,
    #[serde(default)]
    en: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ActionV1 {
    code: String,
    #[serde(default)]
    serves: Vec<String>,
    #[serde(default)]
    tools: Vec<String>,
    #[serde(default)]
    zh: Option<String>,
    #[serde(default)]
    en: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StageV1 {
    #[serde(default)]
    customer_goals: Vec<ItemV1>,
    #[serde(default)]
    customer_behaviours: Vec<ItemV1>,
    #[serde(default)]
    sales_milestones: Vec<ItemV1>,
    #[serde(default)]
    key_actions: Vec<ActionV1>,
    #[serde(default)]
    notes: Vec<ItemV1>,
    #[serde(default)]
    purchase_progress_percent: Option<u8>,
}

#[derive(Debug, Serialize, Deserialize)]
struct OverlayV1 {
    #[serde(default = "one")]
    schema_version: u32,
    #[serde(default)]
    stages: BTreeMap<String, StageV1>,
    #[serde(default)]
    counters: BTreeMap<String, u32>,
}

fn one() -> u32 {
    1
}

fn items_in(list: Vec<ItemV1>) -> Vec<Item> {
    list.into_iter()
        .map(|i| Item {
            code: i.code,
            zh: i.zh,
            en: i.en,
        })
        .collect()
}

fn items_out(list: &[Item]) -> Vec<ItemV1> {
    list.iter()
        .map(|i| ItemV1 {
            code: i.code.clone(),
            zh: i.zh.clone(),
            en: i.en.clone(),
        })
        .collect()
}

/// Reads a stored overlay of any known version.
pub fn read_overlay(doc: Value, version: i32) -> Result<Overlay, DecodeError> {
    let v = version_of(&doc).map_err(|e| DecodeError::new(WHAT, version, e))?;
    if v != 1 {
        return Err(unknown_version(WHAT, version, v));
    }
    let o: OverlayV1 = read(doc, WHAT, version)?;
    Ok(Overlay {
        stages: o
            .stages
            .into_iter()
            .map(|(code, s)| {
                let content = StageContent {
                    customer_goals: items_in(s.customer_goals),
                    customer_behaviours: items_in(s.customer_behaviours),
                    sales_milestones: items_in(s.sales_milestones),
                    key_actions: s
                        .key_actions
                        .into_iter()
                        .map(|a| Action {
                            code: a.code,
                            serves: a.serves,
                            tools: a.tools,
                            zh: a.zh,
                            en: a.en,
                        })
                        .collect(),
                    notes: items_in(s.notes),
                    purchase_progress_percent: s.purchase_progress_percent,
                };
                (code, content)
            })
            .collect(),
        counters: o.counters,
    })
}

/// Writes an overlay as the current version.
pub fn write_overlay(o: &Overlay) -> serde_json::Result<Value> {
    write(&OverlayV1 {
        schema_version: VERSION,
        stages: o
            .stages
            .iter()
            .map(|(code, s)| {
                let stage = StageV1 {
                    customer_goals: items_out(&s.customer_goals),
                    customer_behaviours: items_out(&s.customer_behaviours),
                    sales_milestones: items_out(&s.sales_milestones),
                    key_actions: s
                        .key_actions
                        .iter()
                        .map(|a| ActionV1 {
                            code: a.code.clone(),
                            serves: a.serves.clone(),
                            tools: a.tools.clone(),
                            zh: a.zh.clone(),
                            en: a.en.clone(),
                        })
                        .collect(),
                    notes: items_out(&s.notes),
                    purchase_progress_percent: s.purchase_progress_percent,
                };
                (code.clone(), stage)
            })
            .collect(),
        counters: o.counters.clone(),
    })
}
