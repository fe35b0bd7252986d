//! A row of an exported file as a write by reference: which resource (the row's id in the
//! source) and what to write. Problems are named by the file's column.

use crate::delimited::Row;
use crate::domain::activity::{ActivityKind, NextStep, Observation};
use crate::domain::assessment::Requirements;
use crate::domain::external_ref::ExternalRef;
use crate::domain::import::values;
use crate::domain::import::{Field, ImportMappings, ImportResource, ImportSource, Layout};
use crate::domain::opportunity::{Competitor, OpportunityStatus, StageCode};
use crate::domain::org_chart::{Attitude, Department, Influence, MethodologyRole, Relationship};
use crate::domain::validate::{Code, Violation};
use crate::domain::SizeBand;
use crate::service::accounts::CreateAccount;
use crate::service::activities::{ParticipantRef, PutActivity};
use crate::service::contacts::PutContact;
use crate::service::opportunities::PutOpportunity;

/// What a job reads rows with.
pub(super) struct Ctx<'a> {
    pub source: ImportSource,
    pub resource: ImportResource,
    pub layout: &'a Layout,
    pub mappings: &'a ImportMappings,
    pub currency: &'a str,
}

/// A row's write.
pub(super) enum Write {
    Account(CreateAccount),
    /// With the manager's id in the source, set once all rows are in.
    Contact(PutContact, Option<String>),
    Opportunity(PutOpportunity),
    /// With the ids of the source it names (`WhatId` is an opportunity's or an account's).
    Activity(Box<PutActivity>, Links),
}

/// What an activity row names in the source.
#[derive(Debug, Default)]
pub(super) struct Links {
    pub what: Option<String>,
    pub who: Vec<String>,
}

/// A row read: its reference, its write, or the problems of its columns.
pub(super) struct Read {
    pub reference: Option<ExternalRef>,
    pub write: Result<Write, Vec<Violation>>,
    /// A stage value without a mapping.
    pub unmapped: Option<String>,
}

struct Cells<'a> {
    ctx: &'a Ctx<'a>,
    row: &'a Row,
    errors: Vec<Violation>,
    unmapped: Option<String>,
}

impl Cells<'_> {
    fn text(&self, f: Field) -> Option<String> {
        let header = self.ctx.layout.header(f)?;
        self.row.get(header).map(str::to_string)
    }

    fn column(&self, f: Field) -> String {
        self.ctx.layout.header(f).unwrap_or_default().to_string()
    }

    fn parse<T>(&mut self, f: Field, parse: impl Fn(&str) -> Result<T, Code>) -> Option<T> {
        let v = self.text(f)?;
        match parse(&v) {
            Ok(t) => Some(t),
            Err(code) => {
                self.errors.push(Violation::new(self.column(f), code));
                None
            }
        }
    }

    fn code<T: crate::domain::Vocabulary>(&mut self, f: Field, all: &[&str]) -> Option<T> {
        let allowed: Vec<String> = all.iter().map(|s| s.to_string()).collect();
        self.parse(f, |v| {
            T::from_code(v.trim()).ok_or(Code::UnknownValue {
                allowed: allowed.clone(),
            })
        })
    }

    fn json<T: serde::de::DeserializeOwned>(&mut self, f: Field) -> Option<T> {
        self.parse(f, |v| {
            serde_json::from_str(v)
                .map_err(|_| Code::InvalidFormat(crate::domain::validate::Format::Json))
        })
    }

    /// The items of a list cell: a JSON array of strings (the export's), or separated by `;`
    /// or `,`.
    fn list(&mut self, f: Field) -> Vec<String> {
        match self.text(f) {
            Some(v) if v.starts_with('[') => self.json(f).unwrap_or_default(),
            Some(v) => values::list(&v),
            None => Vec::new(),
        }
    }

    fn required(&mut self, f: Field, v: Option<String>) -> String {
        if v.is_none() {
            let column = match self.ctx.layout.header(f) {
                Some(h) => h.to_string(),
                None => format!("{f:?}"),
            };
            self.errors.push(Violation::new(column, Code::Required));
        }
        v.unwrap_or_default()
    }

    fn stage(&mut self) -> Option<StageCode> {
        let v = self.text(Field::Stage)?;
        let stage = self.ctx.mappings.stage(self.ctx.source, &v);
        if stage.is_none() {
            let allowed = StageCode::ALL
                .iter()
                .map(|s| s.as_str().to_string())
                .collect();
            self.errors.push(Violation::new(
                self.column(Field::Stage),
                Code::UnknownValue { allowed },
            ));
            self.unmapped = Some(v);
        }
        stage
    }
}

