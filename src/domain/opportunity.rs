//! The vocabulary of opportunities (purchase projects).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::text_enum;

text_enum!(
    /// Where the purchase project stands.
    OpportunityStatus {
        Open => "open",
        Won => "won",
        Lost => "lost",
        Abandoned => "abandoned",
    }
);

/// The six purchase stages.
pub const STAGE_CODES: [&str; 6] = ["S1", "S2", "S3", "S4", "S5", "S6"];

pub fn is_stage_code(s: &str) -> bool {
    STAGE_CODES.contains(&s)
}

/// A competitor in the deal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Competitor {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(max_length = 2000)]
    pub strengths: Option<String>,
    #[schema(max_length = 2000)]
    pub weaknesses: Option<String>,
}
