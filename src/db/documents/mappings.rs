//! `tenant_settings.import_mappings`: `{"schema_version": 1, "stages": {"salesforce":
//! {"Qualification": "S1"}}, "activity_kinds": {"salesforce": {"Meeting": "visit"}}}`. The empty
//! object (the column's default) reads as no mappings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{read, unknown_version, version_of, write, DecodeError};
use crate::domain::activity::ActivityKind;
use crate::domain::import::{ImportMappings, ImportSource};
use crate::domain::opportunity::StageCode;

pub const VERSION: u32 = 1;
const WHAT: &str = "import mappings of tenant";

#[derive(Debug, Default, Serialize, Deserialize)]
struct MappingsV1 {
    schema_version: u32,
    #[serde(default)]
    stages: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    activity_kinds: BTreeMap<String, BTreeMap<String, String>>,
}

fn decode<T: Copy>(
    m: BTreeMap<String, BTreeMap<String, String>>,
    code: impl Fn(&str) -> Option<T>,
    tenant: Uuid,
) -> Result<BTreeMap<ImportSource, BTreeMap<String, T>>, DecodeError> {
    m.into_iter()
        .map(|(source, values)| {
            let s = ImportSource::parse(&source).ok_or_else(|| {
                DecodeError::new(WHAT, tenant, format!("unknown source {source:?}"))
            })?;
            let values = values
                .into_iter()
                .map(|(k, v)| {
                    code(&v).map(|c| (k, c)).ok_or_else(|| {
                        DecodeError::new(WHAT, tenant, format!("unknown value {v:?}"))
                    })
                })
                .collect::<Result<_, _>>()?;
            Ok((s, values))
        })
        .collect()
}

/// Reads the stored mappings of any known version.
pub fn read_mappings(doc: Value, tenant: Uuid) -> Result<ImportMappings, DecodeError> {
    if doc.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(ImportMappings::default());
    }
    match version_of(&doc).map_err(|e| DecodeError::new(WHAT, tenant, e))? {
        1 => {
            let m: MappingsV1 = read(doc, WHAT, tenant)?;
            Ok(ImportMappings {
                stages: decode(m.stages, StageCode::parse, tenant)?,
                activity_kinds: decode(m.activity_kinds, ActivityKind::parse, tenant)?,
            })
        }
        v => Err(unknown_version(WHAT, tenant, v)),
    }
}

/// Writes mappings as the current version.
pub fn write_mappings(m: &ImportMappings) -> serde_json::Result<Value> {
    let encode = |s: &ImportSource| s.as_str().to_string();
    write(&MappingsV1 {
        schema_version: VERSION,
        stages: m
            .stages
            .iter()
            .map(|(s, v)| {
                (
                    encode(s),
                    v.iter()
                        .map(|(k, c)| (k.clone(), c.as_str().to_string()))
                        .collect(),
                )
            })
            .collect(),
        activity_kinds: m
            .activity_kinds
            .iter()
            .map(|(s, v)| {
                (
                    encode(s),
                    v.iter()
                        .map(|(k, c)| (k.clone(), c.as_str().to_string()))
                        .collect(),
                )
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_round_trip_and_the_default_reads_empty() {
        let t = Uuid::nil();
        assert_eq!(
            read_mappings(serde_json::json!({}), t).unwrap(),
            ImportMappings::default()
        );
        let mut m = ImportMappings::default();
        m.stages.insert(
            ImportSource::Salesforce,
            [("Qualification".into(), StageCode::S1)].into(),
        );
        m.activity_kinds.insert(
            ImportSource::Hubspot,
            [("MEETING".into(), ActivityKind::Visit)].into(),
        );
        let doc = write_mappings(&m).unwrap();
        assert_eq!(doc["stages"]["salesforce"]["Qualification"], "S1");
        assert_eq!(read_mappings(doc, t).unwrap(), m);
        let bad = serde_json::json!({"schema_version": 1, "stages": {"salesforce": {"x": "S9"}}});
        assert!(read_mappings(bad, t).is_err());
    }
}
