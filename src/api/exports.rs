//! `/v1/exports/{resource}.csv`: a tenant's records as CSV, streamed — what an import with
//! `source=buyerpath` reads back.

use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::domain::opportunity::OpportunityStatus;
use crate::error::ApiResult;
use crate::http::pages;
use crate::service::accounts::ListAccounts;
use crate::service::exports::{self as svc, ExportFilter};
use crate::service::opportunities::ListOpportunities;
use crate::service::Principal;
use crate::state::AppState;

/// Rows a page of the stream reads.
const PAGE: i64 = 500;

/// The format of an export (only `buyerpath`).
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// buyerpath's own columns: what `POST /v1/imports?source=buyerpath` reads.
    Buyerpath,
}

/// Streams the export a page at a time (`http::pages`).
async fn stream(
    state: web::Data<AppState>,
    who: Principal,
    filter: ExportFilter,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let first = svc::page(&mut conn, &who, &filter, None, PAGE).await?;
    drop(conn);
    let filter = std::sync::Arc::new(filter);
    Ok(pages::csv(state, first, move |state, after| {
        let (who, filter) = (who.clone(), filter.clone());
        async move {
            let mut conn = state.conn().await?;
            svc::page(&mut conn, &who, &filter, Some(after), PAGE).await
        }
    }))
}

/// Filters of the account export (as the account list).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportAccountsQuery {
    /// The language of error texts: `zh` or `en` (overrides `Accept-Language`).
    pub lang: Option<crate::domain::playbook::Lang>,
    /// The columns: `buyerpath` (the default and only format).
    #[param(inline)]
    pub source: Option<ExportFormat>,
    /// Case-insensitive substring of the name.
    #[param(max_length = 200)]
    pub q: Option<String>,
    #[param(max_length = 200)]
    pub owner: Option<String>,
    #[param(max_length = 100)]
    pub industry: Option<String>,
    #[param(max_length = 50)]
    pub tag: Option<String>,
    /// Include archived accounts (default false).
    pub include_archived: Option<bool>,
}

/// Filters of the contact and activity exports.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportUnderAccountQuery {
    /// The language of error texts: `zh` or `en` (overrides `Accept-Language`).
    pub lang: Option<crate::domain::playbook::Lang>,
    /// The columns: `buyerpath` (the default and only format).
    #[param(inline)]
    pub source: Option<ExportFormat>,
    /// Only those of this account.
    pub account_id: Option<Uuid>,
    /// Include archived ones (default false).
    pub include_archived: Option<bool>,
}

/// Filters of the opportunity export (as the opportunity list).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportOpportunitiesQuery {
    /// The language of error texts: `zh` or `en` (overrides `Accept-Language`).
    pub lang: Option<crate::domain::playbook::Lang>,
    /// The columns: `buyerpath` (the default and only format).
    #[param(inline)]
    pub source: Option<ExportFormat>,
    /// Only opportunities in this stage.
    #[param(value_type = Option<crate::domain::opportunity::StageCode>)]
    pub stage: Option<String>,
    pub status: Option<OpportunityStatus>,
    #[param(max_length = 200)]
    pub owner: Option<String>,
    pub account_id: Option<Uuid>,
    pub include_archived: Option<bool>,
}

/// Export accounts as CSV.
///
/// Every account the filters select, in creation order, streamed: `id, external_refs, name,
/// industry, region, size_band, website, tags, notes, owner` (references and tags as JSON
/// arrays), UTF-8 with a BOM. `POST /v1/imports?resource=accounts&source=buyerpath` reads it
/// back: into the same tenant it changes nothing; into another it creates the accounts with
/// `buyerpath:<id>` references, so the exports of their contacts, opportunities and activities
/// find them.
#[utoipa::path(
    tag = "exports",
    params(ExportAccountsQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The accounts.", content_type = "text/csv", body = String))
)]
#[get("/v1/exports/accounts.csv")]
pub async fn export_accounts(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ExportAccountsQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let filter = ExportFilter::Accounts(ListAccounts {
        q: q.q,
        owner: q.owner,
        industry: q.industry,
        tag: q.tag,
        external_ref: None,
        include_archived: q.include_archived.unwrap_or(false),
    });
    stream(state, principal, filter).await
}

/// Export contacts as CSV.
///
/// The tenant's contacts (or one account's), in creation order, streamed: `id, external_refs,
/// account_id, name, title, department, methodology_role, reports_to, attitude, relationship,
/// influence, key_person, phone, email, notes`. What an import with `source=buyerpath` reads.
#[utoipa::path(
    tag = "exports",
    params(ExportUnderAccountQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The contacts.", content_type = "text/csv", body = String))
)]
#[get("/v1/exports/contacts.csv")]
pub async fn export_contacts(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ExportUnderAccountQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let filter = ExportFilter::Contacts {
        account_id: q.account_id,
        include_archived: q.include_archived.unwrap_or(false),
    };
    stream(state, principal, filter).await
}

/// Export opportunities as CSV.
///
/// Every opportunity the filters select, in creation order, streamed: `id, external_refs,
/// account_id, name, description, estimated_amount, currency, expected_start, deadline, status,
/// current_stage, competitors, owner` (competitors as JSON). What an import with
/// `source=buyerpath` reads.
#[utoipa::path(
    tag = "exports",
    params(ExportOpportunitiesQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The opportunities.", content_type = "text/csv", body = String))
)]
#[get("/v1/exports/opportunities.csv")]
pub async fn export_opportunities(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ExportOpportunitiesQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let filter = ExportFilter::Opportunities(ListOpportunities {
        account_id: q.account_id,
        stage: q.stage,
        status: q.status,
        owner: q.owner,
        external_ref: None,
        include_archived: q.include_archived.unwrap_or(false),
    });
    stream(state, principal, filter).await
}

/// Export activities as CSV.
///
/// The tenant's activities (or one account's), in creation order, streamed: `id,
/// external_refs, account_id, opportunity_id, kind, occurred_at, duration_minutes, subject,
/// notes, participants, our_attendees, key_actions, tools, observations, requirements, outcome,
/// next_step` (lists and objects as JSON). What an import with `source=buyerpath` reads.
#[utoipa::path(
    tag = "exports",
    params(ExportUnderAccountQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The activities.", content_type = "text/csv", body = String))
)]
#[get("/v1/exports/activities.csv")]
pub async fn export_activities(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ExportUnderAccountQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let filter = ExportFilter::Activities {
        account_id: q.account_id,
        include_archived: q.include_archived.unwrap_or(false),
    };
    stream(state, principal, filter).await
}
