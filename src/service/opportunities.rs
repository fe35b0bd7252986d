//! Opportunities (purchase projects): create, read, list, change (including manual stage
//! changes), archive/restore, stage history.

use chrono::NaiveDate;
use diesel_async::AsyncConnection;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::documents;
use crate::db::opportunities::{
    self as q, NewOpportunity, Opportunity, OpportunityChanges, OpportunityFilter,
};
use crate::db::table::VersionedTable;
use crate::domain::event::Lifecycle;
use crate::domain::external_ref::ExternalRef;
use crate::domain::ids::TenantId;
use crate::domain::money::{Amount, Currency};
use crate::domain::opportunity::{Competitor, OpportunityStatus, StageCode};
use crate::domain::texts::Noun;
use crate::domain::texts::{self, Refusal};
use crate::domain::validate::Checker;
use crate::domain::validate::Code;
use crate::error::{ApiError, ApiResult};
use crate::service::archive;
use crate::service::events::{self, Changes};
use crate::service::external_refs::{self, Kind};
use crate::service::unchanged::{publish_or_keep, settle_changed, Step};

mod write_rules;
use crate::service::input::double_option;
use crate::service::{accounts, not_found, stage_moves, Conn, Keyset, Precondition, Principal};
pub(crate) use write_rules::mark_assessed_in;

/// Creates an opportunity.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOpportunity {
    #[schema(example = "数据中心网络改造", min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// With `currency`: a decimal string with at most the currency's minor digits
    /// (`"1200000.00"`), or a whole number; at most 10 000 000 000 000.
    pub estimated_amount: Option<Amount>,
    /// ISO 4217 code, e.g. CNY.
    #[schema(pattern = r"^\s*[A-Z]{3}\s*$")]
    pub currency: Option<String>,
    pub expected_start: Option<NaiveDate>,
    /// Not before `expected_start`.
    pub deadline: Option<NaiveDate>,
    /// Defaults to `open`.
    pub status: Option<OpportunityStatus>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub competitors: Vec<Competitor>,
    /// Defaults to the caller; only managers and admins may name someone else.
    #[schema(min_length = 1, max_length = 200)]
    pub owner: Option<String>,
    /// References of other systems, up to 20, each unique in the tenant (409
    /// `external_ref_taken`).
    #[schema(max_items = 20)]
    pub external_refs: Option<Vec<ExternalRef>>,
}

/// A JSON merge patch of an opportunity. Changing `current_stage` records a stage change
/// with `stage_reason`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchOpportunity {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub description: Option<Option<String>>,
    /// A decimal string or a whole number in `currency` (the new one when both change).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Amount>)]
    pub estimated_amount: Option<Option<Amount>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, pattern = r"^\s*[A-Z]{3}\s*$")]
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
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    pub owner: Option<Option<String>>,
    /// Move the opportunity to this stage (S1-S6); recorded in the stage history.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = StageCode)]
    pub current_stage: Option<Option<StageCode>>,
    /// Why the stage changed (with `current_stage`).
    #[schema(max_length = 2000)]
    pub stage_reason: Option<String>,
    /// Replaces the whole list; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Vec<ExternalRef>>, max_items = 20)]
    pub external_refs: Option<Option<Vec<ExternalRef>>>,
}

/// Filters of the opportunity list (as given; checked here).
#[derive(Debug, Default)]
pub struct ListOpportunities {
    pub account_id: Option<Uuid>,
    pub stage: Option<String>,
    pub status: Option<OpportunityStatus>,
    pub owner: Option<String>,
    pub external_ref: Option<String>,
    pub include_archived: bool,
}

mod by_ref;
mod view;

pub use by_ref::{upsert, PutOpportunity};

const KIND: Kind = Kind::Opportunity;

use view::{currency_of, view, view_of, views};
pub use view::{OpportunityView, StageChangeView};

events::published!(Opportunity, Opportunity, OpportunityView, view, "id" => id, "account_id" => account_id);

pub(crate) async fn find_in(conn: &Conn, tenant: TenantId, id: Uuid) -> ApiResult<Opportunity> {
    Opportunity::find(conn, tenant, id)
        .await?
        .ok_or_else(|| not_found(Noun::Opportunity))
}

