//! Readiness: whether this build's migrations are all applied.

use crate::error::{ApiError, ApiResult};
use crate::service::Conn;

/// How many migrations are applied; 503 (`Unavailable`) when the database cannot say, or when
/// one of `expected` (this build's) is not applied yet.
pub async fn migrations_applied(conn: &mut Conn, expected: &[String]) -> ApiResult<usize> {
    let applied = crate::db::applied_migrations(conn)
        .await
        .map_err(|e| ApiError::Unavailable(format!("cannot read migrations: {e}")))?;
    let pending = expected.iter().filter(|v| !applied.contains(v)).count();
    if pending > 0 {
        return Err(ApiError::Unavailable(format!(
            "{pending} migration(s) pending: run `buyerpath migrate`"
        )));
    }
    Ok(applied.len())
}
