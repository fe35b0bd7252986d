//! What the seller did: the vocabulary of activities, their limits (stated once) and the rules
//! a recorded activity follows.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::assessment::Requirements;
use crate::domain::external_ref::{self, ExternalRef};
use crate::domain::playbook::{Kind, Playbook};
use crate::domain::text_enum;
use crate::domain::validate::{Checked, Checker, Code, CodeKind, Limit, Rule};

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

impl ActivityKind {
    /// The kind's name for people (zh/en), as timelines and judgements show it.
    pub fn label(self, lang: crate::domain::playbook::Lang) -> &'static str {
        use crate::domain::playbook::Lang;
        match (self, lang) {
            (ActivityKind::Visit, Lang::Zh) => "拜访",
            (ActivityKind::Meeting, Lang::Zh) => "会议",
            (ActivityKind::Call, Lang::Zh) => "电话",
            (ActivityKind::Email, Lang::Zh) => "邮件",
            (ActivityKind::Event, Lang::Zh) => "活动",
            (ActivityKind::Document, Lang::Zh) => "文档",
            (ActivityKind::Other, Lang::Zh) => "其他",
            (ActivityKind::Visit, Lang::En) => "Visit",
            (ActivityKind::Meeting, Lang::En) => "Meeting",
            (ActivityKind::Call, Lang::En) => "Call",
            (ActivityKind::Email, Lang::En) => "E-mail",
            (ActivityKind::Event, Lang::En) => "Event",
            (ActivityKind::Document, Lang::En) => "Document",
            (ActivityKind::Other, Lang::En) => "Other",
        }
    }
}

/// A buying signal seen or heard during the activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    /// A buying-signal code of the tenant's playbook, e.g. `S1.B03`.
    #[schema(example = "S1.B03")]
    pub signal: String,
    pub evidence: Option<String>,
}

/// What was agreed to do next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NextStep {
    pub text: String,
    pub due_at: Option<DateTime<Utc>>,
}

/// An activity as recorded (the body of create; PATCH merges into it).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityInput {
    pub kind: ActivityKind,
    /// When it happened (RFC 3339).
    pub occurred_at: DateTime<Utc>,
    pub duration_minutes: Option<u32>,
    #[schema(example = "拜访信息中心王主任")]
    pub subject: String,
    pub notes: Option<String>,
    /// An opportunity of the same account.
    pub opportunity_id: Option<Uuid>,
    /// Contacts of the same account who took part.
    #[serde(default)]
    pub participants: Vec<Uuid>,
    /// `sub`s of our people who took part; defaults to the caller.
    pub our_attendees: Option<Vec<String>>,
    /// Key actions of the playbook this activity carried out, e.g. `S1.A03`.
    #[serde(default)]
    pub key_actions: Vec<String>,
    /// Named tools of the playbook used, e.g. `technical_exchange`.
    #[serde(default)]
    pub tools: Vec<String>,
    /// Buying signals seen or heard.
    #[serde(default)]
    pub observations: Vec<Observation>,
    /// What was heard about the customer's requirements.
    pub requirements: Option<Requirements>,
    pub outcome: Option<String>,
    pub next_step: Option<NextStep>,
    /// The survey record, when the activity was the survey.
    pub survey_record_id: Option<Uuid>,
    /// References of other systems, up to 20, each unique in the tenant (409
    /// `external_ref_taken`); `null` in a patch clears them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 20)]
    pub external_refs: Option<Vec<ExternalRef>>,
}

/// How long an activity may last: a week.
pub const DURATION_MAX_MINUTES: u32 = 10_080;
pub const SUBJECT_MAX: usize = 200;
pub const NOTES_MAX: usize = 10_000;
pub const OUTCOME_MAX: usize = 2000;
pub const PARTICIPANTS_MAX: usize = 100;
/// `our_attendees`, `key_actions`, `tools`.
pub const LIST_MAX: usize = 50;
/// One of `our_attendees`.
pub const ATTENDEE_MAX: usize = 200;
pub const OBSERVATIONS_MAX: usize = 100;
pub const EVIDENCE_MAX: usize = 5000;
pub const NEXT_STEP_MAX: usize = 2000;
pub const COMPETITOR_MAX: usize = 200;

