//! Opportunities (purchase projects) and their stage history.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::accounts::{ensure_active, lock_account};
use crate::api::survey_records::{latest_summaries, SurveySummary};
use crate::api::{ensure_not_archived, not_found, with_etag};
use crate::auth::Principal;
use crate::db::accounts as account_q;
use crate::db::opportunities::{
    self as q, NewOpportunity, Opportunity, OpportunityChanges, OpportunityFilter,
};
use crate::domain::text_enum;
use crate::error::{ApiError, ApiResult};
use crate::http::etag::IfMatch;
use crate::http::extract::JsonBody;
use crate::http::pagination::PageRequest;
use crate::http::patch::double_option;
use crate::http::validate::Checker;
use crate::state::AppState;

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

/// A competitor in the deal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Competitor {
    pub name: String,
    pub strengths: Option<String>,
    pub weaknesses: Option<String>,
}

/// A purchase project.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpportunityDto {
    #[schema(read_only)]
    pub id: Uuid,
    #[schema(read_only)]
    pub account_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// Estimated amount, at most two decimals.
    #[schema(example = 1250000.5)]
    pub estimated_amount: Option<f64>,
    /// ISO 4217 code, e.g. CNY.
    #[schema(example = "CNY")]
    pub currency: Option<String>,
    pub expected_start: Option<NaiveDate>,
    pub deadline: Option<NaiveDate>,
    pub status: OpportunityStatus,
    /// The purchase stage the opportunity is in (S1-S6).
    #[schema(example = "S1")]
    pub current_stage: String,
    #[schema(read_only)]
    pub stage_entered_at: DateTime<Utc>,
    /// Whole days since the opportunity entered its current stage.
    #[schema(read_only)]
    pub days_in_stage: i64,
    pub competitors: Vec<Competitor>,
    pub owner: String,
    #[schema(read_only)]
    pub created_by: String,
    /// When the latest stage assessment was recorded.
    #[schema(read_only)]
    pub last_assessed_at: Option<DateTime<Utc>>,
    #[schema(read_only)]
    pub created_at: DateTime<Utc>,
    #[schema(read_only)]
    pub updated_at: DateTime<Utc>,
    #[schema(read_only)]
    pub archived_at: Option<DateTime<Utc>>,
    #[schema(read_only)]
    pub version: i32,
    /// Budget and timeline from the account's latest survey, next to the opportunity's own
    /// amount and deadline.
    #[schema(read_only)]
    pub latest_survey: Option<SurveySummary>,
}

/// DTOs with the latest survey of each opportunity's account (one query for all).
async fn dtos(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    rows: Vec<Opportunity>,
) -> ApiResult<Vec<OpportunityDto>> {
    let mut accounts: Vec<Uuid> = rows.iter().map(|o| o.account_id).collect();
    accounts.sort();
    accounts.dedup();
    let surveys = latest_summaries(conn, tenant, &accounts).await?;
    Ok(rows
        .into_iter()
        .map(|o| {
            let survey = surveys.get(&o.account_id).cloned();
            let mut dto = OpportunityDto::from(o);
            dto.latest_survey = survey;
            dto
        })
        .collect())
}

async fn respond(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    builder: actix_web::HttpResponseBuilder,
    o: Opportunity,
) -> ApiResult<HttpResponse> {
    let version = o.version;
    let dto = dtos(conn, tenant, vec![o])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("opportunity vanished"))?;
    Ok(with_etag(builder, version, &dto))
}

impl From<Opportunity> for OpportunityDto {
    fn from(o: Opportunity) -> Self {
        OpportunityDto {
            id: o.id,
            account_id: o.account_id,
            name: o.name,
            description: o.description,
            estimated_amount: o.amount_minor.map(minor_to_amount),
            currency: o.currency,
            expected_start: o.expected_start,
            deadline: o.deadline,
            status: OpportunityStatus::parse(&o.status).unwrap_or(OpportunityStatus::Open),
            current_stage: o.current_stage,
            stage_entered_at: o.stage_entered_at,
            days_in_stage: (Utc::now() - o.stage_entered_at).num_days().max(0),
            competitors: serde_json::from_value(o.competitors).unwrap_or_default(),
            owner: o.owner,
            created_by: o.created_by,
            last_assessed_at: o.last_assessed_at,
            created_at: o.created_at,
            updated_at: o.updated_at,
            archived_at: o.archived_at,
            version: o.version,
            latest_survey: None,
        }
    }
}

