//! Storage types of their own for every JSONB column, versioned.
//!
//! A stored document is a JSON object with a `schema_version` member (documents written before
//! versioning have none: they are version 1). Reading accepts every version this binary knows,
//! ignores members it does not know, and upgrades old versions to the domain value; writing
//! always writes the current version. The domain's wire types (with `deny_unknown_fields`)
//! never touch storage, so an API change cannot turn stored rows into errors.
//!
//! Storage types reuse the domain's closed vocabularies (enums): their codes are the stored
//! text everywhere (columns, documents, the API) and change only with a data migration.
//!
//! | column | document | current version |
//! |---|---|---|
//! | `stage_assessments.input` | `assessment::StoredInput` | 1 |
//! | `stage_assessments.judgement` | `assessment::JudgementV1` | 2 (1: no `supported_by`, `basis`) |
//! | `survey_records.sections` | `survey::StoredSections` | 2 (1: amounts as JSON numbers) |
//! | `opportunities.competitors` | `opportunity::StoredCompetitors` | 1 (legacy: a bare array) |
//! | `playbook_versions.overlay` | `playbook::StoredOverlay` | 1 |
//! | `activities.findings` | `activity::FindingsV1` | 1 |
//! | `events.data` | `event::EventDataV1` | 1 |

pub mod activity;
pub mod assessment;
pub mod event;
pub mod mappings;
pub mod opportunity;
pub mod playbook;
pub mod survey;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// A stored document that cannot be read: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored {what} {id} cannot be read: {detail}")]
pub struct DecodeError {
    pub what: &'static str,
    pub id: String,
    pub detail: String,
}

impl DecodeError {
    pub fn new(
        what: &'static str,
        id: impl std::fmt::Display,
        detail: impl std::fmt::Display,
    ) -> Self {
        DecodeError {
            what,
            id: id.to_string(),
            detail: detail.to_string(),
        }
    }
}

/// The version of a stored document: its `schema_version`, or 1 when it has none.
pub fn version_of(doc: &Value) -> Result<u32, String> {
    match doc.get("schema_version") {
        None => Ok(1),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| format!("schema_version {v} is not a version number")),
    }
}

/// Reads `doc` as `T`, naming the document on failure.
pub(crate) fn read<T: DeserializeOwned>(
    doc: Value,
    what: &'static str,
    id: impl std::fmt::Display,
) -> Result<T, DecodeError> {
    serde_json::from_value(doc).map_err(|e| DecodeError::new(what, id, e))
}

/// Fails for a version this binary does not know (written by a newer one).
pub(crate) fn unknown_version(
    what: &'static str,
    id: impl std::fmt::Display,
    v: u32,
) -> DecodeError {
    DecodeError::new(
        what,
        id,
        format!("schema_version {v} is newer than this binary knows"),
    )
}

/// Writes a document.
pub(crate) fn write<T: Serialize>(doc: &T) -> serde_json::Result<Value> {
    serde_json::to_value(doc)
}

#[cfg(test)]
mod tests;
