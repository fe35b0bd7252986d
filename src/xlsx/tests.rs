//! The workbook both ways.
use serde_json::{json, Value};

use super::import::col_letter;
use super::*;

fn sample() -> Value {
    json!({
        "surveyed_at": "2026-11-20T09:30:00Z",
        "surveyor": "rita",
        "respondents": ["0190f0a0-0000-7000-8000-000000000001"],
        "opportunity_id": null,
        "sections": {
            "topology": {"summary": "三层架构", "sites": 3, "network_layers": ["core", "access"], "diagram_ref": null},
            "inventory": [
                {"category": "network", "brand": "Huawei", "model": "S12700", "quantity": 2, "deployed_year": 2016, "end_of_support": "2025-12-31", "notes": null},
                {"category": "server", "brand": "Inspur", "model": null, "quantity": 0, "deployed_year": null, "end_of_support": null, "notes": "待确认"}
            ],
            "daily_traffic": {"average_mbps": 300.5, "peak_mbps": 950.0, "peak_hours": "09:00-11:00", "notes": null},
            "budget": {"estimate": "1000000.00", "ceiling": "1200000.25", "currency": "CNY", "status": "estimated"},
            "timeline": {"earliest_start": "2027-03-01", "deadline": "2027-09-30", "basis": null}
        }
    })
}

#[test]
fn export_then_import_round_trips() {
    let banner = Banner {
        account_name: "华东电力设计院".into(),
        surveyed_at: None,
    };
    let bytes = export(&banner, &sample()).unwrap();
    let back = import(&bytes).unwrap();
    assert_eq!(back["surveyed_at"], "2026-11-20T09:30:00Z");
    assert_eq!(
        back["respondents"],
        json!(["0190f0a0-0000-7000-8000-000000000001"])
    );
    let s = &back["sections"];
    assert_eq!(s["topology"]["network_layers"], json!(["core", "access"]));
    assert_eq!(s["inventory"][0]["quantity"], 2);
    assert_eq!(s["inventory"][0]["end_of_support"], "2025-12-31");
    assert_eq!(s["inventory"][1]["quantity"], 0);
    assert_eq!(s["inventory"][1]["notes"], "待确认");
    assert_eq!(s["daily_traffic"]["average_mbps"], 300.5);
    assert_eq!(s["budget"]["estimate"], "1000000.00", "money stays exact");
    assert_eq!(s["budget"]["ceiling"], "1200000.25");
    assert!(s.get("applications").is_none());
}

/// Every value of every vocabulary the form uses survives export and import.
#[test]
fn every_enum_value_round_trips() {
    use crate::domain::survey::Sections;
    let banner = Banner {
        account_name: "x".into(),
        surveyed_at: None,
    };
    for status in BudgetStatus::CODES {
        let sections = json!({
            "inventory": InventoryCategory::CODES.iter()
                .map(|c| json!({"category": c, "brand": "b", "quantity": 1}))
                .collect::<Vec<_>>(),
            "applications": Level::CODES.iter()
                .map(|l| json!({"name": format!("app {l}"), "criticality": l}))
                .collect::<Vec<_>>(),
            "problems": Level::CODES.iter()
                .map(|l| json!({"description": format!("p {l}"), "severity": l}))
                .collect::<Vec<_>>(),
            "requirements_goals": Level::CODES.iter()
                .map(|l| json!({"description": format!("r {l}"), "priority": l}))
                .collect::<Vec<_>>(),
            "third_parties": ThirdPartyKind::CODES.iter()
                .map(|k| json!({"kind": k, "name": format!("t {k}")}))
                .collect::<Vec<_>>(),
            "budget": {"status": status, "currency": "CNY", "estimate": "10.50"},
        });
        let typed: Sections = serde_json::from_value(sections.clone()).unwrap();
        let record = json!({"surveyed_at": "2026-11-20T09:30:00Z", "sections": sections});
        let back = import(&export(&banner, &record).unwrap()).unwrap();
        let back: Sections = serde_json::from_value(back["sections"].clone()).unwrap();
        assert_eq!(back, typed, "budget status {status}");
    }
}

#[test]
fn garbage_is_rejected() {
    let e = import(b"not a zip").unwrap_err();
    assert_eq!(e[0].path, "");
    assert_eq!(
        e[0].code,
        crate::domain::validate::Code::InvalidFormat(crate::domain::validate::Format::Xlsx)
    );
}

#[test]
fn cell_references() {
    assert_eq!(cell_ref("inventory", 4, 3), "inventory!D5");
    assert_eq!(col_letter(25), "Z");
    assert_eq!(col_letter(26), "AA");
    assert_eq!(
        locate("sections.inventory[2].brand").as_deref(),
        Some("inventory!B6")
    );
    assert_eq!(
        locate("sections.budget.currency").as_deref(),
        Some("budget!B6")
    );
    assert_eq!(
        locate("sections.timeline.deadline").as_deref(),
        Some("timeline!B5")
    );
    assert_eq!(
        locate_overview("respondents[0]").as_deref(),
        Some("overview!B6")
    );
}