pub fn minor_to_amount(minor: i64) -> f64 {
    minor as f64 / 100.0
}

/// A page of opportunities.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpportunityList {
    pub items: Vec<OpportunityDto>,
    pub next_cursor: Option<String>,
}

/// Creates an opportunity.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOpportunity {
    #[schema(example = "数据中心网络改造")]
    pub name: String,
    pub description: Option<String>,
    /// With `currency`; at most two decimals, 0 to 10 000 000 000 000.
    pub estimated_amount: Option<f64>,
    pub currency: Option<String>,
    pub expected_start: Option<NaiveDate>,
    /// Not before `expected_start`.
    pub deadline: Option<NaiveDate>,
    /// Defaults to `open`.
    pub status: Option<OpportunityStatus>,
    #[serde(default)]
    pub competitors: Vec<Competitor>,
    /// Defaults to the caller; only managers and admins may name someone else.
    pub owner: Option<String>,
}

/// A JSON merge patch of an opportunity. Changing `current_stage` records a stage change
/// with `stage_reason`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchOpportunity {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<f64>)]
    pub estimated_amount: Option<Option<f64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub currency: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub expected_start: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub deadline: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = OpportunityStatus)]
    pub status: Option<Option<OpportunityStatus>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Vec<Competitor>>)]
    pub competitors: Option<Option<Vec<Competitor>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String)]
    pub owner: Option<Option<String>>,
    /// Move the opportunity to this stage (S1-S6); recorded in the stage history.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String)]
    pub current_stage: Option<Option<String>>,
    /// Why the stage changed (with `current_stage`).
    pub stage_reason: Option<String>,
}

/// Filters and paging of the opportunity lists.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListOpportunitiesQuery {
    /// Only opportunities in this stage (S1-S6).
    #[param(pattern = "^S[1-6]$")]
    pub stage: Option<String>,
    pub status: Option<OpportunityStatus>,
    pub owner: Option<String>,
    /// Only opportunities of this account.
    pub account_id: Option<Uuid>,
    pub include_archived: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Paging of account-scoped lists.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// One recorded stage change.
