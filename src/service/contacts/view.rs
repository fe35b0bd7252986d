//! A contact as clients see it: the stored person with what the record says about it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::activities::{self as activity_q, ContactActivity};
use crate::db::contacts::Contact;
use crate::db::AccountKey;
use crate::domain::ids::TenantId;
use crate::domain::org_chart::{Attitude, Department, Influence, MethodologyRole, Relationship};
use crate::error::{ApiError, ApiResult};
use crate::service::Conn;

/// A person at the customer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ContactDto)]
pub struct ContactView {
    #[schema(read_only)]
    pub id: Uuid,
    #[schema(read_only)]
    pub account_id: Uuid,
    #[schema(example = "王建国")]
    pub name: String,
    #[schema(example = "信息中心主任")]
    pub title: Option<String>,
    pub department: Department,
    /// Role in the IT department as the methodology names it (S1.A03), if any.
    pub methodology_role: Option<MethodologyRole>,
    /// The contact this one reports to (same account).
    pub reports_to: Option<Uuid>,
    pub attitude: Attitude,
    pub relationship: Relationship,
    pub influence: Option<Influence>,
    pub key_person: bool,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub notes: Option<String>,
    /// References of other systems (the CRM of record's ids).
    pub external_refs: Vec<crate::domain::external_ref::ExternalRef>,
    #[schema(read_only)]
    pub created_at: DateTime<Utc>,
    #[schema(read_only)]
    pub updated_at: DateTime<Utc>,
    #[schema(read_only)]
    pub archived_at: Option<DateTime<Utc>>,
    #[schema(read_only)]
    pub version: i32,
    /// When the contact last took part in an (active) activity.
    #[schema(read_only)]
    pub last_contacted_at: Option<DateTime<Utc>>,
    /// How many (active) activities the contact took part in.
    #[schema(read_only)]
    pub activity_count: i64,
}

/// The view of a stored contact with its activity figures (none: 0 activities).
pub(super) fn view(c: Contact, stats: Option<&ContactActivity>) -> ApiResult<ContactView> {
    let p = super::person_of(&c)?;
    Ok(ContactView {
        id: c.id,
        account_id: c.account_id,
        name: c.name,
        title: c.title,
        department: p.department,
        methodology_role: p.methodology_role,
        reports_to: c.reports_to,
        attitude: p.attitude,
        relationship: p.relationship,
        influence: p.influence,
        key_person: c.key_person,
        phone: c.phone,
        email: c.email,
        notes: c.notes,
        external_refs: crate::service::external_refs::of_row(
            "contacts.external_refs of",
            c.id,
            &c.external_refs,
        )?,
        created_at: c.created_at,
        updated_at: c.updated_at,
        archived_at: c.archived_at,
        version: c.version,
        last_contacted_at: stats.map(|s| s.last_contacted_at),
        activity_count: stats.map_or(0, |s| s.activity_count),
    })
}

/// Views of contacts of one account (one query for the activity statistics).
pub(super) async fn views_in(
    conn: &mut Conn,
    tenant: TenantId,
    account_id: Uuid,
    rows: Vec<Contact>,
) -> ApiResult<Vec<ContactView>> {
    let stats = activity_q::contact_activity(conn, tenant, AccountKey::Id(account_id)).await?;
    let stats: HashMap<Uuid, ContactActivity> =
        stats.into_iter().map(|s| (s.contact_id, s)).collect();
    rows.into_iter()
        .map(|c| {
            let s = stats.get(&c.id);
            view(c, s)
        })
        .collect()
}

/// The view of one contact.
pub(super) async fn one_in(
    conn: &mut Conn,
    tenant: TenantId,
    row: Contact,
) -> ApiResult<ContactView> {
    let account_id = row.account_id;
    views_in(conn, tenant, account_id, vec![row])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("contact vanished"))
}