/// Reads a row of the job's file.
pub(super) fn read(ctx: &Ctx<'_>, row: &Row) -> Read {
    let mut c = Cells {
        ctx,
        row,
        errors: Vec::new(),
        unmapped: None,
    };
    let id_field = if ctx.source == ImportSource::Buyerpath {
        Field::OwnId
    } else {
        Field::Id
    };
    let reference = c
        .text(id_field)
        .map(|id| ExternalRef::new(ctx.source.as_str(), id));
    if reference.is_none() {
        let column = c.column(id_field);
        c.errors.push(Violation::new(column, Code::Required));
    }
    let write = match ctx.resource {
        ImportResource::Accounts => Write::Account(account(&mut c)),
        ImportResource::Contacts => {
            let manager = c.text(Field::ReportsToRef);
            Write::Contact(contact(&mut c), manager)
        }
        ImportResource::Opportunities => Write::Opportunity(opportunity(&mut c)),
        ImportResource::Activities => {
            let links = Links {
                what: c.text(Field::WhatRef),
                who: c.list(Field::WhoRef),
            };
            Write::Activity(Box::new(activity(&mut c)), links)
        }
    };
    let unmapped = c.unmapped.take();
    Read {
        reference,
        write: if c.errors.is_empty() {
            Ok(write)
        } else {
            Err(c.errors)
        },
        unmapped,
    }
}

/// More references from the `buyerpath` source's `external_refs` column: a JSON array of
/// `{system, id}` (as the export writes it), or `system:id` separated by spaces.
fn more_refs(c: &mut Cells<'_>) -> Option<Vec<ExternalRef>> {
    let cell = c.text(Field::ExternalRefs)?;
    if cell.starts_with('[') {
        return c.json(Field::ExternalRefs);
    }
    let mut refs = Vec::new();
    for key in cell.split_whitespace() {
        match ExternalRef::parse(key) {
            Some(r) => refs.push(r),
            None => c.errors.push(Violation::new(
                c.column(Field::ExternalRefs),
                Code::InvalidFormat(crate::domain::validate::Format::ExternalRef),
            )),
        }
    }
    Some(refs)
}

fn account(c: &mut Cells<'_>) -> CreateAccount {
    let name = c.text(Field::Name);
    let website = c
        .text(Field::Website)
        .or_else(|| c.text(Field::Domain).map(|d| values::website_of_domain(&d)));
    CreateAccount {
        name: c.required(Field::Name, name),
        industry: c.text(Field::Industry),
        region: c
            .text(Field::Region)
            .or_else(|| c.text(Field::State))
            .or_else(|| c.text(Field::City)),
        size_band: c.code::<SizeBand>(Field::SizeBand, SizeBand::CODES),
        website,
        tags: c.list(Field::Tags),
        notes: c.text(Field::Notes),
        owner: c.text(Field::Owner),
        external_refs: more_refs(c),
    }
}

fn contact(c: &mut Cells<'_>) -> PutContact {
    let name = c.text(Field::Name).or_else(|| {
        values::person_name(
            c.text(Field::FirstName).as_deref(),
            c.text(Field::LastName).as_deref(),
        )
    });
    let name_field = if c.ctx.layout.has(Field::Name) {
        Field::Name
    } else {
        Field::LastName
    };
    let department = c
        .text(Field::Department)
        .map(|d| Department::parse(&d.trim().to_lowercase()).unwrap_or(Department::Other));
    let key_person = c.parse(Field::KeyPerson, values::boolean).unwrap_or(false);
    PutContact {
        account_id: None,
        account_ref: c.list(Field::AccountRef).into_iter().next(),
        name: c.required(name_field, name),
        title: c.text(Field::Title),
        department,
        methodology_role: c.code::<MethodologyRole>(Field::MethodologyRole, MethodologyRole::CODES),
        reports_to: None,
        reports_to_ref: None,
        attitude: c.code::<Attitude>(Field::Attitude, Attitude::CODES),
        relationship: c.code::<Relationship>(Field::Relationship, Relationship::CODES),
        influence: c.code::<Influence>(Field::Influence, Influence::CODES),
        key_person,
        phone: c.text(Field::Phone).or_else(|| c.text(Field::Mobile)),
        email: c.text(Field::Email),
        notes: c.text(Field::Notes),
        external_refs: more_refs(c),
    }
}