fn check_competitors(c: &mut Checker, list: &[Competitor]) -> Vec<Competitor> {
    if list.len() > 20 {
        c.add("competitors", Code::TooMany { max: 20 });
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
    cleaned
}

fn competitors_json(list: &[Competitor]) -> ApiResult<serde_json::Value> {
    documents::opportunity::write_competitors(list).map_err(ApiError::internal)
}

fn check_currency(c: &mut Checker, field: &str, v: &str) -> Option<Currency> {
    match Currency::parse(v) {
        Ok(cur) => Some(cur),
        Err(e) => {
            c.add(field, e);
            None
        }
    }
}

fn check_stage(c: &mut Checker, field: &str, v: &str) -> Option<StageCode> {
    let code = StageCode::parse(v);
    if code.is_none() {
        c.add(
            field,
            Code::UnknownValue {
                allowed: StageCode::ALL
                    .iter()
                    .map(|s| s.as_str().to_string())
                    .collect(),
            },
        );
    }
    code
}

fn to_minor(c: &mut Checker, amount: &Amount, currency: &Currency) -> Option<i64> {
    match amount.to_minor(currency) {
        Ok(m) => Some(m),
        Err(e) => {
            c.add("estimated_amount", e);
            None
        }
    }
}

pub async fn create(
    conn: &mut Conn,
    who: &Principal,
    account_id: Uuid,
    b: CreateOpportunity,
) -> ApiResult<OpportunityView> {
    create_at(conn, who, account_id, b, StageCode::S1).await
}

/// A new opportunity's currency and amount in its minor units: together or not at all, the
/// amount exact in the currency.
fn check_amount(c: &mut Checker, b: &CreateOpportunity) -> (Option<Currency>, Option<i64>) {
    let currency = b
        .currency
        .as_deref()
        .and_then(|v| check_currency(c, "currency", v));
    let amount_minor = match (&b.estimated_amount, &currency) {
        (Some(a), Some(cur)) => to_minor(c, a, cur),
        _ => None,
    };
    match (b.estimated_amount.is_some(), b.currency.is_some()) {
        (true, false) => c.add("currency", Code::requires("estimated_amount")),
        (false, true) => c.add("estimated_amount", Code::requires("currency")),
        _ => {}
    }
    (currency, amount_minor)
}

/// Creates an opportunity in `stage` (one brought in from another system may be further
/// along than S1; stages of existing ones move by update or assessment).
pub(crate) async fn create_at(
    conn: &mut Conn,
    who: &Principal,
    account_id: Uuid,
    b: CreateOpportunity,
    stage: StageCode,
) -> ApiResult<OpportunityView> {
    let mut c = Checker::new();
    let name = c.name("name", &b.name).into_string();
    let description = c.optional_text("description", b.description.as_deref(), 10_000);
    let (currency, amount_minor) = check_amount(&mut c, &b);
    if let (Some(s), Some(d)) = (b.expected_start, b.deadline) {
        if d < s {
            c.add(
                "deadline",
                Code::NotBefore {
                    other: "expected_start".into(),
                },
            );
        }
    }
    let competitors = check_competitors(&mut c, &b.competitors);
    let refs = external_refs::check(
        &mut c,
        "external_refs",
        b.external_refs.as_deref().unwrap_or_default(),
    );
    let owner = match &b.owner {
        Some(o) => c.required_text("owner", o, 200),
        None => who.sub.clone(),
    };
    c.finish()?;
    if owner != who.sub && !who.writes_all() {
        return Err(ApiError::Forbidden(texts::forbidden(&Refusal::OtherOwner)));
    }
    let new = NewOpportunity {
        id: Uuid::now_v7(),
        tenant_id: who.tenant.get(),
        account_id,
        name,
        description,
        amount_minor,
        currency: currency.map(|c| c.as_str().to_string()),
        expected_start: b.expected_start,
        deadline: b.deadline,
        status: b
            .status
            .unwrap_or(OpportunityStatus::Open)
            .as_str()
            .to_string(),
        current_stage: stage.as_str().to_string(),
        competitors: competitors_json(&competitors)?,
        owner,
        created_by: who.sub.clone(),
        external_refs: refs.clone(),
    };
    let row = conn
        .transaction::<_, ApiError, _>(async |conn| {
            accounts::lock_writable_in(conn, who, account_id).await?;
            let row = Opportunity::insert(conn, new).await?;
            events::lifecycle(conn, who, &row, Lifecycle::Created).await?;
            Ok(row)
        })
        .await;
    let row = external_refs::name_holder(conn, who.tenant, KIND, "external_refs", &refs, None, row)
        .await?;
    view(conn, who.tenant, row).await
}

pub async fn list(
    conn: &mut Conn,
    who: &Principal,
    f: ListOpportunities,
    keyset: Keyset<Uuid>,
    limit: i64,
) -> ApiResult<Vec<OpportunityView>> {
    let mut c = Checker::query();
    let stage = f
        .stage
        .as_deref()
        .and_then(|s| check_stage(&mut c, "stage", s));
    let owner = c.optional_text("owner", f.owner.as_deref(), 200);
    let external_ref = external_refs::filter(&mut c, f.external_ref.as_deref());
    c.finish()?;
    let filter = OpportunityFilter {
        external_ref,
        account_id: f.account_id,
        stage: stage.map(|s| s.as_str().to_string()),
        status: f.status.map(|s| s.as_str().to_string()),
        owner,
        include_archived: f.include_archived,
    };
    let rows = q::list(conn, who.tenant, &filter, &keyset, limit).await?;
    views(conn, who.tenant, rows).await
}

pub async fn list_for_account(
    conn: &mut Conn,
    who: &Principal,
    account_id: Uuid,
    keyset: Keyset<Uuid>,
    limit: i64,
) -> ApiResult<Vec<OpportunityView>> {
    accounts::find_in(conn, who.tenant, account_id).await?;
    let filter = OpportunityFilter {
        account_id: Some(account_id),
        ..Default::default()
    };
    let rows = q::list(conn, who.tenant, &filter, &keyset, limit).await?;
    views(conn, who.tenant, rows).await
}

pub async fn get(conn: &mut Conn, who: &Principal, id: Uuid) -> ApiResult<OpportunityView> {
    let row = find_in(conn, who.tenant, id).await?;
    view(conn, who.tenant, row).await
}

/// A checked patch; amounts are resolved against the resulting currency in the transaction.
struct Checked {
    ch: OpportunityChanges,
    amount: Option<Option<Amount>>,
    currency: Option<Option<Currency>>,
    stage: Option<StageCode>,
    reason: Option<String>,
}

fn check_patch(p: PatchOpportunity) -> ApiResult<Checked> {
    let mut c = Checker::new();
    let mut ch = OpportunityChanges::default();
    match &p.name {
        Some(Some(n)) => ch.name = Some(c.name("name", n).into_string()),
        Some(None) => c.add("name", Code::Required),
        None => {}
    }
    if let Some(v) = &p.description {
        ch.description = Some(c.optional_text("description", v.as_deref(), 10_000));
    }
    let currency = p.currency.as_ref().map(|v| {
        v.as_deref()
            .and_then(|v| check_currency(&mut c, "currency", v))
    });
    if let Some(v) = p.expected_start {
        ch.expected_start = Some(v);
    }
    if let Some(v) = p.deadline {
        ch.deadline = Some(v);
    }
    match p.status {
        Some(Some(s)) => ch.status = Some(s.as_str().to_string()),
        Some(None) => c.add("status", Code::Required),
        None => {}
    }
    if let Some(v) = &p.competitors {
        let list = check_competitors(&mut c, v.as_deref().unwrap_or_default());
        ch.competitors = Some(competitors_json(&list)?);
    }
    match &p.owner {
        Some(Some(o)) => ch.owner = Some(c.required_text("owner", o, 200)),
        Some(None) => c.add("owner", Code::Required),
        None => {}
    }
    let stage = match p.current_stage {
        Some(Some(s)) => Some(s),
        Some(None) => {
            c.add("current_stage", Code::Required);
            None
        }
        None => None,
    };
    if let Some(v) = &p.external_refs {
        let refs = v.as_deref().unwrap_or_default();
        ch.external_refs = Some(external_refs::check(&mut c, "external_refs", refs));
    }
    let reason = c.optional_text("stage_reason", p.stage_reason.as_deref(), 2000);
    if reason.is_some() && stage.is_none() {
        c.add("stage_reason", Code::requires("current_stage"));
    }
    c.finish()?;
    Ok(Checked {
        ch,
        amount: p.estimated_amount,
        currency,
        stage,
        reason,
    })
}

/// Cross-field rules on the result of the patch: amount and currency together, the amount
/// exact in the resulting currency, the deadline not before the start.
fn resolve(current: &Opportunity, p: &mut Checked) -> ApiResult<()> {
    let mut c = Checker::new();
    let old_currency = currency_of(current)?;
    let currency = p.currency.clone().unwrap_or(old_currency.clone());
    match (&p.amount, &currency) {
        (Some(Some(a)), Some(cur)) => {
            p.ch.amount_minor = Some(to_minor(&mut c, a, cur));
        }
        (Some(None), _) => p.ch.amount_minor = Some(None),
        (None, Some(cur)) => {
            let changed_scale = old_currency
                .as_ref()
                .is_some_and(|old| old.exponent() != cur.exponent());
            if changed_scale && current.amount_minor.is_some() {
                c.add("estimated_amount", Code::requires("currency"));
            }
        }
        _ => {}
    }
    let has_amount = match &p.amount {
        Some(a) => a.is_some(),
        None => current.amount_minor.is_some(),
    };
    if has_amount != currency.is_some() {
        c.add("currency", Code::requires("estimated_amount"));
    }
    if let Some(cur) = &p.currency {
        p.ch.currency = Some(cur.as_ref().map(|c| c.as_str().to_string()));
    }
    let start = p.ch.expected_start.unwrap_or(current.expected_start);
    let deadline = p.ch.deadline.unwrap_or(current.deadline);
    if let (Some(s), Some(d)) = (start, deadline) {
        if d < s {
            c.add(
                "deadline",
                Code::NotBefore {
                    other: "expected_start".into(),
                },
            );
        }
    }
    c.finish()?;
    Ok(())
}

pub async fn update(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
    pre: &Precondition,
    patch: PatchOpportunity,
) -> ApiResult<OpportunityView> {
    Ok(write(conn, who, id, pre, patch).await?.0)
}

/// `update`, telling whether it changed anything (a write that changes nothing leaves the
/// resource as it was).
pub(crate) async fn write(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
    pre: &Precondition,
    patch: PatchOpportunity,
) -> ApiResult<(OpportunityView, bool)> {
    let mut p = check_patch(patch)?;
    let refs = p.ch.external_refs.clone().unwrap_or_default();
    let written = conn
        .transaction::<_, Step<Opportunity>, _>(async |conn| {
            let current = archive::lock_for_write::<Opportunity>(conn, who, id, pre).await?;
            if let Some(owner) = &p.ch.owner {
                if *owner != current.owner && !who.writes_all() {
                    return Err(ApiError::Forbidden(texts::forbidden(&Refusal::OtherOwner)).into());
                }
            }
            resolve(&current, &mut p)?;
            let mut changes = std::mem::take(&mut p.ch);
            // A new stage is part of the same change: one new version for all of it.
            let stage = p.stage.filter(|s| s.as_str() != current.current_stage);
            if let Some(s) = stage {
                changes.current_stage = Some(s.as_str().to_string());
                changes.stage_entered_at = Some(chrono::Utc::now());
            }
            let updated = Opportunity::update(conn, who.tenant, id, changes).await?;
            let before = view_of(current.clone(), None)?;
            let fields = events::changed_fields(&before, &view_of(updated.clone(), None)?)?;
            let changes = Changes::of(&before, fields)?;
            if stage.is_some() {
                let reason = p.reason.clone();
                stage_moves::record_move_in(conn, who, &current, &updated, reason, None).await?;
            }
            publish_or_keep(conn, who, &updated, changes, current).await?;
            Ok(updated)
        })
        .await;
    let written = settle_changed(written);
    let (row, changed) = external_refs::name_holder(
        conn,
        who.tenant,
        KIND,
        "external_refs",
        &refs,
        Some(id),
        written,
    )
    .await?;
    Ok((view(conn, who.tenant, row).await?, changed))
}

pub async fn archive(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
    pre: &Precondition,
) -> ApiResult<()> {
    archive::set_archived::<Opportunity>(conn, who, id, pre, true).await?;
    Ok(())
}

pub async fn restore(conn: &mut Conn, who: &Principal, id: Uuid) -> ApiResult<OpportunityView> {
    let row =
        archive::set_archived::<Opportunity>(conn, who, id, &Precondition::None, false).await?;
    view(conn, who.tenant, row).await
}

pub async fn stage_history(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
    keyset: Keyset<Uuid>,
    limit: i64,
) -> ApiResult<Vec<StageChangeView>> {
    find_in(conn, who.tenant, id).await?;
    let rows = q::stage_history(conn, who.tenant, id, &keyset, limit).await?;
    rows.into_iter().map(view::stage_change).collect()
}
