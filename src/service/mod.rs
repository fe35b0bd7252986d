//! Use cases: one module per aggregate. A service function takes the connection, the
//! `Principal` and typed input; it authorises, opens the transaction, locks, validates, calls
//! into `db` and `domain`, and returns values. It knows nothing of HTTP.
//!
//! Functions named `*_in` run inside the caller's transaction, so a larger use case (an
//! assessment that moves a stage, a background job) can compose them.

pub mod accounts;
pub mod activities;
pub mod archive;
pub mod assessments;
pub mod batch;
pub mod contacts;
pub mod contract;
pub mod delivery;
pub mod events;
pub mod exports;
pub mod external_refs;
pub mod health;
pub mod idempotency;
pub mod imports;
pub mod input;
pub mod opportunities;
pub mod pipeline;
pub mod playbook;
pub mod principal;
pub mod settings;
pub mod stage_moves;
pub mod surveys;
pub mod timeline;
pub(crate) mod unchanged;
pub mod webhooks;

pub use crate::db::Keyset;
pub use principal::{Principal, Role};

use crate::error::{ApiError, ApiResult};

/// The connection every service function works on (inside or outside a transaction).
pub type Conn = diesel_async::AsyncPgConnection;

/// What the caller expects the resource's current version to be (HTTP: `If-Match`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// No expectation: the write goes ahead.
    None,
    /// Any current version (`If-Match: *`).
    Any,
    /// One of these versions; an empty list never matches.
    Versions(Vec<i32>),
}

impl Precondition {
    pub fn check(&self, current: i32) -> ApiResult<()> {
        match self {
            Precondition::None | Precondition::Any => Ok(()),
            Precondition::Versions(v) if v.contains(&current) => Ok(()),
            Precondition::Versions(_) => Err(ApiError::PreconditionFailed {
                current_version: Some(current),
            }),
        }
    }
}

pub(crate) fn not_found(what: crate::domain::texts::Noun) -> ApiError {
    ApiError::NotFound(crate::domain::texts::not_found(what))
}

/// A row that cannot be decoded is an error naming the row, never a silent default.
pub(crate) fn corrupt(
    what: &str,
    id: impl std::fmt::Display,
    e: impl Into<crate::error::Cause>,
) -> ApiError {
    ApiError::internal_in(format!("stored {what} {id} cannot be read"), e)
}