/// The input and its patch document.
const INPUTS: &[&str] = &["ActivityInput", "ActivityPatch", "PutActivity"];

/// Every limit of an activity, as the OpenAPI document states it.
pub const LIMITS: &[Limit] = &[
    Limit {
        schemas: INPUTS,
        member: "duration_minutes",
        rule: Rule::AtMost(DURATION_MAX_MINUTES as u64),
    },
    Limit {
        schemas: INPUTS,
        member: "subject",
        rule: Rule::Text {
            required: true,
            max: SUBJECT_MAX,
        },
    },
    Limit {
        schemas: INPUTS,
        member: "notes",
        rule: Rule::Text {
            required: false,
            max: NOTES_MAX,
        },
    },
    Limit {
        schemas: INPUTS,
        member: "participants",
        rule: Rule::Items(PARTICIPANTS_MAX),
    },
    Limit {
        schemas: INPUTS,
        member: "our_attendees",
        rule: Rule::Items(LIST_MAX),
    },
    Limit {
        schemas: INPUTS,
        member: "key_actions",
        rule: Rule::Items(LIST_MAX),
    },
    Limit {
        schemas: INPUTS,
        member: "tools",
        rule: Rule::Items(LIST_MAX),
    },
    Limit {
        schemas: INPUTS,
        member: "observations",
        rule: Rule::Items(OBSERVATIONS_MAX),
    },
    Limit {
        schemas: INPUTS,
        member: "outcome",
        rule: Rule::Text {
            required: false,
            max: OUTCOME_MAX,
        },
    },
    Limit {
        schemas: &["Observation"],
        member: "evidence",
        rule: Rule::Text {
            required: false,
            max: EVIDENCE_MAX,
        },
    },
    Limit {
        schemas: &["NextStep"],
        member: "text",
        rule: Rule::Text {
            required: true,
            max: NEXT_STEP_MAX,
        },
    },
];

/// An activity that passed its rules: texts trimmed, lists without duplicates, the caller as
/// the attendee when none was named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedActivity {
    pub opportunity_id: Option<Uuid>,
    pub kind: ActivityKind,
    pub occurred_at: DateTime<Utc>,
    pub duration_minutes: Option<u32>,
    pub subject: String,
    pub notes: Option<String>,
    pub participants: Vec<Uuid>,
    pub our_attendees: Vec<String>,
    pub key_actions: Vec<String>,
    pub tools: Vec<String>,
    pub observations: Vec<Observation>,
    pub requirements: Option<Requirements>,
    pub outcome: Option<String>,
    pub next_step: Option<NextStep>,
    pub survey_record_id: Option<Uuid>,
    /// `<system>:<id>`, as stored.
    pub external_refs: Vec<String>,
}

