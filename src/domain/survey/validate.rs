//! Validation and normalisation of a record's sections.

use super::*;
use crate::domain::money::Currency;
use crate::domain::validate::{required_text, text, Code, Violation};

const MAX_ITEMS: usize = 10_000;
const MAX_SITES: u32 = 1_000_000;
const MAX_COUNT: u32 = 1_000_000_000;
const MAX_TEXT: usize = 2000;

struct V {
    errors: Vec<Violation>,
}

impl V {
    fn text(&mut self, field: String, v: &Option<String>, max: usize) -> Option<String> {
        text(&mut self.errors, &field, v.as_deref()?, max)
    }

    fn required(&mut self, field: String, v: &str, max: usize) -> String {
        required_text(&mut self.errors, &field, v, max)
    }

    fn non_negative(&mut self, field: String, v: Option<f64>) {
        if let Some(x) = v {
            if !x.is_finite() || x < 0.0 {
                self.errors.push(Violation::new(
                    field,
                    Code::OutOfRange {
                        min: Some(0),
                        max: None,
                    },
                ));
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
                    .push(Violation::new(field, Code::range(0, i64::from(max))));
            }
        }
        v
    }

    fn list_len<T>(&mut self, field: &str, list: &[T]) {
        if list.len() > MAX_ITEMS {
            self.errors.push(Violation::new(
                field.to_string(),
                Code::TooMany {
                    max: MAX_ITEMS as u64,
                },
            ));
        }
    }
}

impl V {
    /// Each item of a list (at most `MAX_ITEMS`), checked by `check` with its field path.
    fn list<T, U>(
        &mut self,
        field: &str,
        items: &[T],
        mut check: impl FnMut(&mut V, &str, &T) -> U,
    ) -> Vec<U> {
        self.list_len(field, items);
        items
            .iter()
            .enumerate()
            .map(|(i, x)| check(self, &format!("{field}[{i}]"), x))
            .collect()
    }
}

/// Validates and normalises (trims) the sections; errors name the field, e.g.
/// `sections.inventory[3].brand`.
pub fn validate(sections: &Sections) -> Result<Sections, Vec<Violation>> {
    let mut v = V { errors: Vec::new() };
    let p = "sections";
    let out = Sections {
        topology: sections.topology.as_ref().map(|t| topology(&mut v, t)),
        inventory: v.list(
            &format!("{p}.inventory"),
            &sections.inventory,
            inventory_item,
        ),
        applications: v.list(
            &format!("{p}.applications"),
            &sections.applications,
            |v, f, a| Application {
                name: v.required(format!("{f}.name"), &a.name, 200),
                app_type: v.text(format!("{f}.type"), &a.app_type, 100),
                users: v.at_most(format!("{f}.users"), a.users, MAX_COUNT),
                criticality: a.criticality,
            },
        ),
        business_platforms: v.list(
            &format!("{p}.business_platforms"),
            &sections.business_platforms,
            |v, f, b| BusinessPlatform {
                name: v.required(format!("{f}.name"), &b.name, 200),
                vendor: v.text(format!("{f}.vendor"), &b.vendor, 200),
                notes: v.text(format!("{f}.notes"), &b.notes, MAX_TEXT),
            },
        ),
        daily_traffic: sections
            .daily_traffic
            .as_ref()
            .map(|d| daily_traffic(&mut v, d)),
        security_measures: v.list(
            &format!("{p}.security_measures"),
            &sections.security_measures,
            |v, f, s| SecurityMeasure {
                area: v.required(format!("{f}.area"), &s.area, 200),
                measure: v.required(format!("{f}.measure"), &s.measure, MAX_TEXT),
                product: v.text(format!("{f}.product"), &s.product, 200),
            },
        ),
        problems: v.list(&format!("{p}.problems"), &sections.problems, |v, f, x| {
            Problem {
                description: v.required(format!("{f}.description"), &x.description, MAX_TEXT),
                impact: v.text(format!("{f}.impact"), &x.impact, MAX_TEXT),
                severity: x.severity,
            }
        }),
        requirements_goals: v.list(
            &format!("{p}.requirements_goals"),
            &sections.requirements_goals,
            |v, f, x| RequirementGoal {
                description: v.required(format!("{f}.description"), &x.description, MAX_TEXT),
                priority: x.priority,
            },
        ),
        third_parties: v.list(
            &format!("{p}.third_parties"),
            &sections.third_parties,
            |v, f, x| ThirdParty {
                kind: x.kind,
                name: v.required(format!("{f}.name"), &x.name, 200),
                role: v.text(format!("{f}.role"), &x.role, MAX_TEXT),
            },
        ),
        budget: sections.budget.as_ref().map(|b| budget(&mut v, b)),
        timeline: sections.timeline.as_ref().map(|t| timeline(&mut v, t)),
    };
    if v.errors.is_empty() {
        Ok(out)
    } else {
        Err(v.errors)
    }
}

