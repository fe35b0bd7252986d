//! The pipeline: open, active opportunities per purchase stage, aggregated in SQL and weighted
//! by the tenant's current purchase-progress percentages.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::db::opportunities as q;
use crate::domain::money::{percent_of, Currency};
use crate::domain::playbook::Stage;
use crate::domain::validate::Checker;
use crate::domain::validate::Code;
use crate::error::{ApiError, ApiResult};
use crate::service::{playbook, Conn, Principal};

/// Filters of the pipeline (as given; checked here).
#[derive(Debug, Default)]
pub struct PipelineQuery {
    pub owner: Option<String>,
    pub account_id: Option<Uuid>,
    /// Default 30.
    pub stalled_days: Option<u32>,
}

/// Amounts of one currency in one stage, in minor units.
#[derive(Debug)]
pub struct Totals {
    pub currency: Currency,
    pub total_minor: i64,
    /// Total × the stage's purchase-progress percentage.
    pub weighted_minor: i64,
}

/// One stage of the pipeline.
#[derive(Debug)]
pub struct StageTotals {
    pub stage: Stage,
    pub open_count: i64,
    pub amounts: Vec<Totals>,
    pub average_days_in_stage: Option<f64>,
    pub stalled: i64,
}

#[derive(Debug)]
pub struct Pipeline {
    pub playbook_version: i32,
    pub stalled_days: u32,
    pub stages: Vec<StageTotals>,
}

pub async fn get(conn: &mut Conn, who: &Principal, f: PipelineQuery) -> ApiResult<Pipeline> {
    let stalled_days = f.stalled_days.unwrap_or(30);
    let mut c = Checker::query();
    if !(1..=3650).contains(&stalled_days) {
        c.add("stalled_days", Code::range(1, 3650));
    }
    let owner = c.optional_text("owner", f.owner.as_deref(), 200);
    c.finish()?;
    let (version, _, playbook) = playbook::current_in(conn, who.tenant).await?;
    let rows = q::pipeline(
        conn,
        who.tenant,
        owner.as_deref(),
        f.account_id,
        i32::try_from(stalled_days).unwrap_or(30),
    )
    .await?;
    let mut stages = Vec::with_capacity(playbook.stages.len());
    for s in playbook.stages {
        let mine: Vec<&q::PipelineRow> = rows.iter().filter(|r| r.stage == s.code).collect();
        let open_count: i64 = mine.iter().map(|r| r.open_count).sum();
        let days: f64 = mine.iter().map(|r| r.days_in_stage_sum).sum();
        let mut by_currency: BTreeMap<&str, i64> = BTreeMap::new();
        for r in &mine {
            if let (Some(c), Some(t)) = (&r.currency, r.total_minor) {
                let sum = by_currency.entry(c.as_str()).or_default();
                *sum = sum
                    .checked_add(t)
                    .ok_or_else(|| ApiError::internal("pipeline total overflows"))?;
            }
        }
        let amounts = by_currency
            .into_iter()
            .map(|(code, total)| {
                let currency = Currency::parse(code).map_err(|e| {
                    ApiError::internal(format!("stored opportunity currency {code:?}: {e}"))
                })?;
                Ok(Totals {
                    currency,
                    total_minor: total,
                    weighted_minor: percent_of(total, s.purchase_progress_percent),
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        stages.push(StageTotals {
            open_count,
            amounts,
            average_days_in_stage: (open_count > 0)
                .then(|| (days / open_count as f64 * 10.0).round() / 10.0),
            stalled: mine.iter().map(|r| r.stalled).sum(),
            stage: s,
        });
    }
    Ok(Pipeline {
        playbook_version: version,
        stalled_days,
        stages,
    })
}
