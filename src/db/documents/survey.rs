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

/// Stored sections to the domain's and back, one section type at a time.
impl From<TopologyV1> for Topology {
    fn from(x: TopologyV1) -> Self {
        Topology {
            summary: x.summary,
            sites: x.sites,
            network_layers: x.network_layers,
            diagram_ref: x.diagram_ref,
        }
    }
}

impl From<&Topology> for TopologyV1 {
    fn from(x: &Topology) -> Self {
        TopologyV1 {
            summary: x.summary.clone(),
            sites: x.sites,
            network_layers: x.network_layers.clone(),
            diagram_ref: x.diagram_ref.clone(),
        }
    }
}

impl From<InventoryItemV1> for InventoryItem {
    fn from(x: InventoryItemV1) -> Self {
        InventoryItem {
            category: x.category,
            brand: x.brand,
            model: x.model,
            quantity: x.quantity,
            deployed_year: x.deployed_year,
            end_of_support: x.end_of_support,
            notes: x.notes,
        }
    }
}

impl From<&InventoryItem> for InventoryItemV1 {
    fn from(x: &InventoryItem) -> Self {
        InventoryItemV1 {
            category: x.category,
            brand: x.brand.clone(),
            model: x.model.clone(),
            quantity: x.quantity,
            deployed_year: x.deployed_year,
            end_of_support: x.end_of_support,
            notes: x.notes.clone(),
        }
    }
}

impl From<ApplicationV1> for Application {
    fn from(x: ApplicationV1) -> Self {
        Application {
            name: x.name,
            app_type: x.app_type,
            users: x.users,
            criticality: x.criticality,
        }
    }
}

impl From<&Application> for ApplicationV1 {
    fn from(x: &Application) -> Self {
        ApplicationV1 {
            name: x.name.clone(),
            app_type: x.app_type.clone(),
            users: x.users,
            criticality: x.criticality,
        }
    }
}

impl From<PlatformV1> for BusinessPlatform {
    fn from(x: PlatformV1) -> Self {
        BusinessPlatform {
            name: x.name,
            vendor: x.vendor,
            notes: x.notes,
        }
    }
}

impl From<&BusinessPlatform> for PlatformV1 {
    fn from(x: &BusinessPlatform) -> Self {
        PlatformV1 {
            name: x.name.clone(),
            vendor: x.vendor.clone(),
            notes: x.notes.clone(),
        }
    }
}

impl From<TrafficV1> for DailyTraffic {
    fn from(x: TrafficV1) -> Self {
        DailyTraffic {
            average_mbps: x.average_mbps,
            peak_mbps: x.peak_mbps,
            peak_hours: x.peak_hours,
            notes: x.notes,
        }
    }
}

impl From<&DailyTraffic> for TrafficV1 {
    fn from(x: &DailyTraffic) -> Self {
        TrafficV1 {
            average_mbps: x.average_mbps,
            peak_mbps: x.peak_mbps,
            peak_hours: x.peak_hours.clone(),
            notes: x.notes.clone(),
        }
    }
}

impl From<SecurityV1> for SecurityMeasure {
    fn from(x: SecurityV1) -> Self {
        SecurityMeasure {
            area: x.area,
            measure: x.measure,
            product: x.product,
        }
    }
}

impl From<&SecurityMeasure> for SecurityV1 {
    fn from(x: &SecurityMeasure) -> Self {
        SecurityV1 {
            area: x.area.clone(),
            measure: x.measure.clone(),
            product: x.product.clone(),
        }
    }
}

impl From<ProblemV1> for Problem {
    fn from(x: ProblemV1) -> Self {
        Problem {
            description: x.description,
            impact: x.impact,
            severity: x.severity,
        }
    }
}

impl From<&Problem> for ProblemV1 {
    fn from(x: &Problem) -> Self {
        ProblemV1 {
            description: x.description.clone(),
            impact: x.impact.clone(),
            severity: x.severity,
        }
    }
}

impl From<GoalV1> for RequirementGoal {
    fn from(x: GoalV1) -> Self {
        RequirementGoal {
            description: x.description,
            priority: x.priority,
        }
    }
}

impl From<&RequirementGoal> for GoalV1 {
    fn from(x: &RequirementGoal) -> Self {
        GoalV1 {
            description: x.description.clone(),
            priority: x.priority,
        }
    }
}

impl From<ThirdPartyV1> for ThirdParty {
    fn from(x: ThirdPartyV1) -> Self {
        ThirdParty {
            kind: x.kind,
            name: x.name,
            role: x.role,
        }
    }
}

impl From<&ThirdParty> for ThirdPartyV1 {
    fn from(x: &ThirdParty) -> Self {
        ThirdPartyV1 {
            kind: x.kind,
            name: x.name.clone(),
            role: x.role.clone(),
        }
    }
}

impl From<TimelineV1> for Timeline {
    fn from(x: TimelineV1) -> Self {
        Timeline {
            earliest_start: x.earliest_start,
            deadline: x.deadline,
            basis: x.basis,
        }
    }
}

impl From<&Timeline> for TimelineV1 {
    fn from(x: &Timeline) -> Self {
        TimelineV1 {
            earliest_start: x.earliest_start,
            deadline: x.deadline,
            basis: x.basis.clone(),
        }
    }
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
        topology: doc.topology.map(Into::into),
        inventory: doc.inventory.into_iter().map(Into::into).collect(),
        applications: doc.applications.into_iter().map(Into::into).collect(),
        business_platforms: doc.business_platforms.into_iter().map(Into::into).collect(),
        daily_traffic: doc.daily_traffic.map(Into::into),
        security_measures: doc.security_measures.into_iter().map(Into::into).collect(),
        problems: doc.problems.into_iter().map(Into::into).collect(),
        requirements_goals: doc.requirements_goals.into_iter().map(Into::into).collect(),
        third_parties: doc.third_parties.into_iter().map(Into::into).collect(),
        budget,
        timeline: doc.timeline.map(Into::into),
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
                    (Some(a), Some(c)) => a.to_minor(c).map(Some).map_err(String::from),
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
        topology: s.topology.as_ref().map(Into::into),
        inventory: s.inventory.iter().map(Into::into).collect(),
        applications: s.applications.iter().map(Into::into).collect(),
        business_platforms: s.business_platforms.iter().map(Into::into).collect(),
        daily_traffic: s.daily_traffic.as_ref().map(Into::into),
        security_measures: s.security_measures.iter().map(Into::into).collect(),
        problems: s.problems.iter().map(Into::into).collect(),
        requirements_goals: s.requirements_goals.iter().map(Into::into).collect(),
        third_parties: s.third_parties.iter().map(Into::into).collect(),
        budget,
        timeline: s.timeline.as_ref().map(Into::into),
    })
    .map_err(|e| e.to_string())
}
