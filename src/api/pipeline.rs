//! `/v1/pipeline`: open opportunities per purchase stage.

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::money::format_minor;
use crate::domain::playbook::{localize, Lang};
use crate::error::ApiResult;
use crate::http::lang::pick_lang;
use crate::service::pipeline::{self as svc};
use crate::service::Principal;
use crate::state::AppState;

/// Filters of the pipeline.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PipelineQuery {
    /// Only opportunities owned by this `sub`.
    #[param(max_length = 200)]
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
    /// A decimal string with the currency's minor digits.
    #[schema(example = "1200000.00", pattern = r"^[0-9]+(\.[0-9]+)?$")]
    pub total: String,
    /// Total × the stage's purchase-progress percentage, rounded half up to the minor unit.
    #[schema(example = "120000.00", pattern = r"^[0-9]+(\.[0-9]+)?$")]
    pub weighted: String,
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
    let lang = pick_lang(query.lang, &req);
    let filter = svc::PipelineQuery {
        owner: query.owner,
        account_id: query.account_id,
        stalled_days: query.stalled_days,
    };
    let mut conn = state.conn().await?;
    let p = svc::get(&mut conn, &principal, filter).await?;
    let stages = p
        .stages
        .into_iter()
        .map(|t| PipelineStage {
            name: localize(&t.stage.name.zh, &t.stage.name.en, lang).text,
            code: t.stage.code,
            order: t.stage.order,
            purchase_progress_percent: t.stage.purchase_progress_percent,
            open_count: t.open_count,
            amounts: t
                .amounts
                .into_iter()
                .map(|a| CurrencyAmount {
                    total: format_minor(a.total_minor, &a.currency),
                    weighted: format_minor(a.weighted_minor, &a.currency),
                    currency: a.currency.as_str().to_string(),
                })
                .collect(),
            average_days_in_stage: t.average_days_in_stage,
            stalled: t.stalled,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Pipeline {
        playbook_version: p.playbook_version,
        stalled_days: p.stalled_days,
        stages,
    }))
}
