//! The engine's vocabulary: what the seller knows (input), what is stored (facts) and the
//! judgement (output).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::org_chart::Coverage;
use crate::domain::text_enum;

text_enum!(
    /// Where a piece of evidence comes from.
    SourceKind {
        Contact => "contact",
        /// A visit at the customer's site.
        Visit => "visit",
        Meeting => "meeting",
        Call => "call",
        Email => "email",
        Document => "document",
        Event => "event",
        Other => "other",
    }
);

text_enum!(
    /// The seller's claim about a milestone.
    ClaimStatus {
        Achieved => "achieved",
        InProgress => "in_progress",
        NotStarted => "not_started",
    }
);

text_enum!(
    /// How well the customer's requirements are defined.
    Clarity {
        Unclear => "unclear",
        Clear => "clear",
    }
);

text_enum!(
    /// Whom the customer's requirements favour.
    Leaning {
        Us => "us",
        Neutral => "neutral",
        Competitor => "competitor",
    }
);

text_enum!(
    /// How well a claim is supported ("several times, from several angles", S1.N1): from the
    /// record, `verified` needs two or more days and two or more angles (`seen`); from claims,
    /// two or more sources that differ in kind or in contact.
    Verification {
        Verified => "verified",
        SingleSource => "single_source",
        Unsupported => "unsupported",
    }
);

text_enum!(
    /// What an assessment, or one of its items, rests on.
    Basis {
        /// What the seller stated in the request.
        Claims => "claims",
        /// The record: activities and stored data.
        Record => "record",
    }
);

impl Basis {
    pub fn claims() -> Basis {
        Basis::Claims
    }
}

text_enum!(
    /// What stored data says about a milestone claim.
    DataCheck {
        Consistent => "consistent",
        Contradicted => "contradicted",
        NotApplicable => "not_applicable",
    }
);

/// A source of evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub kind: SourceKind,
    /// Required for `contact`: a contact of the opportunity's account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<Uuid>,
    /// A reference (meeting minutes id, document name, URL, ...).
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// A buying signal the seller observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservedBehaviour {
    /// A buying-signal code of the playbook, e.g. `S1.B03`.
    #[schema(example = "S1.B03")]
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 5000)]
    pub evidence: Option<String>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub sources: Vec<Source>,
}

/// The seller's claim about a milestone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneClaim {
    #[schema(example = "S1.M1")]
    pub code: String,
    pub status: ClaimStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 5000)]
    pub evidence: Option<String>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub sources: Vec<Source>,
}

/// What is known about the customer's requirements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Requirements {
    pub clarity: Option<Clarity>,
    pub leaning: Option<Leaning>,
    /// The competitor the requirements lean toward.
    #[schema(max_length = 200)]
    pub competitor: Option<String>,
}

/// What the seller knows now: a complete snapshot (clients pre-fill from the latest assessment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AssessmentInput {
    #[serde(default)]
    pub observed_behaviours: Vec<ObservedBehaviour>,
    /// Claims about milestones of the evidence stage or of the opportunity's current stage.
    #[serde(default)]
    pub milestones: Vec<MilestoneClaim>,
    /// Key-action codes already done.
    #[serde(default)]
    pub completed_actions: Vec<String>,
    #[serde(default)]
    pub requirements: Option<Requirements>,
    /// Move the opportunity to the evidence stage (owner or manager).
    #[serde(default)]
    pub apply: bool,
    /// Judge from the record of activities instead of (or besides) the claims above: observed
    /// signals, completed key actions, requirements and milestones come from the activities of
    /// the opportunity and the account's recent activities without an opportunity; claims given
    /// here are merged in and marked as claims.
    #[serde(default)]
    pub from_record: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 10000)]
    pub notes: Option<String>,
}

/// What the latest survey says (filled by the survey records feature).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum SurveyFact {
    /// Surveys do not feed this check.
    #[default]
    NotTracked,
    /// The account has no survey record.
    Missing,
    /// The latest survey's completeness.
    Latest {
        completeness_percent: u8,
        threshold_percent: u8,
        missing_sections: Vec<String>,
    },
}

