//! The event vocabulary: what a committed change is called in the event log and in webhooks, and
//! the `types` filters (`opportunity.*`) that select events.

use crate::domain::validate::{Code, Violation};

/// Resources whose lifecycle is published (`<resource>.created|updated|archived|restored`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Account,
    Contact,
    Opportunity,
    SurveyRecord,
    Activity,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Account => "account",
            Resource::Contact => "contact",
            Resource::Opportunity => "opportunity",
            Resource::SurveyRecord => "survey_record",
            Resource::Activity => "activity",
        }
    }
}

/// What happened to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Created,
    Updated,
    Archived,
    Restored,
}

/// Every event type of the log, in documentation order.
pub const EVENT_TYPES: &[&str] = &[
    "account.created",
    "account.updated",
    "account.archived",
    "account.restored",
    "contact.created",
    "contact.updated",
    "contact.archived",
    "contact.restored",
    "opportunity.created",
    "opportunity.updated",
    "opportunity.archived",
    "opportunity.restored",
    "opportunity.stage_changed",
    "survey_record.created",
    "survey_record.updated",
    "survey_record.archived",
    "survey_record.restored",
    "activity.created",
    "activity.updated",
    "activity.archived",
    "activity.restored",
    "stage_assessment.created",
    "playbook.updated",
];

/// Sent by `POST /v1/webhook-endpoints/{id}/test` only; never in the log.
pub const WEBHOOK_TEST: &str = "webhook.test";

/// One of `EVENT_TYPES` (or `webhook.test`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventType(&'static str);

impl EventType {
    pub const STAGE_CHANGED: EventType = EventType("opportunity.stage_changed");
    pub const ASSESSMENT_CREATED: EventType = EventType("stage_assessment.created");
    pub const PLAYBOOK_UPDATED: EventType = EventType("playbook.updated");
    pub const WEBHOOK_TEST: EventType = EventType(WEBHOOK_TEST);

    pub fn of(resource: Resource, what: Lifecycle) -> EventType {
        let suffix = match what {
            Lifecycle::Created => "created",
            Lifecycle::Updated => "updated",
            Lifecycle::Archived => "archived",
            Lifecycle::Restored => "restored",
        };
        let name = format!("{}.{suffix}", resource.as_str());
        // Every resource x lifecycle pair is in EVENT_TYPES (a test checks it).
        EventType::parse(&name).unwrap_or(EventType::WEBHOOK_TEST)
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EVENT_TYPES
            .iter()
            .chain(std::iter::once(&WEBHOOK_TEST))
            .find(|t| **t == s)
            .map(|t| EventType(t))
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// What an event's data holds, by its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `<resource>.created|updated|archived|restored`: the resource's ids, `version`, `actor`
    /// and `object`; `changed_fields` and `previous` for `updated`.
    Lifecycle(Resource, Lifecycle),
    StageChanged,
    AssessmentCreated,
    PlaybookUpdated,
    WebhookTest,
}

impl EventType {
    /// What this type's data holds.
    pub fn shape(self) -> Shape {
        let resources = [
            Resource::Account,
            Resource::Contact,
            Resource::Opportunity,
            Resource::SurveyRecord,
            Resource::Activity,
        ];
        let lifecycles = [
            Lifecycle::Created,
            Lifecycle::Updated,
            Lifecycle::Archived,
            Lifecycle::Restored,
        ];
        for r in resources {
            for l in lifecycles {
                if EventType::of(r, l) == self {
                    return Shape::Lifecycle(r, l);
                }
            }
        }
        match self {
            EventType::STAGE_CHANGED => Shape::StageChanged,
            EventType::ASSESSMENT_CREATED => Shape::AssessmentCreated,
            EventType::PLAYBOOK_UPDATED => Shape::PlaybookUpdated,
            _ => Shape::WebhookTest,
        }
    }

    /// The name of its schema in the OpenAPI document: `opportunity.stage_changed` is
    /// `OpportunityStageChangedEvent`.
    pub fn schema_name(self) -> String {
        let mut name = String::new();
        for part in self.0.split(['.', '_']) {
            let mut chars = part.chars();
            if let Some(first) = chars.next() {
                name.extend(first.to_uppercase());
                name.push_str(chars.as_str());
            }
        }
        name.push_str("Event");
        name
    }

    /// Every type of the log, and `webhook.test`.
    pub fn all() -> impl Iterator<Item = EventType> {
        EVENT_TYPES
            .iter()
            .chain(std::iter::once(&WEBHOOK_TEST))
            .map(|t| EventType(t))
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// A set of type patterns: exact types, `<resource>.*`, or `*` for all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TypeFilter {
    patterns: Vec<String>,
}

impl TypeFilter {
    /// Parses patterns, each checked against the vocabulary; `field` names them in violations.
    pub fn parse<'a>(
        field: &str,
        patterns: impl IntoIterator<Item = &'a str>,
    ) -> Result<TypeFilter, Violation> {
        let mut out: Vec<String> = Vec::new();
        for p in patterns {
            let known = p == "*"
                || EVENT_TYPES.contains(&p)
                || p.strip_suffix(".*").is_some_and(|prefix| {
                    EVENT_TYPES
                        .iter()
                        .any(|t| t.split('.').next() == Some(prefix))
                });
            if !known {
                return Err(Violation::new(
                    field,
                    Code::UnknownValue {
                        allowed: EVENT_TYPES.iter().map(|t| t.to_string()).collect(),
                    },
                ));
            }
            if !out.iter().any(|o| o == p) {
                out.push(p.to_string());
            }
        }
        Ok(TypeFilter { patterns: out })
    }

