//! Exports (issue 21): a tenant's accounts, contacts, opportunities or activities as CSV, in id
//! order, page by page — what the `buyerpath` import source reads back (ids, references, and
//! the members a form cannot flatten as JSON in their cells).

use serde::Serialize;
use uuid::Uuid;

use crate::domain::import::ImportResource;
use crate::error::{ApiError, ApiResult};
use crate::service::accounts::{self, AccountView, ListAccounts};
use crate::service::activities::{self, ActivityView};
use crate::service::contacts::{self, ContactView};
use crate::service::opportunities::{self, ListOpportunities, OpportunityView};
use crate::service::{Conn, Keyset, Principal};

/// What to export.
#[derive(Debug)]
pub enum ExportFilter {
    Accounts(ListAccounts),
    Contacts {
        account_id: Option<Uuid>,
        include_archived: bool,
    },
    Opportunities(ListOpportunities),
    Activities {
        account_id: Option<Uuid>,
        include_archived: bool,
    },
}

impl ExportFilter {
    pub fn resource(&self) -> ImportResource {
        match self {
            ExportFilter::Accounts(_) => ImportResource::Accounts,
            ExportFilter::Contacts { .. } => ImportResource::Contacts,
            ExportFilter::Opportunities(_) => ImportResource::Opportunities,
            ExportFilter::Activities { .. } => ImportResource::Activities,
        }
    }
}

const ACCOUNT_COLUMNS: &[&str] = &[
    "id",
    "external_refs",
    "name",
    "industry",
    "region",
    "size_band",
    "website",
    "tags",
    "notes",
    "owner",
];
const CONTACT_COLUMNS: &[&str] = &[
    "id",
    "external_refs",
    "account_id",
    "name",
    "title",
    "department",
    "methodology_role",
    "reports_to",
    "attitude",
    "relationship",
    "influence",
    "key_person",
    "phone",
    "email",
    "notes",
];
const OPPORTUNITY_COLUMNS: &[&str] = &[
    "id",
    "external_refs",
    "account_id",
    "name",
    "description",
    "estimated_amount",
    "currency",
    "expected_start",
    "deadline",
    "status",
    "current_stage",
    "competitors",
    "owner",
];
const ACTIVITY_COLUMNS: &[&str] = &[
    "id",
    "external_refs",
    "account_id",
    "opportunity_id",
    "kind",
    "occurred_at",
    "duration_minutes",
    "subject",
    "notes",
    "participants",
    "our_attendees",
    "key_actions",
    "tools",
    "observations",
    "requirements",
    "outcome",
    "next_step",
];

/// The header line's columns.
pub fn columns(resource: ImportResource) -> &'static [&'static str] {
    match resource {
        ImportResource::Accounts => ACCOUNT_COLUMNS,
        ImportResource::Contacts => CONTACT_COLUMNS,
        ImportResource::Opportunities => OPPORTUNITY_COLUMNS,
        ImportResource::Activities => ACTIVITY_COLUMNS,
    }
}

fn json<T: Serialize>(v: &T) -> ApiResult<String> {
    serde_json::to_string(v).map_err(ApiError::internal)
}

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|t| t.to_string()).unwrap_or_default()
}

fn code<T: Serialize>(v: &T) -> ApiResult<String> {
    Ok(json(v)?.trim_matches('"').to_string())
}

fn account_line(a: &AccountView) -> ApiResult<Vec<String>> {
    Ok(vec![
        a.id.to_string(),
        json(&a.external_refs)?,
        a.name.clone(),
        text(&a.industry),
        text(&a.region),
        opt(a.size_band.map(|s| s.as_str())),
        text(&a.website),
        json(&a.tags)?,
        text(&a.notes),
        a.owner.clone(),
    ])
}