/// Stored facts the engine checks claims against.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub org: Coverage,
    pub survey: SurveyFact,
    /// The tenant's `stale_contact_days`, when the org chart's staleness was computed.
    pub stale_days: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StageRef {
    #[schema(value_type = crate::domain::opportunity::StageCode)]
    pub code: String,
    pub order: u8,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ObservedOut {
    pub code: String,
    /// The stage the signal belongs to.
    #[schema(value_type = crate::domain::opportunity::StageCode)]
    pub stage: String,
    pub evidence: Option<String>,
    pub sources: Vec<Source>,
    pub verification: Verification,
    /// Activities that support the item (judgements from the record).
    #[serde(default)]
    pub supported_by: Vec<Uuid>,
    /// Whether the item comes from the record or from a claim.
    #[serde(default = "Basis::claims")]
    pub basis: Basis,
    /// How often and from how many angles the record shows the signal (judgements from the
    /// record; absent for claims and in assessments made before it was counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<SeenOut>,
}

/// Times and angles of a signal in the record (S1.N1, 多次、多角度): the days it was observed,
/// and the angles it was observed from — each customer person met, an activity with nobody of
/// the customer's in it (a document), and each kind of activity beyond the first. One person
/// met by one kind of activity is one angle, however often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SeenOut {
    /// Distinct days with an observation.
    pub times: u32,
    pub angles: u32,
    /// The customer people met (contact ids).
    pub people: Vec<Uuid>,
    /// The kinds of activity, in the order first seen.
    pub kinds: Vec<crate::domain::activity::ActivityKind>,
    /// Whether an activity without anybody of the customer's showed it.
    pub unattended: bool,
    /// The same in a line, in the judgement's language: "5 次, 1 个角度: 赵主任 (拜访)".
    #[serde(default)]
    #[schema(example = "5 次, 1 个角度: 赵主任 (拜访)")]
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MilestoneOut {
    pub code: String,
    pub text: String,
    /// The seller's claim (`not_started` when not claimed).
    pub status: ClaimStatus,
    pub evidence: Option<String>,
    pub sources: Vec<Source>,
    pub verification: Verification,
    pub data_check: DataCheck,
    /// Why the data check says what it says.
    pub data_check_detail: Option<String>,
    /// Activities that support the item (judgements from the record).
    #[serde(default)]
    pub supported_by: Vec<Uuid>,
    /// Whether the item comes from the record (activities or stored data) or from a claim.
    #[serde(default = "Basis::claims")]
    pub basis: Basis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ToolRef {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Recommendation {
    pub code: String,
    pub text: String,
    pub tools: Vec<ToolRef>,
    /// The milestone(s) it serves and what is missing.
    pub reason: String,
}

text_enum!(
    /// A risk the engine sees.
    RiskCode {
        /// The customer is in a later stage than the seller's milestones.
        SellerBehindCustomer => "seller_behind_customer",
        /// The requirements lean toward a competitor.
        CompetitorLeaning => "competitor_leaning",
        /// No contact of the account is a supporter.
        NoSupporter => "no_supporter",
        /// Nobody in senior leadership with an established relationship (S1.A10).
        NoSeniorLeadershipContact => "no_senior_leadership_contact",
        /// Key information not verified several times from several angles (S1.N1).
        UnverifiedKeyInformation => "unverified_key_information",
        /// A key person or IT leader not contacted within the tenant's `stale_contact_days`.
        StaleRelationship => "stale_relationship",
        /// Three or more activities on the opportunity, all with the same single contact.
        SingleThreaded => "single_threaded",
    }
);

text_enum!(
    /// Which way a proposed stage change goes.
    Direction {
        Forward => "forward",
        Backward => "backward",
    }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Risk {
    pub code: RiskCode,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StageChange {
    pub from: String,
    pub to: String,
    pub direction: Direction,
    /// True when the opportunity was moved (`apply: true`).
    pub applied: bool,
}

/// The engine's judgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Judgement {
    /// The evidence stage: the highest stage with an observed buying signal; with none, the
    /// opportunity's current stage.
    pub stage: StageRef,
    pub purchase_progress_percent: u8,
    pub observed_behaviours: Vec<ObservedOut>,
    pub milestones: Vec<MilestoneOut>,
    /// Milestones achieved and not contradicted, over all milestones of the stage.
    pub milestone_completion_percent: u8,
    pub ready_to_advance: bool,
    pub blocking_reasons: Vec<String>,
    pub recommended_actions: Vec<Recommendation>,
    pub risks: Vec<Risk>,
    pub stage_change: Option<StageChange>,
}