    /// No pattern given: everything matches.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    pub fn matches(&self, event_type: &str) -> bool {
        self.patterns.is_empty() || self.patterns.iter().any(|p| matches(p, event_type))
    }

    /// The exact types selected (for a query): every known type some pattern matches.
    pub fn expand(&self) -> Vec<&'static str> {
        EVENT_TYPES
            .iter()
            .copied()
            .filter(|t| self.matches(t))
            .collect()
    }
}

/// Every pattern a filter accepts: `*`, `<resource>.*` and each type.
pub fn all_patterns() -> Vec<String> {
    let mut out = vec!["*".to_string()];
    for t in EVENT_TYPES {
        if let Some((prefix, _)) = t.split_once('.') {
            let p = format!("{prefix}.*");
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out.extend(EVENT_TYPES.iter().map(|t| t.to_string()));
    out
}

/// Whether one pattern (`*`, `opportunity.*` or an exact type) matches `event_type`.
pub fn matches(pattern: &str, event_type: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some("") => true,
        Some(prefix) => event_type.starts_with(prefix),
        None => pattern == event_type,
    }
}

/// The public id of an event: `evt_` and its UUID v7.
pub fn public_id(id: uuid::Uuid) -> String {
    format!("evt_{id}")
}

/// The UUID of `evt_<uuid>` (or of a plain UUID).
pub fn parse_public_id(s: &str) -> Option<uuid::Uuid> {
    uuid::Uuid::parse_str(s.strip_prefix("evt_").unwrap_or(s)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lifecycle_type_is_known() {
        for r in [
            Resource::Account,
            Resource::Contact,
            Resource::Opportunity,
            Resource::SurveyRecord,
            Resource::Activity,
        ] {
            for l in [
                Lifecycle::Created,
                Lifecycle::Updated,
                Lifecycle::Archived,
                Lifecycle::Restored,
            ] {
                let t = EventType::of(r, l);
                assert_ne!(t, EventType::WEBHOOK_TEST, "{r:?} {l:?}");
                assert!(t.as_str().starts_with(r.as_str()));
            }
        }
    }

    #[test]
    fn patterns_match_by_prefix_or_exactly() {
        assert!(matches("*", "account.created"));
        assert!(matches("opportunity.*", "opportunity.stage_changed"));
        assert!(!matches("opportunity.*", "account.created"));
        assert!(matches("account.created", "account.created"));
        assert!(!matches("account.created", "account.updated"));
    }

    #[test]
    fn filters_reject_unknown_types_naming_the_field() {
        let f = TypeFilter::parse("types", ["opportunity.*", "stage_assessment.created"]).unwrap();
        assert!(f.matches("opportunity.updated"));
        assert!(f.matches("stage_assessment.created"));
        assert!(!f.matches("account.created"));
        assert_eq!(f.expand().len(), 6);
        let e = TypeFilter::parse("event_types", ["opportunity.moved"]).unwrap_err();
        assert_eq!(e.path, "event_types");
        assert!(TypeFilter::parse("types", ["nothing.*"]).is_err());
        assert!(TypeFilter::parse("types", ["opp*"]).is_err());
        assert!(TypeFilter::parse("types", Vec::<&str>::new())
            .unwrap()
            .matches("account.created"));
    }

    #[test]
    fn every_listed_pattern_parses() {
        let all = all_patterns();
        assert_eq!(all.len(), 1 + 7 + EVENT_TYPES.len());
        assert!(TypeFilter::parse("t", all.iter().map(String::as_str)).is_ok());
        assert!(TypeFilter::parse("t", [" account.created"]).is_err());
    }

    #[test]
    fn every_type_has_a_shape_and_a_schema_name() {
        assert_eq!(
            EventType::STAGE_CHANGED.schema_name(),
            "OpportunityStageChangedEvent"
        );
        assert_eq!(
            EventType::parse("survey_record.updated").map(EventType::shape),
            Some(Shape::Lifecycle(Resource::SurveyRecord, Lifecycle::Updated))
        );
        assert_eq!(EventType::WEBHOOK_TEST.shape(), Shape::WebhookTest);
        assert_eq!(EventType::all().count(), EVENT_TYPES.len() + 1);
        let names: std::collections::HashSet<String> =
            EventType::all().map(EventType::schema_name).collect();
        assert_eq!(names.len(), EVENT_TYPES.len() + 1, "names are distinct");
    }

    #[test]
    fn public_ids_round_trip() {
        let id = uuid::Uuid::now_v7();
        let p = public_id(id);
        assert!(p.starts_with("evt_") && p.len() == 40);
        assert_eq!(parse_public_id(&p), Some(id));
        assert_eq!(parse_public_id("evt_zz"), None);
    }
}
