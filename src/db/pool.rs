//! The connection pool: deadpool + diesel-async, with a wait timeout and a statement timeout so
//! the database never hangs a request.

use std::time::Duration;

use diesel::ConnectionError;
use diesel_async::pooled_connection::deadpool::{Object, Pool as DeadPool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use futures_util::FutureExt;

pub type Pool = DeadPool<AsyncPgConnection>;
pub type PoolError = diesel_async::pooled_connection::deadpool::PoolError;
pub type PooledConn = Object<AsyncPgConnection>;

/// Pool settings (from `Config`).
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_size: usize,
    pub wait_timeout: Duration,
    pub statement_timeout: Duration,
}

/// Builds the pool. Connections are opened lazily; each new one gets the statement timeout.
pub fn build_pool(url: &str, settings: &PoolSettings) -> Result<Pool, String> {
    let statement_timeout_ms = settings.statement_timeout.as_millis();
    let target = super::tls::target(url)?;
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
    // No round trip at every checkout: a connection is dropped when its session has ended
    // (the server closed it, e.g. on a restart) or its transaction state is broken, which
    // deadpool checks before handing it out (the restart test proves it).
    config.recycling_method = diesel_async::pooled_connection::RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |_url: &str| {
        let target = target.clone();
        async move {
            let mut conn = super::tls::connect(&target).await?;
            conn.batch_execute(&format!(
                "SET statement_timeout = {statement_timeout_ms}; SET lock_timeout = {statement_timeout_ms}; \
                 SET application_name = 'buyerpath'"
            ))
            .await
            .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
            Ok(conn)
        }
        .boxed()
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    DeadPool::builder(manager)
        .max_size(settings.max_size)
        .wait_timeout(Some(settings.wait_timeout))
        .create_timeout(Some(settings.wait_timeout))
        .recycle_timeout(Some(settings.wait_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| e.to_string())
}

/// One pool for each thread that serves requests.
///
/// A connection's driver task runs on the thread that opened it. With one pool shared by the
/// HTTP workers, a request served by one worker on a connection opened by another crossed
/// threads twice per round trip (a wake-up each way): about a fifth of the service's CPU per
/// request (`docs/benchmarks.md`). Here every worker thread opens its own pool, lazily, on first
/// use, of `max_size / threads` connections (rounded up).
pub struct ThreadPools {
    id: u64,
    url: String,
    settings: PoolSettings,
}

thread_local! {
    /// This thread's pools, by `ThreadPools::id` (a process may run several servers: tests).
    static POOLS: std::cell::RefCell<std::collections::HashMap<u64, Pool>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

impl ThreadPools {
    /// `settings.max_size` is shared out among `threads` threads. Checked here: a URL or
    /// setting that cannot make a pool fails at start, not at the first request.
    pub fn new(url: &str, settings: &PoolSettings, threads: usize) -> Result<ThreadPools, String> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let mut settings = settings.clone();
        settings.max_size = settings.max_size.div_ceil(threads.max(1));
        build_pool(url, &settings)?.close();
        Ok(ThreadPools {
            id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            url: url.to_string(),
            settings,
        })
    }

    /// The calling thread's pool (made on first use).
    pub fn get(&self) -> Result<Pool, String> {
        POOLS.with(|pools| {
            if let Some(pool) = pools.borrow().get(&self.id) {
                return Ok(pool.clone());
            }
            let pool = build_pool(&self.url, &self.settings)?;
            pools.borrow_mut().insert(self.id, pool.clone());
            Ok(pool)
        })
    }

    /// Connections per thread.
    pub fn per_thread(&self) -> usize {
        self.settings.max_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(max_size: usize) -> PoolSettings {
        PoolSettings {
            max_size,
            wait_timeout: Duration::from_secs(1),
            statement_timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn the_connections_are_shared_out_among_the_threads_rounded_up() {
        let url = "postgres://u@localhost/db";
        assert_eq!(
            ThreadPools::new(url, &settings(10), 2)
                .unwrap()
                .per_thread(),
            5
        );
        assert_eq!(
            ThreadPools::new(url, &settings(10), 3)
                .unwrap()
                .per_thread(),
            4
        );
        assert_eq!(
            ThreadPools::new(url, &settings(1), 4).unwrap().per_thread(),
            1
        );
        assert_eq!(
            ThreadPools::new(url, &settings(10), 0)
                .unwrap()
                .per_thread(),
            10
        );
        assert!(ThreadPools::new("postgres://u@h/db?sslmode=bogus", &settings(10), 2).is_err());
    }

    #[test]
    fn each_thread_has_its_own_pool_and_keeps_it() {
        let pools = ThreadPools::new("postgres://u@localhost/db", &settings(8), 2).unwrap();
        let here = pools.get().unwrap();
        assert_eq!(here.status().max_size, 4);
        here.resize(3);
        assert_eq!(
            pools.get().unwrap().status().max_size,
            3,
            "the same pool again"
        );
        std::thread::scope(|s| {
            s.spawn(|| assert_eq!(pools.get().unwrap().status().max_size, 4, "another pool"));
        });
        // Another server in the same process has pools of its own.
        let other = ThreadPools::new("postgres://u@localhost/db", &settings(8), 2).unwrap();
        assert_eq!(other.get().unwrap().status().max_size, 4);
    }
}