fn contact_line(c: &ContactView) -> ApiResult<Vec<String>> {
    Ok(vec![
        c.id.to_string(),
        json(&c.external_refs)?,
        c.account_id.to_string(),
        c.name.clone(),
        text(&c.title),
        code(&c.department)?,
        opt(c.methodology_role.map(|r| r.as_str())),
        opt(c.reports_to),
        code(&c.attitude)?,
        code(&c.relationship)?,
        opt(c.influence.map(|i| i.as_str())),
        c.key_person.to_string(),
        text(&c.phone),
        text(&c.email),
        text(&c.notes),
    ])
}

fn opportunity_line(o: &OpportunityView) -> ApiResult<Vec<String>> {
    Ok(vec![
        o.id.to_string(),
        json(&o.external_refs)?,
        o.account_id.to_string(),
        o.name.clone(),
        text(&o.description),
        text(&o.estimated_amount),
        text(&o.currency),
        opt(o.expected_start),
        opt(o.deadline),
        code(&o.status)?,
        o.current_stage.as_str().to_string(),
        json(&o.competitors)?,
        o.owner.clone(),
    ])
}

fn activity_line(a: &ActivityView) -> ApiResult<Vec<String>> {
    let or_empty = |s: String| if s == "null" { String::new() } else { s };
    Ok(vec![
        a.id.to_string(),
        json(&a.external_refs)?,
        a.account_id.to_string(),
        opt(a.opportunity_id),
        a.kind.as_str().to_string(),
        a.occurred_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        opt(a.duration_minutes),
        a.subject.clone(),
        text(&a.notes),
        json(&a.participants)?,
        json(&a.our_attendees)?,
        json(&a.key_actions)?,
        json(&a.tools)?,
        json(&a.observations)?,
        or_empty(json(&a.requirements)?),
        text(&a.outcome),
        or_empty(json(&a.next_step)?),
    ])
}

/// One page of the export as CSV lines (with the header line first when `after` is none), and
/// the id to continue after (none on the last page). Any role reads.
pub async fn page(
    conn: &mut Conn,
    who: &Principal,
    filter: &ExportFilter,
    after: Option<Uuid>,
    limit: i64,
) -> ApiResult<(Vec<u8>, Option<Uuid>)> {
    let mut lines: Vec<(Uuid, Vec<String>)> = Vec::new();
    match filter {
        ExportFilter::Accounts(f) => {
            let f = ListAccounts {
                q: f.q.clone(),
                owner: f.owner.clone(),
                industry: f.industry.clone(),
                tag: f.tag.clone(),
                external_ref: f.external_ref.clone(),
                include_archived: f.include_archived,
            };
            for a in accounts::list(conn, who, f, Keyset::After(after), limit).await? {
                lines.push((a.id, account_line(&a)?));
            }
        }
        ExportFilter::Opportunities(f) => {
            let f = ListOpportunities {
                account_id: f.account_id,
                stage: f.stage.clone(),
                status: f.status,
                owner: f.owner.clone(),
                external_ref: f.external_ref.clone(),
                include_archived: f.include_archived,
            };
            for o in opportunities::list(conn, who, f, Keyset::After(after), limit).await? {
                lines.push((o.id, opportunity_line(&o)?));
            }
        }
        ExportFilter::Contacts {
            account_id,
            include_archived,
        } => {
            let page =
                contacts::export_page(conn, who, *account_id, *include_archived, after, limit);
            for c in page.await? {
                lines.push((c.id, contact_line(&c)?));
            }
        }
        ExportFilter::Activities {
            account_id,
            include_archived,
        } => {
            let page =
                activities::export_page(conn, who, *account_id, *include_archived, after, limit);
            for a in page.await? {
                lines.push((a.id, activity_line(&a)?));
            }
        }
    }
    let next = (lines.len() as i64 == limit)
        .then(|| lines.last().map(|(id, _)| *id))
        .flatten();
    let mut out = csv::Writer::from_writer(Vec::new());
    if after.is_none() {
        out.write_record(columns(filter.resource()))
            .map_err(ApiError::internal)?;
    }
    for (_, line) in &lines {
        out.write_record(line).map_err(ApiError::internal)?;
    }
    Ok((out.into_inner().map_err(ApiError::internal)?, next))
}
