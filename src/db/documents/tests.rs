//! Stored documents: rows written before versioning still read, unknown members are ignored,
//! old versions upgrade, newer or broken ones are errors that name the row.

use serde_json::{json, Value};
use uuid::Uuid;

use super::{assessment, opportunity, playbook, survey, version_of};
use crate::domain::money::Amount;

fn rows(jsonl: &str) -> Vec<Value> {
    jsonl
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn id(row: &Value) -> Uuid {
    row["id"].as_str().unwrap().parse().unwrap()
}

const ASSESSMENTS: &str = include_str!("../../../tests/fixtures/stored/stage_assessments.v1.jsonl");
const SURVEYS: &str = include_str!("../../../tests/fixtures/stored/survey_records.v1.jsonl");
const OPPORTUNITIES: &str = include_str!("../../../tests/fixtures/stored/opportunities.v1.jsonl");
const OVERLAYS: &str = include_str!("../../../tests/fixtures/stored/playbook_versions.v1.jsonl");

#[test]
fn assessments_written_before_versioning_still_read() {
    let rows = rows(ASSESSMENTS);
    assert_eq!(rows.len(), 4);
    for row in rows {
        assert_eq!(version_of(&row["input"]), Ok(1));
        let input = assessment::read_input(row["input"].clone(), id(&row)).unwrap();
        let judgement = assessment::read_judgement(row["judgement"].clone(), id(&row)).unwrap();
        // What is written now reads back to the same values.
        let again = assessment::write_input(&input).unwrap();
        assert_eq!(again["schema_version"], assessment::INPUT_VERSION);
        assert_eq!(assessment::read_input(again, id(&row)).unwrap(), input);
        let again = assessment::write_judgement(&judgement).unwrap();
        assert_eq!(
            assessment::read_judgement(again, id(&row)).unwrap(),
            judgement
        );
        // The stored judgement is the one written then, member for member.
        let mut then = row["judgement"].clone();
        let mut now = assessment::write_judgement(&judgement).unwrap();
        now.as_object_mut().unwrap().remove("schema_version");
        then.as_object_mut().unwrap().remove("schema_version");
        // Version 2 adds `supported_by` and `basis` to signals and milestones.
        for list in ["observed_behaviours", "milestones"] {
            for item in now[list].as_array_mut().unwrap() {
                assert_eq!(item["supported_by"], json!([]));
                assert_eq!(item["basis"], "claims");
                item.as_object_mut().unwrap().remove("supported_by");
                item.as_object_mut().unwrap().remove("basis");
            }
        }
        assert_eq!(now, then);
    }
    let first = rows_first_with_risks();
    assert!(first
        .risks
        .iter()
        .any(|r| r.code.as_str() == "competitor_leaning"));
}

fn rows_first_with_risks() -> crate::domain::assessment::Judgement {
    let row = rows(ASSESSMENTS)
        .into_iter()
        .find(|r| {
            r["judgement"]["risks"]
                .as_array()
                .is_some_and(|a| a.len() > 1)
        })
        .unwrap();
    assessment::read_judgement(row["judgement"].clone(), id(&row)).unwrap()
}

#[test]
fn survey_sections_of_version_1_upgrade_their_amounts() {
    let rows = rows(SURVEYS);
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(version_of(&row["sections"]), Ok(1));
    assert_eq!(row["sections"]["budget"]["estimate"], json!(1000000.5));
    let s = survey::read_sections(row["sections"].clone(), id(row)).unwrap();
    let b = s.budget.clone().unwrap();
    assert_eq!(b.estimate, Some(Amount::Decimal("1000000.50".into())));
    assert_eq!(b.ceiling, Some(Amount::Decimal("1200000.00".into())));
    assert_eq!(s.inventory.len(), 2);
    assert_eq!(s.inventory[0].brand, "Huawei");
    let v2 = survey::write_sections(&s).unwrap();
    assert_eq!(v2["schema_version"], 2);
    assert_eq!(v2["budget"]["estimate_minor"], 100_000_050);
    assert_eq!(survey::read_sections(v2, id(row)).unwrap(), s);
}

#[test]
fn competitors_of_version_1_are_a_bare_array() {
    for row in rows(OPPORTUNITIES) {
        assert!(row["competitors"].is_array());
        let list = opportunity::read_competitors(row["competitors"].clone(), id(&row)).unwrap();
        assert_eq!(list[0].name, "Vendor X");
        let v2 = opportunity::write_competitors(&list).unwrap();
        assert_eq!(v2["schema_version"], 2);
        assert_eq!(opportunity::read_competitors(v2, id(&row)).unwrap(), list);
    }
}

#[test]
fn overlays_written_before_versioning_still_read() {
    for row in rows(OVERLAYS) {
        let v = i32::try_from(row["version"].as_i64().unwrap()).unwrap();
        let o = playbook::read_overlay(row["overlay"].clone(), v).unwrap();
        assert_eq!(o.stages["S2"].customer_behaviours[0].code, "S2.B01");
        assert_eq!(o.counters.get("S2.B"), Some(&2));
        let again = playbook::write_overlay(&o).unwrap();
        assert_eq!(playbook::read_overlay(again, v).unwrap(), o);
    }
}

#[test]
fn unknown_members_are_ignored() {
    let row = &rows(SURVEYS)[0];
    let mut doc = row["sections"].clone();
    doc["a_member_from_the_future"] = json!(true);
    doc["inventory"][0]["colour"] = json!("red");
    assert!(survey::read_sections(doc, id(row)).is_ok());
}

#[test]
fn newer_or_broken_documents_are_errors_naming_the_row() {
    let row = &rows(SURVEYS)[0];
    let rid = id(row);
    let mut newer = row["sections"].clone();
    newer["schema_version"] = json!(99);
    let e = survey::read_sections(newer, rid).unwrap_err();
    assert!(e.to_string().contains(&rid.to_string()), "{e}");
    assert!(e.to_string().contains("99"), "{e}");
    let broken = json!({"schema_version": 2, "inventory": [{"category": "spaceship", "brand": "x", "quantity": 1}]});
    let e = survey::read_sections(broken, rid).unwrap_err();
    assert!(e.to_string().contains("spaceship"), "{e}");
    assert!(opportunity::read_competitors(json!("nope"), rid).is_err());
    assert!(assessment::read_input(json!({"schema_version": "one"}), rid).is_err());
}