fn opportunity(c: &mut Cells<'_>) -> PutOpportunity {
    let name = c.text(Field::Name);
    let amount = c.parse(Field::Amount, values::amount);
    let currency = c
        .text(Field::Currency)
        .or_else(|| amount.as_ref().map(|_| c.ctx.currency.to_string()));
    let competitors: Option<Vec<Competitor>> = c.json(Field::Competitors);
    PutOpportunity {
        account_id: None,
        account_ref: c.list(Field::AccountRef).into_iter().next(),
        name: c.required(Field::Name, name),
        description: c.text(Field::Description),
        estimated_amount: amount,
        currency,
        expected_start: c.parse(Field::ExpectedStart, values::date),
        deadline: c.parse(Field::CloseDate, values::date),
        status: c.code::<OpportunityStatus>(Field::Status, OpportunityStatus::CODES),
        competitors: competitors.unwrap_or_default(),
        owner: c.text(Field::Owner),
        current_stage: c.stage(),
        stage_reason: None,
        external_refs: more_refs(c),
    }
}

fn activity(c: &mut Cells<'_>) -> PutActivity {
    let kind_value = c.text(Field::Kind);
    let kind = c
        .ctx
        .mappings
        .activity_kind(c.ctx.source, kind_value.as_deref());
    let start = c.parse(Field::StartAt, values::date_time);
    let date = c.parse(Field::OccurredAt, values::date_time);
    let occurred_at = start.or(date);
    let when_field = if c.ctx.layout.has(Field::StartAt) {
        Field::StartAt
    } else {
        Field::OccurredAt
    };
    if occurred_at.is_none()
        && c.text(Field::StartAt).is_none()
        && c.text(Field::OccurredAt).is_none()
    {
        let column = c.column(when_field);
        c.errors.push(Violation::new(
            if column.is_empty() {
                "ActivityDate".into()
            } else {
                column
            },
            Code::Required,
        ));
    }
    let subject = c.text(Field::Subject).or_else(|| kind_value.clone());
    let own = c.ctx.source == ImportSource::Buyerpath;
    // The export's participants are buyerpath ids: references in the `buyerpath` system.
    let participant_refs = if own {
        c.list(Field::Participants)
            .into_iter()
            .map(ParticipantRef)
            .collect()
    } else {
        Vec::new()
    };
    let key_actions: Option<Vec<String>> = c.json(Field::KeyActions);
    let tools: Option<Vec<String>> = c.json(Field::Tools);
    let observations: Option<Vec<Observation>> = c.json(Field::Observations);
    let our_attendees: Option<Vec<String>> = c.json(Field::OurAttendees);
    PutActivity {
        account_id: None,
        account_ref: c.list(Field::AccountRef).into_iter().next(),
        kind: if own {
            c.code::<ActivityKind>(Field::Kind, ActivityKind::CODES)
                .unwrap_or(kind)
        } else {
            kind
        },
        occurred_at: occurred_at.unwrap_or_default(),
        duration_minutes: c.parse(Field::Duration, values::minutes),
        subject: c.required(Field::Subject, subject),
        notes: c.text(Field::Notes),
        opportunity_id: None,
        opportunity_ref: c.list(Field::OpportunityRef).into_iter().next(),
        participants: Vec::new(),
        participant_refs,
        our_attendees,
        key_actions: key_actions.unwrap_or_default(),
        tools: tools.unwrap_or_default(),
        observations: observations.unwrap_or_default(),
        requirements: c.json::<Requirements>(Field::Requirements),
        outcome: c.text(Field::Outcome),
        next_step: c.json::<NextStep>(Field::NextStep),
        survey_record_id: None,
        external_refs: more_refs(c),
    }
}
