//! The customer current-state survey (客户现状调查表): typed sections, validation, completeness
//! and the diff between two records.
//!
//! Pure code: no I/O.
//!
//! - this module: the vocabulary and the sections;
//! - `validate`: checks and normalises a record's sections;
//! - `completeness`: which of the 12 sections are filled;
//! - `diff`: what changed between two records.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::money::Amount;
use crate::domain::text_enum;

mod completeness;
mod diff;
mod validate;

#[cfg(test)]
mod tests;

pub use completeness::{
    completeness, is_filled, missing_names, section_name, Completeness, SectionName,
};
pub use diff::{diff, inventory_key, Change, SectionDiff};
pub use validate::validate;

text_enum!(
    /// Category of an inventory item.
    InventoryCategory {
        Network => "network",
        Server => "server",
        Storage => "storage",
        Security => "security",
        Software => "software",
        Terminal => "terminal",
        Other => "other",
    }
);

text_enum!(
    /// How much something matters.
    Level {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

text_enum!(
    /// A third party involved in the customer's analysis (S1.B12).
    ThirdPartyKind {
        DesignInstitute => "design_institute",
        Consultancy => "consultancy",
        Vendor => "vendor",
        Integrator => "integrator",
    }
);

text_enum!(
    /// Where the budget stands (S1.B13).
    BudgetStatus {
        Unknown => "unknown",
        Estimated => "estimated",
        AgreedWithSuperiors => "agreed_with_superiors",
    }
);

/// Overall IT topology.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    #[schema(max_length = 10000)]
    pub summary: Option<String>,
    /// Number of sites.
    #[schema(minimum = 0, maximum = 1000000)]
    pub sites: Option<u32>,
    /// Network layers, e.g. core, aggregation, access.
    #[serde(default)]
    pub network_layers: Vec<String>,
    /// Reference to the topology diagram (file name, URL).
    #[schema(max_length = 500)]
    pub diagram_ref: Option<String>,
}

/// Equipment, software or system: brand, model, quantity (also servers and storage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryItem {
    pub category: InventoryCategory,
    #[schema(min_length = 1, max_length = 100)]
    pub brand: String,
    #[schema(max_length = 100)]
    pub model: Option<String>,
    #[schema(minimum = 0, maximum = 1000000000)]
    pub quantity: u32,
    #[schema(minimum = 1950, maximum = 2100)]
    pub deployed_year: Option<i32>,
    pub end_of_support: Option<NaiveDate>,
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Application {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Application type, e.g. ERP, OA, billing.
    #[serde(rename = "type")]
    #[schema(max_length = 100)]
    pub app_type: Option<String>,
    #[schema(minimum = 0, maximum = 1000000000)]
    pub users: Option<u32>,
    pub criticality: Option<Level>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessPlatform {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(max_length = 200)]
    pub vendor: Option<String>,
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DailyTraffic {
    #[schema(minimum = 0)]
    pub average_mbps: Option<f64>,
    #[schema(minimum = 0)]
    pub peak_mbps: Option<f64>,
    /// E.g. "09:00-11:00".
    #[schema(max_length = 100)]
    pub peak_hours: Option<String>,
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityMeasure {
    #[schema(min_length = 1, max_length = 200)]
    pub area: String,
    #[schema(min_length = 1, max_length = 2000)]
    pub measure: String,
    #[schema(max_length = 200)]
    pub product: Option<String>,
}

/// A problem or pain point of the customer (named `SurveyProblem` in the OpenAPI document, as
/// `Problem` is the error document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SurveyProblem)]
pub struct Problem {
    #[schema(min_length = 1, max_length = 2000)]
    pub description: String,
    #[schema(max_length = 2000)]
    pub impact: Option<String>,
    pub severity: Option<Level>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequirementGoal {
    #[schema(min_length = 1, max_length = 2000)]
    pub description: String,
    pub priority: Option<Level>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThirdParty {
    pub kind: ThirdPartyKind,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(max_length = 2000)]
    pub role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// A decimal string with at most the currency's minor digits (answered with exactly
    /// them), or a whole number.
    pub estimate: Option<Amount>,
    /// The funding ceiling agreed or expected (like `estimate`).
    pub ceiling: Option<Amount>,
    /// ISO 4217, required with an amount.
    #[schema(pattern = r"^\s*([A-Z]{3})?\s*$")]
    pub currency: Option<String>,
    pub status: Option<BudgetStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Timeline {
    pub earliest_start: Option<NaiveDate>,
    /// Not before `earliest_start`.
    pub deadline: Option<NaiveDate>,
    /// How the customer judged the dates (past projects, peers).
    #[schema(max_length = 2000)]
    pub basis: Option<String>,
}

/// The survey form's sections (see `survey_sections` in the playbook).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    pub topology: Option<Topology>,
    #[serde(default)]
    pub inventory: Vec<InventoryItem>,
    #[serde(default)]
    pub applications: Vec<Application>,
    #[serde(default)]
    pub business_platforms: Vec<BusinessPlatform>,
    pub daily_traffic: Option<DailyTraffic>,
    #[serde(default)]
    pub security_measures: Vec<SecurityMeasure>,
    #[serde(default)]
    pub problems: Vec<Problem>,
    #[serde(default)]
    pub requirements_goals: Vec<RequirementGoal>,
    #[serde(default)]
    pub third_parties: Vec<ThirdParty>,
    pub budget: Option<Budget>,
    pub timeline: Option<Timeline>,
}

/// The latest survey's budget and timeline, shown next to an opportunity's own.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SurveySummary {
    pub survey_id: uuid::Uuid,
    pub surveyed_at: chrono::DateTime<chrono::Utc>,
    pub budget: Option<Budget>,
    pub timeline: Option<Timeline>,
}

/// Section codes, in form order (`survey_sections` of the playbook).
pub const SECTION_CODES: [&str; 12] = [
    "topology",
    "inventory",
    "applications",
    "business_platforms",
    "daily_traffic",
    "security_measures",
    "servers_storage",
    "problems",
    "requirements_goals",
    "third_parties",
    "budget",
    "timeline",
];
