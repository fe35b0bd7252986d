//! Importing a CRM's export (issue 21): the vocabulary of import jobs, which column of which
//! source's file holds what (`columns`), and how its values read (`values`). Pure: the service
//! turns a row into a write by reference.

pub mod columns;
pub mod values;

use crate::domain::text_enum;

pub use columns::{Field, Layout};

text_enum!(
    /// What a file holds.
    ImportResource {
        Accounts => "accounts",
        Contacts => "contacts",
        Opportunities => "opportunities",
        Activities => "activities",
    }
);

text_enum!(
    /// Whose export a file is: its column names, and the system of its ids.
    ImportSource {
        /// Data Loader exports (API names) and report exports (labels).
        Salesforce => "salesforce",
        /// Exports of companies, contacts, deals and activities (labels and internal names).
        Hubspot => "hubspot",
        /// What `GET /v1/exports/{resource}.csv` writes.
        Buyerpath => "buyerpath",
    }
);

text_enum!(
    /// Where an import job is.
    JobStatus {
        Queued => "queued",
        Running => "running",
        Succeeded => "succeeded",
        Failed => "failed",
        Cancelled => "cancelled",
    }
);

text_enum!(
    /// What became of a row.
    RowStatus {
        Created => "created",
        Updated => "updated",
        Unchanged => "unchanged",
        Error => "error",
    }
);

impl JobStatus {
    /// Whether the job has ended.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

/// The largest file a job takes.
pub const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;
/// The most rows a file may have.
pub const MAX_ROWS: u64 = 200_000;

/// How a tenant's CRM values map to buyerpath's, per source (a tenant setting).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportMappings {
    /// A source's stage values (`Qualification`) as stages.
    pub stages:
        std::collections::BTreeMap<ImportSource, std::collections::BTreeMap<String, StageCode>>,
    /// A source's activity types (`Meeting`) as kinds.
    pub activity_kinds:
        std::collections::BTreeMap<ImportSource, std::collections::BTreeMap<String, ActivityKind>>,
}

use crate::domain::activity::ActivityKind;
use crate::domain::opportunity::StageCode;

impl ImportMappings {
    /// The stage of a source's stage value: the tenant's mapping (exact, then ignoring case),
    /// or the value itself when it is a stage code (`S3`).
    pub fn stage(&self, source: ImportSource, value: &str) -> Option<StageCode> {
        let v = value.trim();
        let mapped = self.stages.get(&source).and_then(|m| {
            m.get(v).or_else(|| {
                m.iter()
                    .find(|(k, _)| k.to_lowercase() == v.to_lowercase())
                    .map(|(_, s)| s)
            })
        });
        mapped.copied().or_else(|| StageCode::parse(v))
    }

    /// The kind of a source's activity type: the tenant's mapping, else by name (calls,
    /// e-mails, meetings and visits; events are meetings; tasks and others `other`).
    pub fn activity_kind(&self, source: ImportSource, value: Option<&str>) -> ActivityKind {
        let v = value.map(str::trim).unwrap_or_default();
        let mapped = self
            .activity_kinds
            .get(&source)
            .and_then(|m| m.iter().find(|(k, _)| k.to_lowercase() == v.to_lowercase()))
            .map(|(_, k)| *k);
        mapped.unwrap_or_else(|| match columns::normalize(v).as_str() {
            "call" | "calls" | "phonecall" | "电话" => ActivityKind::Call,
            "email" | "emails" | "邮件" => ActivityKind::Email,
            "meeting" | "meetings" | "event" | "会议" => ActivityKind::Meeting,
            "visit" | "拜访" => ActivityKind::Visit,
            "document" => ActivityKind::Document,
            other => ActivityKind::parse(other).unwrap_or(ActivityKind::Other),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_map_by_the_tenant_or_by_code() {
        let mut m = ImportMappings::default();
        m.stages.insert(
            ImportSource::Salesforce,
            [("Needs Analysis".to_string(), StageCode::S2)].into(),
        );
        assert_eq!(
            m.stage(ImportSource::Salesforce, "needs analysis"),
            Some(StageCode::S2)
        );
        assert_eq!(m.stage(ImportSource::Salesforce, "S4"), Some(StageCode::S4));
        assert_eq!(m.stage(ImportSource::Hubspot, "Needs Analysis"), None);
        assert_eq!(m.stage(ImportSource::Salesforce, "Closed Won"), None);
    }

    #[test]
    fn activity_kinds_map_by_the_tenant_or_by_name() {
        let mut m = ImportMappings::default();
        assert_eq!(
            m.activity_kind(ImportSource::Salesforce, Some("Call")),
            ActivityKind::Call
        );
        assert_eq!(
            m.activity_kind(ImportSource::Salesforce, Some("Event")),
            ActivityKind::Meeting
        );
        assert_eq!(
            m.activity_kind(ImportSource::Hubspot, Some("EMAIL")),
            ActivityKind::Email
        );
        assert_eq!(
            m.activity_kind(ImportSource::Salesforce, None),
            ActivityKind::Other
        );
        m.activity_kinds.insert(
            ImportSource::Salesforce,
            [("Meeting".to_string(), ActivityKind::Visit)].into(),
        );
        assert_eq!(
            m.activity_kind(ImportSource::Salesforce, Some("meeting")),
            ActivityKind::Visit
        );
    }
}
