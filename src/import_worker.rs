//! The import worker, run inside `serve`: it runs queued import jobs one at a time
//! (`service::imports::run`). Its own connections hold a job's lock, so when the process stops
//! (or dies) mid-job the lock goes with them and the job is resumed — by another replica, or by
//! this one after a restart. It is not waited for on shutdown.

use std::time::Duration;

use diesel_async::AsyncPgConnection;
use tokio::sync::watch;

use crate::db::tls::{self, Target};
use crate::error::{ApiError, ApiResult};
use crate::service::imports::run::run_next;

/// How often the worker looks for jobs when there was none.
const POLL: Duration = Duration::from_millis(500);

async fn connect(target: &Target) -> ApiResult<AsyncPgConnection> {
    tls::connect(target)
        .await
        .map_err(|e| ApiError::Unavailable(format!("import worker: {e}")))
}

/// Runs until `stop` turns true.
pub async fn run(database_url: String, mut stop: watch::Receiver<bool>) {
    let target = match tls::target(&database_url) {
        Ok(t) => t,
        Err(e) => {
            log::error!("import worker not started: {e}");
            return;
        }
    };
    log::info!("import worker running");
    let mut meta: Option<AsyncPgConnection> = None;
    while !*stop.borrow() {
        if meta.is_none() {
            meta = connect(&target).await.ok();
        }
        let busy = match meta.as_mut() {
            Some(m) => match run_next(m, async || connect(&target).await).await {
                Ok(ran) => ran,
                Err(e) => {
                    log::warn!("import worker: {e}");
                    meta = None;
                    false
                }
            },
            None => false,
        };
        if !busy {
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.changed() => {}
            }
        }
    }
    log::info!("import worker stopped");
}