#[derive(Debug, Serialize, ToSchema)]
pub struct StageChangeDto {
    pub from: String,
    pub to: String,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
    pub reason: Option<String>,
    /// The assessment that applied the change, if any.
    pub assessment_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StageHistory {
    pub items: Vec<StageChangeDto>,
    pub next_cursor: Option<String>,
}

const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000_000; // 10^13 in major units

fn amount_to_minor(c: &mut Checker, field: &str, v: f64) -> Option<i64> {
    if !v.is_finite() || v < 0.0 {
        c.add(field, "must be a non-negative number");
        return None;
    }
    let minor = (v * 100.0).round();
    if (v * 100.0 - minor).abs() > 1e-6 {
        c.add(field, "at most two decimals");
        return None;
    }
    if minor > MAX_AMOUNT_MINOR as f64 {
        c.add(field, "is too large");
        return None;
    }
    Some(minor as i64)
}

fn check_currency(c: &mut Checker, field: &str, v: &str) -> String {
    let v = v.trim().to_string();
    if v.len() != 3 || !v.bytes().all(|b| b.is_ascii_uppercase()) {
        c.add(field, "must be an ISO 4217 code such as CNY or USD");
    }
    v
}

fn check_competitors(c: &mut Checker, list: &[Competitor]) -> serde_json::Value {
    if list.len() > 20 {
        c.add("competitors", "at most 20 competitors");
    }
    let cleaned: Vec<Competitor> = list
        .iter()
        .enumerate()
        .map(|(i, comp)| Competitor {
            name: c.required_text(&format!("competitors[{i}].name"), &comp.name, 200),
            strengths: c.optional_text(
                &format!("competitors[{i}].strengths"),
                comp.strengths.as_deref(),
                2000,
            ),
            weaknesses: c.optional_text(
                &format!("competitors[{i}].weaknesses"),
                comp.weaknesses.as_deref(),
                2000,
            ),
        })
        .collect();
    serde_json::to_value(cleaned).unwrap_or_else(|_| serde_json::json!([]))
}

fn check_stage(c: &mut Checker, field: &str, v: &str) -> String {
    if !STAGE_CODES.contains(&v) {
        c.add(field, "must be one of S1-S6");
    }
    v.to_string()
}

/// Loads the opportunity (locked) or 404.
pub(crate) async fn lock_opportunity(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    id: Uuid,
) -> ApiResult<Opportunity> {
    q::find_for_update(conn, tenant, id)
        .await?
        .ok_or_else(|| not_found("opportunity"))
}

pub(crate) fn ensure_open_record(o: &Opportunity) -> ApiResult<()> {
    ensure_not_archived(o.archived_at, "opportunity")
}

/// Create an opportunity for an account.
#[utoipa::path(
    tag = "opportunities",
    params(("account_id" = Uuid, Path, description = "Account id")),
    request_body(content = CreateOpportunity, content_type = "application/json"),
    security(("bearer_auth" = [])),
    responses((status = 201, description = "The opportunity was created in stage S1.", body = OpportunityDto,
               headers(("Location" = String, description = "URL of the new opportunity"),
                       ("ETag" = String, description = "Version tag for If-Match"))))
)]
#[post("/v1/accounts/{account_id}/opportunities")]
pub async fn create_opportunity(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    body: JsonBody<CreateOpportunity>,
) -> ApiResult<HttpResponse> {
    let account_id = path.into_inner();
    let b = body.0;
    let mut c = Checker::new();
    let name = c.required_text("name", &b.name, 200);
    let description = c.optional_text("description", b.description.as_deref(), 10_000);
    let amount_minor = b
        .estimated_amount
        .and_then(|v| amount_to_minor(&mut c, "estimated_amount", v));
    let currency = b
        .currency
        .as_deref()
        .map(|v| check_currency(&mut c, "currency", v));
    if b.estimated_amount.is_some() != b.currency.is_some() {
        c.add(
            if b.currency.is_none() {
                "currency"
            } else {
                "estimated_amount"
            },
            "estimated_amount and currency go together",
        );
    }
    if let (Some(s), Some(d)) = (b.expected_start, b.deadline) {
        if d < s {
            c.add("deadline", "must not be before expected_start");
        }
    }
    let competitors = check_competitors(&mut c, &b.competitors);
    let owner = match &b.owner {
        Some(o) => c.required_text("owner", o, 200),
        None => principal.sub.clone(),
    };
    c.finish()?;
    if owner != principal.sub && !principal.writes_all() {
        return Err(ApiError::Forbidden(
            "only managers and admins may create opportunities for another owner".to_string(),
        ));
    }
    let new = NewOpportunity {
        id: Uuid::now_v7(),
        tenant_id: principal.tenant,
        account_id,
        name,
        description,
        amount_minor,
        currency,
        expected_start: b.expected_start,
        deadline: b.deadline,
        status: b
            .status
            .unwrap_or(OpportunityStatus::Open)
            .as_str()
            .to_string(),
        current_stage: "S1".to_string(),
        competitors,
        owner,
        created_by: principal.sub.clone(),
    };
    let mut conn = state.conn().await?;
    let opp = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let account = lock_account(conn, principal.tenant, account_id).await?;
            principal.require_write_owned_by(&account.owner)?;
            ensure_active(&account)?;
            Ok(q::insert(conn, new).await?)
        })
        .await?;
    let mut b = HttpResponse::Created();
    b.insert_header((header::LOCATION, format!("/v1/opportunities/{}", opp.id)));
    respond(&mut conn, principal.tenant, b, opp).await
}

async fn list(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    filter: OpportunityFilter,
    page: PageRequest,
) -> ApiResult<HttpResponse> {
    let rows = q::list(conn, principal.tenant, &filter, page.after, page.fetch()).await?;
    let (rows, next_cursor) = page.finish(rows, |o| o.id);
    let items = dtos(conn, principal.tenant, rows).await?;
    Ok(HttpResponse::Ok().json(OpportunityList { items, next_cursor }))
}

