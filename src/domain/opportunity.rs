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

/// One of the six purchase stages.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
pub enum StageCode {
    S1,
    S2,
    S3,
    S4,
    S5,
    S6,
}

impl StageCode {
    pub const ALL: [StageCode; 6] = [
        StageCode::S1,
        StageCode::S2,
        StageCode::S3,
        StageCode::S4,
        StageCode::S5,
        StageCode::S6,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StageCode::S1 => "S1",
            StageCode::S2 => "S2",
            StageCode::S3 => "S3",
            StageCode::S4 => "S4",
            StageCode::S5 => "S5",
            StageCode::S6 => "S6",
        }
    }

    pub fn parse(s: &str) -> Option<StageCode> {
        StageCode::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl crate::domain::Vocabulary for StageCode {
    fn code(self) -> &'static str {
        self.as_str()
    }

    fn from_code(s: &str) -> Option<Self> {
        Self::parse(s)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_codes_read_and_write_the_same_text() {
        for c in StageCode::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
            assert_eq!(StageCode::parse(c.as_str()), Some(c));
        }
        assert_eq!(StageCode::parse("S7"), None);
    }
}