fn dedup<T: PartialEq + Clone>(list: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(list.len());
    for x in list {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

fn at_most(c: &mut Checker, field: &str, len: usize, max: usize) {
    if len > max {
        c.add(field, Code::TooMany { max: max as u64 });
    }
}

/// Checks an activity against its limits and the tenant's playbook (codes of key actions,
/// tools and buying signals); `caller` attends when no attendee is named. Every violation is
/// reported, not just the first.
pub fn check(input: ActivityInput, caller: &str, playbook: &Playbook) -> Checked<CheckedActivity> {
    let mut c = Checker::new();
    let subject = c.required_text("subject", &input.subject, SUBJECT_MAX);
    let notes = c.optional_text("notes", input.notes.as_deref(), NOTES_MAX);
    let outcome = c.optional_text("outcome", input.outcome.as_deref(), OUTCOME_MAX);
    if input
        .duration_minutes
        .is_some_and(|d| d > DURATION_MAX_MINUTES)
    {
        c.add(
            "duration_minutes",
            Code::range(0, i64::from(DURATION_MAX_MINUTES)),
        );
    }
    let our_attendees = attendees(&mut c, input.our_attendees.as_deref(), caller);
    let participants = dedup(&input.participants);
    at_most(&mut c, "participants", participants.len(), PARTICIPANTS_MAX);
    check_codes(&mut c, &input, playbook);
    let observations = observations(&mut c, &input.observations, playbook);
    let requirements = input.requirements.as_ref().map(|r| Requirements {
        clarity: r.clarity,
        leaning: r.leaning,
        competitor: c.optional_text(
            "requirements.competitor",
            r.competitor.as_deref(),
            COMPETITOR_MAX,
        ),
    });
    let next_step = input.next_step.as_ref().map(|n| NextStep {
        text: c.required_text("next_step.text", &n.text, NEXT_STEP_MAX),
        due_at: n.due_at,
    });
    let refs = input.external_refs.as_deref().unwrap_or_default();
    let external_refs = external_ref::check(&mut c, "external_refs", refs);
    c.finish()?;
    Ok(CheckedActivity {
        opportunity_id: input.opportunity_id,
        kind: input.kind,
        occurred_at: input.occurred_at,
        duration_minutes: input.duration_minutes,
        subject,
        notes,
        participants,
        our_attendees,
        key_actions: dedup(&input.key_actions),
        tools: dedup(&input.tools),
        observations,
        requirements,
        outcome,
        next_step,
        survey_record_id: input.survey_record_id,
        external_refs,
    })
}

/// Our attendees, trimmed and without duplicates; the caller when none are named.
fn attendees(c: &mut Checker, named: Option<&[String]>, caller: &str) -> Vec<String> {
    let Some(list) = named else {
        return vec![caller.to_string()];
    };
    at_most(c, "our_attendees", list.len(), LIST_MAX);
    let checked: Vec<String> = list
        .iter()
        .enumerate()
        .map(|(i, s)| c.required_text(&format!("our_attendees[{i}]"), s, ATTENDEE_MAX))
        .collect();
    dedup(&checked)
}

/// Key actions and tools are the playbook's.
fn check_codes(c: &mut Checker, input: &ActivityInput, playbook: &Playbook) {
    at_most(c, "key_actions", input.key_actions.len(), LIST_MAX);
    for (i, code) in input.key_actions.iter().enumerate() {
        if playbook.action(code).is_none() {
            c.add(
                format!("key_actions[{i}]"),
                Code::UnknownCode {
                    code: code.clone(),
                    kind: CodeKind::KeyAction,
                },
            );
        }
    }
    at_most(c, "tools", input.tools.len(), LIST_MAX);
    let tools: HashSet<&str> = playbook.tools.iter().map(|t| t.code.as_str()).collect();
    for (i, code) in input.tools.iter().enumerate() {
        if !tools.contains(code.as_str()) {
            c.add(
                format!("tools[{i}]"),
                Code::UnknownCode {
                    code: code.clone(),
                    kind: CodeKind::Tool,
                },
            );
        }
    }
}

/// Observations name buying signals of the playbook; their evidence is a text.
fn observations(c: &mut Checker, list: &[Observation], playbook: &Playbook) -> Vec<Observation> {
    at_most(c, "observations", list.len(), OBSERVATIONS_MAX);
    list.iter()
        .enumerate()
        .map(|(i, o)| {
            if playbook.stage_of_item(&o.signal, Kind::Behaviour).is_none() {
                c.add(
                    format!("observations[{i}].signal"),
                    Code::UnknownCode {
                        code: o.signal.clone(),
                        kind: CodeKind::Signal,
                    },
                );
            }
            Observation {
                signal: o.signal.clone(),
                evidence: c.optional_text(
                    &format!("observations[{i}].evidence"),
                    o.evidence.as_deref(),
                    EVIDENCE_MAX,
                ),
            }
        })
        .collect()
}