/// List the opportunities of an account.
#[utoipa::path(
    tag = "opportunities",
    params(("account_id" = Uuid, Path, description = "Account id"), PageQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of opportunities.", body = OpportunityList))
)]
#[get("/v1/accounts/{account_id}/opportunities")]
pub async fn list_account_opportunities(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let account_id = path.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let mut conn = state.conn().await?;
    account_q::find(&mut conn, principal.tenant, account_id)
        .await?
        .ok_or_else(|| not_found("account"))?;
    let filter = OpportunityFilter {
        account_id: Some(account_id),
        ..Default::default()
    };
    list(&mut conn, &principal, filter, page).await
}

/// List opportunities across accounts.
#[utoipa::path(
    tag = "opportunities",
    params(ListOpportunitiesQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of opportunities.", body = OpportunityList))
)]
#[get("/v1/opportunities")]
pub async fn list_opportunities(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ListOpportunitiesQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let mut c = Checker::new();
    let stage = query
        .stage
        .as_deref()
        .map(|s| check_stage(&mut c, "stage", s));
    let owner = c.optional_text("owner", query.owner.as_deref(), 200);
    c.finish()?;
    let filter = OpportunityFilter {
        account_id: query.account_id,
        stage,
        status: query.status.map(|s| s.as_str().to_string()),
        owner,
        include_archived: query.include_archived.unwrap_or(false),
    };
    let mut conn = state.conn().await?;
    list(&mut conn, &principal, filter, page).await
}

/// Get an opportunity.
#[utoipa::path(
    tag = "opportunities",
    params(("opportunity_id" = Uuid, Path, description = "Opportunity id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The opportunity.", body = OpportunityDto,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[get("/v1/opportunities/{opportunity_id}")]
pub async fn get_opportunity(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let o = q::find(&mut conn, principal.tenant, path.into_inner())
        .await?
        .ok_or_else(|| not_found("opportunity"))?;
    respond(&mut conn, principal.tenant, HttpResponse::Ok(), o).await
}

/// Update an opportunity (JSON merge patch).
///
/// Reps change the opportunities they own; managers and admins any, and only they reassign
/// owners. A new `current_stage` is recorded in the stage history with `stage_reason`.
#[utoipa::path(
    tag = "opportunities",
    params(("opportunity_id" = Uuid, Path, description = "Opportunity id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being changed")),
    request_body(content = PatchOpportunity, content_type = "application/merge-patch+json"),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The updated opportunity.", body = OpportunityDto,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[patch("/v1/opportunities/{opportunity_id}")]
pub async fn patch_opportunity(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: IfMatch,
    path: web::Path<Uuid>,
    body: JsonBody<PatchOpportunity>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let p = body.0;
    let mut c = Checker::new();
    let mut ch = OpportunityChanges::default();
    match &p.name {
        Some(Some(n)) => ch.name = Some(c.required_text("name", n, 200)),
        Some(None) => c.add("name", "is required and cannot be removed"),
        None => {}
    }
    if let Some(v) = &p.description {
        ch.description = Some(c.optional_text("description", v.as_deref(), 10_000));
    }
    if let Some(v) = p.estimated_amount {
        ch.amount_minor = Some(v.and_then(|v| amount_to_minor(&mut c, "estimated_amount", v)));
    }
    if let Some(v) = &p.currency {
        ch.currency = Some(v.as_deref().map(|v| check_currency(&mut c, "currency", v)));
    }
    if let Some(v) = p.expected_start {
        ch.expected_start = Some(v);
    }
    if let Some(v) = p.deadline {
        ch.deadline = Some(v);
    }
    match p.status {
        Some(Some(s)) => ch.status = Some(s.as_str().to_string()),
        Some(None) => c.add("status", "is required and cannot be removed"),
        None => {}
    }
    if let Some(v) = &p.competitors {
        ch.competitors = Some(check_competitors(&mut c, v.as_deref().unwrap_or_default()));
    }
    match &p.owner {
        Some(Some(o)) => ch.owner = Some(c.required_text("owner", o, 200)),
        Some(None) => c.add("owner", "is required and cannot be removed"),
        None => {}
    }
    let new_stage = match &p.current_stage {
        Some(Some(s)) => Some(check_stage(&mut c, "current_stage", s)),
        Some(None) => {
            c.add("current_stage", "is required and cannot be removed");
            None
        }
        None => None,
    };
    let reason = c.optional_text("stage_reason", p.stage_reason.as_deref(), 2000);
    if reason.is_some() && new_stage.is_none() {
        c.add("stage_reason", "goes with current_stage");
    }
    c.finish()?;

    let mut conn = state.conn().await?;
    let opp = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let current = lock_opportunity(conn, principal.tenant, id).await?;
            principal.require_write_owned_by(&current.owner)?;
            if_match.check(current.version)?;
            ensure_open_record(&current)?;
            if let Some(owner) = &ch.owner {
                if *owner != current.owner && !principal.writes_all() {
                    return Err(ApiError::Forbidden(
                        "only managers and admins may reassign owners".to_string(),
                    ));
                }
            }
            // Cross-field rules on the result of the patch.
            let mut c = Checker::new();
            let amount = ch.amount_minor.unwrap_or(current.amount_minor);
            let currency = ch.currency.clone().unwrap_or(current.currency.clone());
            if amount.is_some() != currency.is_some() {
                c.add("currency", "estimated_amount and currency go together");
            }
            let start = ch.expected_start.unwrap_or(current.expected_start);
            let deadline = ch.deadline.unwrap_or(current.deadline);
            if let (Some(s), Some(d)) = (start, deadline) {
                if d < s {
                    c.add("deadline", "must not be before expected_start");
                }
            }
            c.finish()?;
            let mut updated = q::update(conn, principal.tenant, id, ch).await?;
            if let Some(stage) = &new_stage {
                if *stage != updated.current_stage {
                    updated = q::change_stage(
                        conn,
                        principal.tenant,
                        &updated,
                        stage,
                        &principal.sub,
                        reason,
                        None,
                    )
                    .await?;
                }
            }
            Ok(updated)
        })
        .await?;
    respond(&mut conn, principal.tenant, HttpResponse::Ok(), opp).await
}