fn topology(v: &mut V, t: &Topology) -> Topology {
    let p = "sections.topology";
    Topology {
        summary: v.text(format!("{p}.summary"), &t.summary, 10_000),
        sites: v.at_most(format!("{p}.sites"), t.sites, MAX_SITES),
        network_layers: t
            .network_layers
            .iter()
            .enumerate()
            .map(|(i, l)| v.required(format!("{p}.network_layers[{i}]"), l, 100))
            .collect(),
        diagram_ref: v.text(format!("{p}.diagram_ref"), &t.diagram_ref, 500),
    }
}

fn inventory_item(v: &mut V, f: &str, it: &InventoryItem) -> InventoryItem {
    if let Some(y) = it.deployed_year {
        if !(1950..=2100).contains(&y) {
            v.errors.push(Violation::new(
                format!("{f}.deployed_year"),
                Code::range(1950, 2100),
            ));
        }
    }
    InventoryItem {
        category: it.category,
        brand: v.required(format!("{f}.brand"), &it.brand, 100),
        model: v.text(format!("{f}.model"), &it.model, 100),
        quantity: v
            .at_most(format!("{f}.quantity"), Some(it.quantity), MAX_COUNT)
            .unwrap_or(0),
        deployed_year: it.deployed_year,
        end_of_support: it.end_of_support,
        notes: v.text(format!("{f}.notes"), &it.notes, MAX_TEXT),
    }
}

fn daily_traffic(v: &mut V, d: &DailyTraffic) -> DailyTraffic {
    let p = "sections.daily_traffic";
    v.non_negative(format!("{p}.average_mbps"), d.average_mbps);
    v.non_negative(format!("{p}.peak_mbps"), d.peak_mbps);
    if let (Some(a), Some(pk)) = (d.average_mbps, d.peak_mbps) {
        if pk < a {
            v.errors.push(Violation::new(
                format!("{p}.peak_mbps"),
                Code::NotBelow {
                    other: "average_mbps".into(),
                },
            ));
        }
    }
    DailyTraffic {
        average_mbps: d.average_mbps,
        peak_mbps: d.peak_mbps,
        peak_hours: v.text(format!("{p}.peak_hours"), &d.peak_hours, 100),
        notes: v.text(format!("{p}.notes"), &d.notes, MAX_TEXT),
    }
}

fn budget(v: &mut V, b: &Budget) -> Budget {
    let p = "sections.budget";
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
                v.errors.push(Violation::new(format!("{p}.currency"), e));
                None
            }
        },
        None => {
            if b.estimate.is_some() || b.ceiling.is_some() {
                v.errors.push(Violation::new(
                    format!("{p}.currency"),
                    Code::requires("estimate"),
                ));
            }
            None
        }
    };
    Budget {
        estimate: v.amount(format!("{p}.estimate"), &b.estimate, parsed.as_ref()),
        ceiling: v.amount(format!("{p}.ceiling"), &b.ceiling, parsed.as_ref()),
        currency,
        status: b.status,
    }
}

fn timeline(v: &mut V, t: &Timeline) -> Timeline {
    if let (Some(s), Some(d)) = (t.earliest_start, t.deadline) {
        if d < s {
            v.errors.push(Violation::new(
                "sections.timeline.deadline",
                Code::NotBefore {
                    other: "earliest_start".into(),
                },
            ));
        }
    }
    Timeline {
        earliest_start: t.earliest_start,
        deadline: t.deadline,
        basis: v.text("sections.timeline.basis".to_string(), &t.basis, MAX_TEXT),
    }
}
