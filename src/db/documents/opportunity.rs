//! `opportunities.competitors`.
//!
//! Version 1 was a bare JSON array of competitors; the current version is an object
//! `{"schema_version": 2, "competitors": [...]}`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{read, unknown_version, version_of, write, DecodeError};
use crate::domain::opportunity::Competitor;

pub const VERSION: u32 = 2;
const WHAT: &str = "competitors of opportunity";

#[derive(Debug, Serialize, Deserialize)]
struct CompetitorV1 {
    name: String,
    #[serde(default)]
    strengths: Option<String>,
    #[serde(default)]
    weaknesses: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CompetitorsV2 {
    schema_version: u32,
    #[serde(default)]
    competitors: Vec<CompetitorV1>,
}

/// Reads stored competitors of any known version.
pub fn read_competitors(doc: Value, id: Uuid) -> Result<Vec<Competitor>, DecodeError> {
    let list: Vec<CompetitorV1> = if doc.is_array() {
        read(doc, WHAT, id)?
    } else {
        match version_of(&doc).map_err(|e| DecodeError::new(WHAT, id, e))? {
            2 => read::<CompetitorsV2>(doc, WHAT, id)?.competitors,
            v => return Err(unknown_version(WHAT, id, v)),
        }
    };
    Ok(list
        .into_iter()
        .map(|c| Competitor {
            name: c.name,
            strengths: c.strengths,
            weaknesses: c.weaknesses,
        })
        .collect())
}

/// Writes competitors as the current version.
pub fn write_competitors(list: &[Competitor]) -> serde_json::Result<Value> {
    write(&CompetitorsV2 {
        schema_version: VERSION,
        competitors: list
            .iter()
            .map(|c| CompetitorV1 {
                name: c.name.clone(),
                strengths: c.strengths.clone(),
                weaknesses: c.weaknesses.clone(),
            })
            .collect(),
    })
}