/// Archive an opportunity.
#[utoipa::path(
    tag = "opportunities",
    params(("opportunity_id" = Uuid, Path, description = "Opportunity id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being archived")),
    security(("bearer_auth" = [])),
    responses((status = 204, description = "The opportunity is archived."))
)]
#[delete("/v1/opportunities/{opportunity_id}")]
pub async fn delete_opportunity(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: IfMatch,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let mut conn = state.conn().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = lock_opportunity(conn, principal.tenant, id).await?;
        principal.require_write_owned_by(&current.owner)?;
        if_match.check(current.version)?;
        if current.archived_at.is_none() {
            q::set_archived(conn, principal.tenant, id, true).await?;
        }
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Restore an archived opportunity.
#[utoipa::path(
    tag = "opportunities",
    params(("opportunity_id" = Uuid, Path, description = "Opportunity id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The restored opportunity.", body = OpportunityDto,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[post("/v1/opportunities/{opportunity_id}/restore")]
pub async fn restore_opportunity(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let mut conn = state.conn().await?;
    let opp = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let current = lock_opportunity(conn, principal.tenant, id).await?;
            principal.require_write_owned_by(&current.owner)?;
            if current.archived_at.is_none() {
                return Ok(current);
            }
            Ok(q::set_archived(conn, principal.tenant, id, false).await?)
        })
        .await?;
    respond(&mut conn, principal.tenant, HttpResponse::Ok(), opp).await
}

/// Get the stage history of an opportunity.
///
/// Every stage change, oldest first: manual changes (PATCH `current_stage`) and changes applied
/// by assessments (with their `assessment_id`).
#[utoipa::path(
    tag = "opportunities",
    params(("opportunity_id" = Uuid, Path, description = "Opportunity id"), PageQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of stage changes.", body = StageHistory))
)]
#[get("/v1/opportunities/{opportunity_id}/stage-history")]
pub async fn get_stage_history(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let mut conn = state.conn().await?;
    q::find(&mut conn, principal.tenant, id)
        .await?
        .ok_or_else(|| not_found("opportunity"))?;
    let rows = q::stage_history(&mut conn, principal.tenant, id, page.after, page.fetch()).await?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id);
    Ok(HttpResponse::Ok().json(StageHistory {
        items: rows
            .into_iter()
            .map(|r| StageChangeDto {
                from: r.from_stage,
                to: r.to_stage,
                changed_at: r.changed_at,
                changed_by: r.changed_by,
                reason: r.reason,
                assessment_id: r.assessment_id,
            })
            .collect(),
        next_cursor,
    }))
}
