//! The customer current-state survey (客户现状调查表): typed sections, validation, completeness
//! and the diff between two records.
//!
//! Pure code: no I/O.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::money::{Amount, Currency};
use crate::domain::playbook::{localize, Lang, Playbook};
use crate::domain::text_enum;
use crate::domain::validate::Violation;

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
    pub summary: Option<String>,
    /// Number of sites.
    #[schema(minimum = 0, maximum = 1000000)]
    pub sites: Option<u32>,
    /// Network layers, e.g. core, aggregation, access.
    #[serde(default)]
    pub network_layers: Vec<String>,
    /// Reference to the topology diagram (file name, URL).
    pub diagram_ref: Option<String>,
}

/// Equipment, software or system: brand, model, quantity (also servers and storage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryItem {
    pub category: InventoryCategory,
    pub brand: String,
    pub model: Option<String>,
    #[schema(minimum = 0, maximum = 1000000000)]
    pub quantity: u32,
    #[schema(minimum = 1950, maximum = 2100)]
    pub deployed_year: Option<i32>,
    pub end_of_support: Option<NaiveDate>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub name: String,
    /// Application type, e.g. ERP, OA, billing.
    #[serde(rename = "type")]
    pub app_type: Option<String>,
    #[schema(minimum = 0, maximum = 1000000000)]
    pub users: Option<u32>,
    pub criticality: Option<Level>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessPlatform {
    pub name: String,
    pub vendor: Option<String>,
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
    pub peak_hours: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityMeasure {
    pub area: String,
    pub measure: String,
    pub product: Option<String>,
}

/// A problem or pain point of the customer (named `SurveyProblem` in the OpenAPI document, as
/// `Problem` is the error document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SurveyProblem)]
pub struct Problem {
    pub description: String,
    pub impact: Option<String>,
    pub severity: Option<Level>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequirementGoal {
    pub description: String,
    pub priority: Option<Level>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThirdParty {
    pub kind: ThirdPartyKind,
    pub name: String,
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

const MAX_ITEMS: usize = 10_000;
const MAX_SITES: u32 = 1_000_000;
const MAX_COUNT: u32 = 1_000_000_000;
const MAX_TEXT: usize = 2000;

struct V {
    errors: Vec<Violation>,
}

impl V {
    fn text(&mut self, field: String, v: &Option<String>, max: usize) -> Option<String> {
        let t = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
        if t.chars().count() > max {
            self.errors
                .push(Violation::new(field, format!("at most {max} characters")));
        } else if t
            .chars()
            .any(|c| c == '\0' || (c.is_control() && !matches!(c, '\n' | '\r' | '\t')))
        {
            self.errors.push(Violation::new(
                field,
                "must not contain NUL or control characters",
            ));
        }
        Some(t.to_string())
    }

    fn required(&mut self, field: String, v: &str, max: usize) -> String {
        match self.text(field.clone(), &Some(v.to_string()), max) {
            Some(t) => t,
            None => {
                self.errors.push(Violation::new(field, "must not be empty"));
                String::new()
            }
        }
    }

    fn non_negative(&mut self, field: String, v: Option<f64>) {
        if let Some(x) = v {
            if !x.is_finite() || x < 0.0 {
                self.errors
                    .push(Violation::new(field, "must be a non-negative number"));
            }
        }
    }

    fn amount(
        &mut self,
        field: String,
        v: &Option<Amount>,
        c: Option<&Currency>,
    ) -> Option<Amount> {
        let (a, c) = (v.as_ref()?, c?);
        match a.normalized(c) {
            Ok(n) => Some(n),
            Err(e) => {
                self.errors.push(Violation::new(field, e));
                None
            }
        }
    }

    fn at_most(&mut self, field: String, v: Option<u32>, max: u32) -> Option<u32> {
        if let Some(x) = v {
            if x > max {
                self.errors
                    .push(Violation::new(field, format!("must be at most {max}")));
            }
        }
        v
    }

    fn list_len<T>(&mut self, field: &str, list: &[T]) {
        if list.len() > MAX_ITEMS {
            self.errors.push(Violation::new(
                field.to_string(),
                format!("at most {MAX_ITEMS} items"),
            ));
        }
    }
}

/// Validates and normalises (trims) the sections; errors name the field, e.g.
/// `sections.inventory[3].brand`.
pub fn validate(sections: &Sections) -> Result<Sections, Vec<Violation>> {
    let mut v = V { errors: Vec::new() };
    let p = "sections";
    let mut out = Sections::default();

    if let Some(t) = &sections.topology {
        out.topology = Some(Topology {
            summary: v.text(format!("{p}.topology.summary"), &t.summary, 10_000),
            sites: v.at_most(format!("{p}.topology.sites"), t.sites, MAX_SITES),
            network_layers: t
                .network_layers
                .iter()
                .enumerate()
                .map(|(i, l)| v.required(format!("{p}.topology.network_layers[{i}]"), l, 100))
                .collect(),
            diagram_ref: v.text(format!("{p}.topology.diagram_ref"), &t.diagram_ref, 500),
        });
    }
    v.list_len(&format!("{p}.inventory"), &sections.inventory);
    for (i, it) in sections.inventory.iter().enumerate() {
        let f = format!("{p}.inventory[{i}]");
        if let Some(y) = it.deployed_year {
            if !(1950..=2100).contains(&y) {
                v.errors.push(Violation::new(
                    format!("{f}.deployed_year"),
                    "must be a year from 1950 to 2100",
                ));
            }
        }
        out.inventory.push(InventoryItem {
            category: it.category,
            brand: v.required(format!("{f}.brand"), &it.brand, 100),
            model: v.text(format!("{f}.model"), &it.model, 100),
            quantity: v
                .at_most(format!("{f}.quantity"), Some(it.quantity), MAX_COUNT)
                .unwrap_or(0),
            deployed_year: it.deployed_year,
            end_of_support: it.end_of_support,
            notes: v.text(format!("{f}.notes"), &it.notes, MAX_TEXT),
        });
    }
    v.list_len(&format!("{p}.applications"), &sections.applications);
    for (i, a) in sections.applications.iter().enumerate() {
        let f = format!("{p}.applications[{i}]");
        out.applications.push(Application {
            name: v.required(format!("{f}.name"), &a.name, 200),
            app_type: v.text(format!("{f}.type"), &a.app_type, 100),
            users: v.at_most(format!("{f}.users"), a.users, MAX_COUNT),
            criticality: a.criticality,
        });
    }
    v.list_len(
        &format!("{p}.business_platforms"),
        &sections.business_platforms,
    );
    for (i, b) in sections.business_platforms.iter().enumerate() {
        let f = format!("{p}.business_platforms[{i}]");
        out.business_platforms.push(BusinessPlatform {
            name: v.required(format!("{f}.name"), &b.name, 200),
            vendor: v.text(format!("{f}.vendor"), &b.vendor, 200),
            notes: v.text(format!("{f}.notes"), &b.notes, MAX_TEXT),
        });
    }
    if let Some(d) = &sections.daily_traffic {
        v.non_negative(format!("{p}.daily_traffic.average_mbps"), d.average_mbps);
        v.non_negative(format!("{p}.daily_traffic.peak_mbps"), d.peak_mbps);
        if let (Some(a), Some(pk)) = (d.average_mbps, d.peak_mbps) {
            if pk < a {
                v.errors.push(Violation::new(
                    format!("{p}.daily_traffic.peak_mbps"),
                    "must not be below average_mbps",
                ));
            }
        }
        out.daily_traffic = Some(DailyTraffic {
            average_mbps: d.average_mbps,
            peak_mbps: d.peak_mbps,
            peak_hours: v.text(format!("{p}.daily_traffic.peak_hours"), &d.peak_hours, 100),
            notes: v.text(format!("{p}.daily_traffic.notes"), &d.notes, MAX_TEXT),
        });
    }
    v.list_len(
        &format!("{p}.security_measures"),
        &sections.security_measures,
    );
    for (i, s) in sections.security_measures.iter().enumerate() {
        let f = format!("{p}.security_measures[{i}]");
        out.security_measures.push(SecurityMeasure {
            area: v.required(format!("{f}.area"), &s.area, 200),
            measure: v.required(format!("{f}.measure"), &s.measure, MAX_TEXT),
            product: v.text(format!("{f}.product"), &s.product, 200),
        });
    }
    v.list_len(&format!("{p}.problems"), &sections.problems);
    for (i, x) in sections.problems.iter().enumerate() {
        let f = format!("{p}.problems[{i}]");
        out.problems.push(Problem {
            description: v.required(format!("{f}.description"), &x.description, MAX_TEXT),
            impact: v.text(format!("{f}.impact"), &x.impact, MAX_TEXT),
            severity: x.severity,
        });
    }
    v.list_len(
        &format!("{p}.requirements_goals"),
        &sections.requirements_goals,
    );
    for (i, x) in sections.requirements_goals.iter().enumerate() {
        let f = format!("{p}.requirements_goals[{i}]");
        out.requirements_goals.push(RequirementGoal {
            description: v.required(format!("{f}.description"), &x.description, MAX_TEXT),
            priority: x.priority,
        });
    }
    v.list_len(&format!("{p}.third_parties"), &sections.third_parties);
    for (i, x) in sections.third_parties.iter().enumerate() {
        let f = format!("{p}.third_parties[{i}]");
        out.third_parties.push(ThirdParty {
            kind: x.kind,
            name: v.required(format!("{f}.name"), &x.name, 200),
            role: v.text(format!("{f}.role"), &x.role, MAX_TEXT),
        });
    }
    if let Some(b) = &sections.budget {
        let currency = b
            .currency
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        let parsed = match &currency {
            Some(c) => match Currency::parse(c) {
                Ok(c) => Some(c),
                Err(e) => {
                    v.errors
                        .push(Violation::new(format!("{p}.budget.currency"), e));
                    None
                }
            },
            None => {
                if b.estimate.is_some() || b.ceiling.is_some() {
                    v.errors.push(Violation::new(
                        format!("{p}.budget.currency"),
                        "required with an estimate or ceiling",
                    ));
                }
                None
            }
        };
        out.budget = Some(Budget {
            estimate: v.amount(format!("{p}.budget.estimate"), &b.estimate, parsed.as_ref()),
            ceiling: v.amount(format!("{p}.budget.ceiling"), &b.ceiling, parsed.as_ref()),
            currency,
            status: b.status,
        });
    }
    if let Some(t) = &sections.timeline {
        if let (Some(s), Some(d)) = (t.earliest_start, t.deadline) {
            if d < s {
                v.errors.push(Violation::new(
                    format!("{p}.timeline.deadline"),
                    "must not be before earliest_start",
                ));
            }
        }
        out.timeline = Some(Timeline {
            earliest_start: t.earliest_start,
            deadline: t.deadline,
            basis: v.text(format!("{p}.timeline.basis"), &t.basis, MAX_TEXT),
        });
    }
    if v.errors.is_empty() {
        Ok(out)
    } else {
        Err(v.errors)
    }
}

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

// ---------------------------------------------------------------------------------------------
// Diff

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::playbook::built_in;

    fn item(cat: InventoryCategory, brand: &str, model: &str, qty: u32) -> InventoryItem {
        InventoryItem {
            category: cat,
            brand: brand.into(),
            model: Some(model.into()),
            quantity: qty,
            deployed_year: Some(2018),
            end_of_support: None,
            notes: None,
        }
    }

    fn full() -> Sections {
        Sections {
            topology: Some(Topology {
                summary: Some("三层架构".into()),
                sites: Some(3),
                network_layers: vec!["core".into()],
                diagram_ref: None,
            }),
            inventory: vec![
                item(InventoryCategory::Network, "Huawei", "S12700", 2),
                item(InventoryCategory::Server, "Inspur", "NF5280", 10),
            ],
            applications: vec![Application {
                name: "ERP".into(),
                app_type: Some("ERP".into()),
                users: Some(500),
                criticality: Some(Level::High),
            }],
            business_platforms: vec![BusinessPlatform {
                name: "营销平台".into(),
                vendor: None,
                notes: None,
            }],
            daily_traffic: Some(DailyTraffic {
                average_mbps: Some(300.0),
                peak_mbps: Some(900.0),
                peak_hours: None,
                notes: None,
            }),
            security_measures: vec![SecurityMeasure {
                area: "边界".into(),
                measure: "防火墙".into(),
                product: None,
            }],
            problems: vec![Problem {
                description: "核心交换机老化".into(),
                impact: None,
                severity: Some(Level::High),
            }],
            requirements_goals: vec![RequirementGoal {
                description: "万兆骨干".into(),
                priority: Some(Level::High),
            }],
            third_parties: vec![ThirdParty {
                kind: ThirdPartyKind::DesignInstitute,
                name: "省设计院".into(),
                role: None,
            }],
            budget: Some(Budget {
                estimate: Some(Amount::Whole(1_000_000)),
                ceiling: Some(Amount::Decimal("1200000.5".into())),
                currency: Some("CNY".into()),
                status: Some(BudgetStatus::Estimated),
            }),
            timeline: Some(Timeline {
                earliest_start: NaiveDate::from_ymd_opt(2027, 3, 1),
                deadline: NaiveDate::from_ymd_opt(2027, 9, 30),
                basis: None,
            }),
        }
    }

    #[test]
    fn completeness_counts_twelve_sections() {
        let p = built_in().unwrap();
        let c = completeness(p, &full());
        assert_eq!(c.percent, 100);
        assert!(c.missing_sections.is_empty());
        let empty = completeness(p, &Sections::default());
        assert_eq!(empty.percent, 0);
        assert_eq!(empty.missing_sections.len(), 12);
        assert_eq!(empty.missing_sections[0].zh, "信息化整体拓扑");
        assert_eq!(empty.missing_sections[6].code, "servers_storage");
        // Servers and storage count only with server or storage items.
        let mut s = full();
        s.inventory
            .retain(|i| i.category == InventoryCategory::Network);
        let c = completeness(p, &s);
        assert_eq!(c.percent, 92);
        assert_eq!(c.missing_sections[0].code, "servers_storage");
        assert!(!c.sections["servers_storage"]);
        assert_eq!(
            missing_names(&c, Lang::En),
            ["Servers, storage and other equipment"]
        );
        // An unknown budget status alone does not fill the budget.
        s.budget = Some(Budget {
            status: Some(BudgetStatus::Unknown),
            ..Default::default()
        });
        assert!(!is_filled(&s, "budget"));
    }

    #[test]
    fn validation_names_fields_and_trims() {
        let mut s = full();
        s.inventory[1].brand = "  ".into();
        s.inventory[0].deployed_year = Some(1800);
        s.daily_traffic = Some(DailyTraffic {
            average_mbps: Some(-1.0),
            peak_mbps: None,
            peak_hours: None,
            notes: None,
        });
        s.budget = Some(Budget {
            estimate: Some(Amount::Whole(5)),
            ..Default::default()
        });
        s.timeline = Some(Timeline {
            earliest_start: NaiveDate::from_ymd_opt(2027, 5, 1),
            deadline: NaiveDate::from_ymd_opt(2027, 4, 1),
            basis: None,
        });
        s.applications[0].name = "x".repeat(201);
        let e = validate(&s).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            fields,
            [
                "sections.inventory[0].deployed_year",
                "sections.inventory[1].brand",
                "sections.applications[0].name",
                "sections.daily_traffic.average_mbps",
                "sections.budget.currency",
                "sections.timeline.deadline",
            ]
        );
        let mut s = full();
        let ok = validate(&s).unwrap();
        let b = ok.budget.unwrap();
        assert_eq!(
            b.estimate,
            Some(Amount::Decimal("1000000.00".into())),
            "normalised"
        );
        assert_eq!(b.ceiling, Some(Amount::Decimal("1200000.50".into())));
        s.budget.as_mut().unwrap().ceiling = Some(Amount::Decimal("1.001".into()));
        let e = validate(&s).unwrap_err();
        assert_eq!(e[0].path, "sections.budget.ceiling");
        let mut s = full();
        s.problems[0].description = "  trimmed  ".into();
        assert_eq!(validate(&s).unwrap().problems[0].description, "trimmed");
        let mut s = full();
        s.daily_traffic = Some(DailyTraffic {
            average_mbps: Some(10.0),
            peak_mbps: Some(5.0),
            peak_hours: None,
            notes: None,
        });
        assert_eq!(
            validate(&s).unwrap_err()[0].path,
            "sections.daily_traffic.peak_mbps"
        );
    }

    #[test]
    fn diff_matches_inventory_by_category_brand_model() {
        let base = full();
        let mut this = full();
        this.inventory[0].quantity = 4; // changed
        this.inventory.remove(1); // removed
        this.inventory.push(item(
            InventoryCategory::Storage,
            "Huawei",
            "OceanStor 5300",
            2,
        )); // added
        this.timeline = None;
        this.problems.push(Problem {
            description: "带宽不足".into(),
            impact: None,
            severity: None,
        });
        let d = diff(&base, &this);
        let sections: Vec<&str> = d.iter().map(|s| s.section.as_str()).collect();
        assert_eq!(sections, ["inventory", "problems", "timeline"]);
        let inv = &d[0];
        assert_eq!(inv.added.len(), 1);
        assert_eq!(inv.added[0]["model"], "OceanStor 5300");
        assert_eq!(inv.removed[0]["brand"], "Inspur");
        assert_eq!(inv.changed[0].key, "network|huawei|s12700");
        assert_eq!(inv.changed[0].before["quantity"], 2);
        assert_eq!(inv.changed[0].after["quantity"], 4);
        assert!(d[2].changed[0].after.is_null());
        assert!(diff(&base, &base).is_empty());
    }
}
