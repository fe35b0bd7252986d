//! `survey_records.sections`.
//!
//! Version 1 stored budget amounts as JSON numbers; version 2 stores them as integers of the
//! currency's minor unit (`estimate_minor`, `ceiling_minor`). Reading a version 1 document
//! rounds its amounts to the minor unit.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{read, unknown_version, version_of, write, DecodeError};
use crate::domain::money::{Amount, Currency, MAX_MAJOR};
use crate::domain::survey::{
    Application, Budget, BudgetStatus, BusinessPlatform, DailyTraffic, InventoryCategory,
    InventoryItem, Level, Problem, RequirementGoal, Sections, SecurityMeasure, ThirdParty,
    ThirdPartyKind, Timeline, Topology,
};

pub const VERSION: u32 = 2;
const WHAT: &str = "survey sections of";

#[derive(Debug, Default, Serialize, Deserialize)]
struct TopologyV1 {
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    sites: Option<u32>,
    #[serde(default)]
    network_layers: Vec<String>,
    #[serde(default)]
    diagram_ref: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct InventoryItemV1 {
    category: InventoryCategory,
    brand: String,
    #[serde(default)]
    model: Option<String>,
    quantity: u32,
    #[serde(default)]
    deployed_year: Option<i32>,
    #[serde(default)]
    end_of_support: Option<NaiveDate>,
    #[serde(default)]
    notes: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ApplicationV1 {
    name: String,
    #[serde(rename = "type", default)]
    app_type: Option<String>,
    #[serde(default)]
    users: Option<u32>,
    #[serde(default)]
    criticality: Option<Level>,
}

#[derive(Debug, Serialize, Deserialize)]
struct PlatformV1 {
    name: String,
    #[serde(default)]
    vendor: Option<String>,
    #[serde(default)]
    notes: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct TrafficV1 {
    #[serde(default)]
    average_mbps: Option<f64>,
    #[serde(default)]
    peak_mbps: Option<f64>,
    #[serde(default)]
    peak_hours: Option<String>,
    #[serde(default)]
    notes: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SecurityV1 {
    area: String,
    measure: String,
    #[serde(default)]
    product: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ProblemV1 {
    description: String,
    #[serde(default)]
    impact: Option<String>,
    #[serde(default)]
    severity: Option<Level>,
}

#[derive(Debug, Serialize, Deserialize)]
struct GoalV1 {
    description: String,
    #[serde(default)]
    priority: Option<Level>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ThirdPartyV1 {
    kind: ThirdPartyKind,
    name: String,
    #[serde(default)]
    role: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct TimelineV1 {
    #[serde(default)]
    earliest_start: Option<NaiveDate>,
    #[serde(default)]
    deadline: Option<NaiveDate>,
    #[serde(default)]
    basis: Option<String>,
}

/// Version 1 budget: amounts as JSON numbers.
#[derive(Debug, Deserialize)]
struct BudgetV1 {
    #[serde(default)]
    estimate: Option<f64>,
    #[serde(default)]
    ceiling: Option<f64>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    status: Option<BudgetStatus>,
}

/// Version 2 budget: amounts in minor units.
#[derive(Debug, Serialize, Deserialize)]
struct BudgetV2 {
    #[serde(default)]
    estimate_minor: Option<i64>,
    #[serde(default)]
    ceiling_minor: Option<i64>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    status: Option<BudgetStatus>,
}

/// Everything but the budget is the same in versions 1 and 2.
#[derive(Debug, Serialize, Deserialize)]
struct SectionsDoc<B> {
    #[serde(default = "one")]
    schema_version: u32,
    #[serde(default)]
    topology: Option<TopologyV1>,
    #[serde(default)]
    inventory: Vec<InventoryItemV1>,
    #[serde(default)]
    applications: Vec<ApplicationV1>,
    #[serde(default)]
    business_platforms: Vec<PlatformV1>,
    #[serde(default)]
    daily_traffic: Option<TrafficV1>,
    #[serde(default)]
    security_measures: Vec<SecurityV1>,
    #[serde(default)]
    problems: Vec<ProblemV1>,
    #[serde(default)]
    requirements_goals: Vec<GoalV1>,
    #[serde(default)]
    third_parties: Vec<ThirdPartyV1>,
    #[serde(default = "none")]
    budget: Option<B>,
    #[serde(default)]
    timeline: Option<TimelineV1>,
}

fn one() -> u32 {
    1
}

fn none<B>() -> Option<B> {
    None
}

fn currency_of(code: &Option<String>, id: Uuid) -> Result<Option<Currency>, DecodeError> {
    code.as_deref()
        .map(|c| {
            Currency::parse(c)
                .map_err(|e| DecodeError::new(WHAT, id, format!("budget currency: {e}")))
        })
        .transpose()
}

/// A version 1 amount (a JSON number) in minor units, rounded.
fn upgrade_amount(
    x: Option<f64>,
    c: Option<&Currency>,
    id: Uuid,
) -> Result<Option<i64>, DecodeError> {
    let Some(x) = x else { return Ok(None) };
    let c = c.ok_or_else(|| DecodeError::new(WHAT, id, "a budget amount without a currency"))?;
    if !x.is_finite() || x < 0.0 || x > MAX_MAJOR as f64 {
        return Err(DecodeError::new(
            WHAT,
            id,
            format!("budget amount {x} is out of range"),
        ));
    }
    let exp = i32::try_from(c.exponent()).unwrap_or(2);
    Ok(Some((x * 10f64.powi(exp)).round() as i64))
}

fn upgrade_budget(b: BudgetV1, id: Uuid) -> Result<BudgetV2, DecodeError> {
    let c = currency_of(&b.currency, id)?;
    Ok(BudgetV2 {
        estimate_minor: upgrade_amount(b.estimate, c.as_ref(), id)?,
        ceiling_minor: upgrade_amount(b.ceiling, c.as_ref(), id)?,
        currency: b.currency,
        status: b.status,
    })
}

/// Reads stored sections of any known version.
pub fn read_sections(doc: Value, id: Uuid) -> Result<Sections, DecodeError> {
    let doc: SectionsDoc<BudgetV2> =
        match version_of(&doc).map_err(|e| DecodeError::new(WHAT, id, e))? {
            1 => {
                let mut d: SectionsDoc<BudgetV1> = read(doc, WHAT, id)?;
                let budget = d.budget.take().map(|b| upgrade_budget(b, id)).transpose()?;
                SectionsDoc {
                    schema_version: 2,
                    budget,
                    ..without_budget(d)
                }
            }
            2 => read(doc, WHAT, id)?,
            v => return Err(unknown_version(WHAT, id, v)),
        };
    let budget = match doc.budget {
        None => None,
        Some(b) => {
            let c = currency_of(&b.currency, id)?;
            let amount = |m: Option<i64>| -> Result<Option<Amount>, DecodeError> {
                match (m, &c) {
                    (None, _) => Ok(None),
                    (Some(m), Some(c)) => Ok(Some(Amount::from_minor(m, c))),
                    (Some(_), None) => Err(DecodeError::new(
                        WHAT,
                        id,
                        "a budget amount without a currency",
                    )),
                }
            };
            Some(Budget {
                estimate: amount(b.estimate_minor)?,
                ceiling: amount(b.ceiling_minor)?,
                currency: b.currency,
                status: b.status,
            })
        }
    };
    Ok(Sections {
        topology: doc.topology.map(|t| Topology {
            summary: t.summary,
            sites: t.sites,
            network_layers: t.network_layers,
            diagram_ref: t.diagram_ref,
        }),
        inventory: doc
            .inventory
            .into_iter()
            .map(|i| InventoryItem {
                category: i.category,
                brand: i.brand,
                model: i.model,
                quantity: i.quantity,
                deployed_year: i.deployed_year,
                end_of_support: i.end_of_support,
                notes: i.notes,
            })
            .collect(),
        applications: doc
            .applications
            .into_iter()
            .map(|a| Application {
                name: a.name,
                app_type: a.app_type,
                users: a.users,
                criticality: a.criticality,
            })
            .collect(),
        business_platforms: doc
            .business_platforms
            .into_iter()
            .map(|p| BusinessPlatform {
                name: p.name,
                vendor: p.vendor,
                notes: p.notes,
            })
            .collect(),
        daily_traffic: doc.daily_traffic.map(|t| DailyTraffic {
            average_mbps: t.average_mbps,
            peak_mbps: t.peak_mbps,
            peak_hours: t.peak_hours,
            notes: t.notes,
        }),
        security_measures: doc
            .security_measures
            .into_iter()
            .map(|s| SecurityMeasure {
                area: s.area,
                measure: s.measure,
                product: s.product,
            })
            .collect(),
        problems: doc
            .problems
            .into_iter()
            .map(|p| Problem {
                description: p.description,
                impact: p.impact,
                severity: p.severity,
            })
            .collect(),
        requirements_goals: doc
            .requirements_goals
            .into_iter()
            .map(|g| RequirementGoal {
                description: g.description,
                priority: g.priority,
            })
            .collect(),
        third_parties: doc
            .third_parties
            .into_iter()
            .map(|t| ThirdParty {
                kind: t.kind,
                name: t.name,
                role: t.role,
            })
            .collect(),
        budget,
        timeline: doc.timeline.map(|t| Timeline {
            earliest_start: t.earliest_start,
            deadline: t.deadline,
            basis: t.basis,
        }),
    })
}

/// The version 1 document with its budget left out (upgraded separately).
fn without_budget(d: SectionsDoc<BudgetV1>) -> SectionsDoc<BudgetV2> {
    SectionsDoc {
        schema_version: d.schema_version,
        topology: d.topology,
        inventory: d.inventory,
        applications: d.applications,
        business_platforms: d.business_platforms,
        daily_traffic: d.daily_traffic,
        security_measures: d.security_measures,
        problems: d.problems,
        requirements_goals: d.requirements_goals,
        third_parties: d.third_parties,
        budget: None,
        timeline: d.timeline,
    }
}

/// Writes validated sections as the current version. Amounts must already be exact in their
/// currency (the domain's validation guarantees it).
pub fn write_sections(s: &Sections) -> Result<Value, String> {
    let budget = match &s.budget {
        None => None,
        Some(b) => {
            let c = b.currency.as_deref().map(Currency::parse).transpose()?;
            let minor = |a: &Option<Amount>| -> Result<Option<i64>, String> {
                match (a, &c) {
                    (None, _) => Ok(None),
                    (Some(a), Some(c)) => a.to_minor(c).map(Some),
                    (Some(_), None) => Err("a budget amount without a currency".to_string()),
                }
            };
            Some(BudgetV2 {
                estimate_minor: minor(&b.estimate)?,
                ceiling_minor: minor(&b.ceiling)?,
                currency: b.currency.clone(),
                status: b.status,
            })
        }
    };
    write(&SectionsDoc {
        schema_version: VERSION,
        topology: s.topology.as_ref().map(|t| TopologyV1 {
            summary: t.summary.clone(),
            sites: t.sites,
            network_layers: t.network_layers.clone(),
            diagram_ref: t.diagram_ref.clone(),
        }),
        inventory: s
            .inventory
            .iter()
            .map(|i| InventoryItemV1 {
                category: i.category,
                brand: i.brand.clone(),
                model: i.model.clone(),
                quantity: i.quantity,
                deployed_year: i.deployed_year,
                end_of_support: i.end_of_support,
                notes: i.notes.clone(),
            })
            .collect(),
        applications: s
            .applications
            .iter()
            .map(|a| ApplicationV1 {
                name: a.name.clone(),
                app_type: a.app_type.clone(),
                users: a.users,
                criticality: a.criticality,
            })
            .collect(),
        business_platforms: s
            .business_platforms
            .iter()
            .map(|p| PlatformV1 {
                name: p.name.clone(),
                vendor: p.vendor.clone(),
                notes: p.notes.clone(),
            })
            .collect(),
        daily_traffic: s.daily_traffic.as_ref().map(|t| TrafficV1 {
            average_mbps: t.average_mbps,
            peak_mbps: t.peak_mbps,
            peak_hours: t.peak_hours.clone(),
            notes: t.notes.clone(),
        }),
        security_measures: s
            .security_measures
            .iter()
            .map(|m| SecurityV1 {
                area: m.area.clone(),
                measure: m.measure.clone(),
                product: m.product.clone(),
            })
            .collect(),
        problems: s
            .problems
            .iter()
            .map(|p| ProblemV1 {
                description: p.description.clone(),
                impact: p.impact.clone(),
                severity: p.severity,
            })
            .collect(),
        requirements_goals: s
            .requirements_goals
            .iter()
            .map(|g| GoalV1 {
                description: g.description.clone(),
                priority: g.priority,
            })
            .collect(),
        third_parties: s
            .third_parties
            .iter()
            .map(|t| ThirdPartyV1 {
                kind: t.kind,
                name: t.name.clone(),
                role: t.role.clone(),
            })
            .collect(),
        budget,
        timeline: s.timeline.as_ref().map(|t| TimelineV1 {
            earliest_start: t.earliest_start,
            deadline: t.deadline,
            basis: t.basis.clone(),
        }),
    })
    .map_err(|e| e.to_string())
}
