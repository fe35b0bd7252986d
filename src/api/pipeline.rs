//! `/v1/pipeline`: open opportunities per purchase stage.

use std::collections::BTreeMap;

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::opportunities::minor_to_amount;
use crate::api::playbook::{pick_lang, tenant_playbook};
use crate::auth::Principal;
use crate::db::opportunities as q;
use crate::domain::playbook::{localize, Lang};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Filters of the pipeline.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PipelineQuery {
    /// Only opportunities owned by this `sub`.
    pub owner: Option<String>,
    /// Only opportunities of this account.
    pub account_id: Option<Uuid>,
    /// An opportunity is stalled when it had no assessment for this many days (default 30).
    #[param(minimum = 1, maximum = 3650)]
    pub stalled_days: Option<u32>,
    /// Language of the stage names.
    pub lang: Option<Lang>,
}

/// Amounts in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct CurrencyAmount {
    pub currency: String,
    pub total: f64,
    /// Total × the stage's purchase-progress percentage.
    pub weighted: f64,
}

/// One stage of the pipeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct PipelineStage {
    pub code: String,
    pub order: u8,
    pub name: String,
    pub purchase_progress_percent: u8,
    /// Open, active opportunities in the stage.
    pub open_count: i64,
    /// Per currency; opportunities without an amount count but add nothing.
    pub amounts: Vec<CurrencyAmount>,
    /// Average days since the opportunities entered the stage (null when none).
    pub average_days_in_stage: Option<f64>,
    /// Open opportunities with no assessment for `stalled_days`.
    pub stalled: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Pipeline {
    pub playbook_version: i32,
    pub stalled_days: u32,
    pub stages: Vec<PipelineStage>,
}

/// Get the pipeline.
///
/// Per stage: open count, total and weighted amount per currency (amount × the stage's
/// purchase-progress percentage in the tenant's current playbook), average days in stage, and
/// how many are stalled. Computed in SQL.
#[utoipa::path(
    tag = "pipeline",
    params(PipelineQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The pipeline, one entry per stage.", body = Pipeline))
)]
#[get("/v1/pipeline")]
pub async fn get_pipeline(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: web::Query<PipelineQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let stalled_days = query.stalled_days.unwrap_or(30);
    if !(1..=3650).contains(&stalled_days) {
        return Err(ApiError::validation(
            "stalled_days",
            "must be between 1 and 3650",
        ));
    }
    let lang = pick_lang(query.lang, &req);
    let mut conn = state.conn().await?;
    let (version, _, playbook) = tenant_playbook(&mut conn, principal.tenant).await?;
    let rows = q::pipeline(
        &mut conn,
        principal.tenant,
        query.owner.as_deref(),
        query.account_id,
        stalled_days as i32,
    )
    .await?;
    let stages = playbook
        .stages
        .iter()
        .map(|s| {
            let mine: Vec<&q::PipelineRow> = rows.iter().filter(|r| r.stage == s.code).collect();
            let open_count: i64 = mine.iter().map(|r| r.open_count).sum();
            let days: f64 = mine.iter().map(|r| r.days_in_stage_sum).sum();
            let mut by_currency: BTreeMap<String, i64> = BTreeMap::new();
            for r in &mine {
                if let (Some(c), Some(t)) = (&r.currency, r.total_minor) {
                    *by_currency.entry(c.clone()).or_default() += t;
                }
            }
            let pct = i128::from(s.purchase_progress_percent);
            PipelineStage {
                code: s.code.clone(),
                order: s.order,
                name: localize(&s.name.zh, &s.name.en, lang).text,
                purchase_progress_percent: s.purchase_progress_percent,
                open_count,
                amounts: by_currency
                    .into_iter()
                    .map(|(currency, total)| CurrencyAmount {
                        currency,
                        total: minor_to_amount(total),
                        weighted: minor_to_amount(((i128::from(total) * pct + 50) / 100) as i64),
                    })
                    .collect(),
                average_days_in_stage: (open_count > 0)
                    .then(|| (days / open_count as f64 * 10.0).round() / 10.0),
                stalled: mine.iter().map(|r| r.stalled).sum(),
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(Pipeline {
        playbook_version: version,
        stalled_days,
        stages,
    }))
}
