//! Shared application state, handed to handlers as `web::Data<AppState>`.

use actix_web_prom::PrometheusMetrics;

use crate::auth::JwtKeys;
use crate::config::Config;
use crate::db::Pool;

pub struct AppState {
    pub pool: Pool,
    pub config: Config,
    pub jwt: std::sync::Arc<JwtKeys>,
    pub metrics: PrometheusMetrics,
    pub webhook_metrics: crate::worker::WebhookMetrics,
    /// Migration versions embedded in this binary; `/readyz` checks they are all applied.
    pub expected_migrations: Vec<String>,
}

impl AppState {
    /// Builds the state; the pool connects lazily.
    pub fn new(config: Config, pool: Pool, jwt: JwtKeys) -> Result<AppState, String> {
        let metrics = actix_web_prom::PrometheusMetricsBuilder::new("buyerpath")
            .endpoint("/metrics")
            .mask_unmatched_patterns("UNKNOWN")
            .build()
            .map_err(|e| format!("cannot build metrics: {e}"))?;
        let webhook_metrics = crate::worker::WebhookMetrics::register(&metrics.registry)?;
        Ok(AppState {
            webhook_metrics,
            pool,
            config,
            jwt: std::sync::Arc::new(jwt),
            metrics,
            expected_migrations: crate::db::migrate::embedded_versions(),
        })
    }

    /// A pooled connection, or 503 when the pool cannot hand one out in time.
    pub async fn conn(&self) -> Result<crate::db::PooledConn, crate::error::ApiError> {
        Ok(self.pool.get().await?)
    }
}
