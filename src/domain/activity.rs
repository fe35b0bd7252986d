//! What the seller did: the vocabulary of activities.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::text_enum;

text_enum!(
    /// What kind of activity it was; the same vocabulary as evidence sources.
    ActivityKind {
        /// At the customer's site.
        Visit => "visit",
        Meeting => "meeting",
        Call => "call",
        Email => "email",
        Event => "event",
        Document => "document",
        Other => "other",
    }
);

/// A buying signal seen or heard during the activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    /// A buying-signal code of the tenant's playbook, e.g. `S1.B03`.
    #[schema(example = "S1.B03")]
    pub signal: String,
    #[schema(max_length = 5000)]
    pub evidence: Option<String>,
}

/// What was agreed to do next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NextStep {
    #[schema(min_length = 1, max_length = 2000)]
    pub text: String,
    pub due_at: Option<DateTime<Utc>>,
}
