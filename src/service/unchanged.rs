//! A write that changes nothing leaves no trace: its transaction rolls back (no new version, no
//! event) and the caller answers with the resource as it was, same version, same ETag.
//!
//! A use case runs its transaction with [`Step`] as the error type and returns
//! `Err(Step::Unchanged(current))` when `events::changed_fields` finds nothing; [`settle`] turns
//! that into the answer.

use crate::error::{ApiError, ApiResult};
use crate::service::events::{self, Changes, Published};
use crate::service::{Conn, Principal};

/// Why a write's transaction ended without committing.
pub(crate) enum Step<T> {
    /// It failed.
    Failed(ApiError),
    /// It would change nothing: this is the resource as it is.
    Unchanged(T),
}

impl<T> From<ApiError> for Step<T> {
    fn from(e: ApiError) -> Self {
        Step::Failed(e)
    }
}

impl<T> From<diesel::result::Error> for Step<T> {
    fn from(e: diesel::result::Error) -> Self {
        Step::Failed(e.into())
    }
}

/// The written resource, or the unchanged one, or the error.
pub(crate) fn settle<T>(r: Result<T, Step<T>>) -> ApiResult<T> {
    match r {
        Ok(t) | Err(Step::Unchanged(t)) => Ok(t),
        Err(Step::Failed(e)) => Err(e),
    }
}

/// The written resource and whether the write changed it, or the error.
pub(crate) fn settle_changed<T>(r: Result<T, Step<T>>) -> ApiResult<(T, bool)> {
    match r {
        Ok(t) => Ok((t, true)),
        Err(Step::Unchanged(t)) => Ok((t, false)),
        Err(Step::Failed(e)) => Err(e),
    }
}

/// `<resource>.updated` with the `changes` in the caller's transaction; with none, the write
/// ends as unchanged, answering `before`.
pub(crate) async fn publish_or_keep<R: Published, T>(
    conn: &mut Conn,
    who: &Principal,
    row: &R,
    changes: Changes,
    before: T,
) -> Result<(), Step<T>> {
    if changes.is_empty() {
        return Err(Step::Unchanged(before));
    }
    events::updated(conn, who, row, changes).await?;
    Ok(())
}
