//! What changed between two records of the same account.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{InventoryItem, Sections};

/// What changed in one section between a base record and this one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SectionDiff {
    pub section: String,
    /// Items only in this record (list sections).
    pub added: Vec<serde_json::Value>,
    /// Items only in the base record (list sections).
    pub removed: Vec<serde_json::Value>,
    /// Items (matched by key) or single-value sections that differ.
    pub changed: Vec<Change>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Change {
    /// The matching key, e.g. `server|Huawei|RH2288` for inventory items.
    pub key: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

fn to_json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

fn diff_list<T: Serialize + PartialEq>(
    section: &str,
    base: &[T],
    this: &[T],
    key: impl Fn(&T) -> String,
) -> Option<SectionDiff> {
    let mut d = SectionDiff {
        section: section.to_string(),
        added: vec![],
        removed: vec![],
        changed: vec![],
    };
    let mut used = vec![false; base.len()];
    for item in this {
        let k = key(item);
        match base
            .iter()
            .enumerate()
            .position(|(i, b)| !used[i] && key(b) == k)
        {
            Some(i) => {
                used[i] = true;
                if base[i] != *item {
                    d.changed.push(Change {
                        key: k,
                        before: to_json(&base[i]),
                        after: to_json(item),
                    });
                }
            }
            None => d.added.push(to_json(item)),
        }
    }
    for (i, b) in base.iter().enumerate() {
        if !used[i] {
            d.removed.push(to_json(b));
        }
    }
    (!d.added.is_empty() || !d.removed.is_empty() || !d.changed.is_empty()).then_some(d)
}

fn diff_value<T: Serialize + PartialEq>(
    section: &str,
    base: &Option<T>,
    this: &Option<T>,
) -> Option<SectionDiff> {
    if base == this {
        return None;
    }
    Some(SectionDiff {
        section: section.to_string(),
        added: vec![],
        removed: vec![],
        changed: vec![Change {
            key: section.to_string(),
            before: to_json(base),
            after: to_json(this),
        }],
    })
}

fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Inventory items match by category + brand + model (case-insensitive).
pub fn inventory_key(i: &InventoryItem) -> String {
    format!(
        "{}|{}|{}",
        i.category,
        norm(&i.brand),
        norm(i.model.as_deref().unwrap_or(""))
    )
}

/// Sections that differ between `base` and `this`, in form order.
pub fn diff(base: &Sections, this: &Sections) -> Vec<SectionDiff> {
    [
        diff_value("topology", &base.topology, &this.topology),
        diff_list("inventory", &base.inventory, &this.inventory, inventory_key),
        diff_list(
            "applications",
            &base.applications,
            &this.applications,
            |a| norm(&a.name),
        ),
        diff_list(
            "business_platforms",
            &base.business_platforms,
            &this.business_platforms,
            |b| norm(&b.name),
        ),
        diff_value("daily_traffic", &base.daily_traffic, &this.daily_traffic),
        diff_list(
            "security_measures",
            &base.security_measures,
            &this.security_measures,
            |s| format!("{}|{}", norm(&s.area), norm(&s.measure)),
        ),
        diff_list("problems", &base.problems, &this.problems, |p| {
            norm(&p.description)
        }),
        diff_list(
            "requirements_goals",
            &base.requirements_goals,
            &this.requirements_goals,
            |r| norm(&r.description),
        ),
        diff_list(
            "third_parties",
            &base.third_parties,
            &this.third_parties,
            |t| format!("{}|{}", t.kind, norm(&t.name)),
        ),
        diff_value("budget", &base.budget, &this.budget),
        diff_value("timeline", &base.timeline, &this.timeline),
    ]
    .into_iter()
    .flatten()
    .collect()
}
