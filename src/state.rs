//! Shared application state, handed to handlers as `web::Data<AppState>`.

use actix_web_prom::PrometheusMetrics;

use crate::auth::JwtKeys;
use crate::config::Config;
use crate::db::{Pool, ThreadPools};

pub struct AppState {
    /// For work outside requests (the webhook worker, start-up).
    pub pool: Pool,
    /// For requests: one pool per HTTP worker thread.
    pub requests: ThreadPools,
    pub config: Config,
    pub jwt: std::sync::Arc<JwtKeys>,
    pub metrics: PrometheusMetrics,
    pub webhook_metrics: crate::worker::WebhookMetrics,
    /// Request rate limits of this process.
    pub limits: std::sync::Arc<crate::http::rate_limit::RateLimits>,
    /// Migration versions embedded in this binary; `/readyz` checks they are all applied.
    pub expected_migrations: Vec<String>,
}

impl AppState {
    /// Builds the state; the pools connect lazily.
    pub fn new(
        config: Config,
        pool: Pool,
        requests: ThreadPools,
        jwt: JwtKeys,
    ) -> Result<AppState, String> {
        let mut builder = actix_web_prom::PrometheusMetricsBuilder::new("buyerpath")
            .mask_unmatched_patterns("UNKNOWN");
        // With a listener of its own, /metrics is not on the API port (404 there).
        if config.metrics_bind.is_none() {
            builder = builder.endpoint("/metrics");
        }
        let metrics = builder
            .build()
            .map_err(|e| format!("cannot build metrics: {e}"))?;
        let webhook_metrics = crate::worker::WebhookMetrics::register(&metrics.registry)?;
        let limits = std::sync::Arc::new(crate::http::rate_limit::RateLimits::new(
            config.rate_limit_user_per_minute,
            config.rate_limit_tenant_per_minute,
        ));
        Ok(AppState {
            webhook_metrics,
            limits,
            pool,
            requests,
            config,
            jwt: std::sync::Arc::new(jwt),
            metrics,
            expected_migrations: crate::db::migrate::embedded_versions(),
        })
    }

    /// The Prometheus text of every metric.
    pub fn render_metrics(&self) -> Result<String, String> {
        use prometheus::Encoder;
        let mut buf = Vec::new();
        prometheus::TextEncoder::new()
            .encode(&self.metrics.registry.gather(), &mut buf)
            .map_err(|e| e.to_string())?;
        String::from_utf8(buf).map_err(|e| e.to_string())
    }

    /// A connection from this worker thread's pool, or 503 when it cannot hand one out in time.
    pub async fn conn(&self) -> Result<crate::db::PooledConn, crate::error::ApiError> {
        let pool = self
            .requests
            .get()
            .map_err(crate::error::ApiError::internal)?;
        Ok(pool.get().await?)
    }
}
