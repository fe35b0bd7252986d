//! Validation and normalisation of a record's sections.

use super::*;
use crate::domain::money::Currency;
use crate::domain::validate::{required_text, text, Violation};

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
