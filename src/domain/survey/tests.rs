//! Sections: validation, completeness, diff.
use super::*;
use crate::domain::playbook::{built_in, Lang};

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
