//! `activities.findings`: the buying signals observed during an activity and what was heard
//! about the customer's requirements.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{read, unknown_version, version_of, write, DecodeError};
use crate::domain::activity::Observation;
use crate::domain::assessment::{Clarity, Leaning, Requirements};

pub const VERSION: u32 = 1;
const WHAT: &str = "findings of activity";

#[derive(Debug, Serialize, Deserialize)]
struct ObservationV1 {
    signal: String,
    #[serde(default)]
    evidence: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct RequirementsV1 {
    #[serde(default)]
    clarity: Option<Clarity>,
    #[serde(default)]
    leaning: Option<Leaning>,
    #[serde(default)]
    competitor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct FindingsV1 {
    schema_version: u32,
    #[serde(default)]
    observations: Vec<ObservationV1>,
    #[serde(default)]
    requirements: Option<RequirementsV1>,
}

/// What an activity found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    pub observations: Vec<Observation>,
    pub requirements: Option<Requirements>,
}

pub fn read_findings(doc: Value, id: Uuid) -> Result<Findings, DecodeError> {
    let v = version_of(&doc).map_err(|e| DecodeError::new(WHAT, id, e))?;
    if v != 1 {
        return Err(unknown_version(WHAT, id, v));
    }
    let f: FindingsV1 = read(doc, WHAT, id)?;
    Ok(Findings {
        observations: f
            .observations
            .into_iter()
            .map(|o| Observation {
                signal: o.signal,
                evidence: o.evidence,
            })
            .collect(),
        requirements: f.requirements.map(|r| Requirements {
            clarity: r.clarity,
            leaning: r.leaning,
            competitor: r.competitor,
        }),
    })
}

pub fn write_findings(f: &Findings) -> serde_json::Result<Value> {
    write(&FindingsV1 {
        schema_version: VERSION,
        observations: f
            .observations
            .iter()
            .map(|o| ObservationV1 {
                signal: o.signal.clone(),
                evidence: o.evidence.clone(),
            })
            .collect(),
        requirements: f.requirements.as_ref().map(|r| RequirementsV1 {
            clarity: r.clarity,
            leaning: r.leaning,
            competitor: r.competitor.clone(),
        }),
    })
}
