//! The path of the writes by reference (`PUT /v1/<resources>/by-ref/{system}/{external_id}`),
//! which every resource's module shares.

use serde::Deserialize;
use utoipa::IntoParams;

use crate::domain::external_ref::ExternalRef;
use crate::error::ApiResult;
use crate::service::external_refs::path_ref;

/// The reference a write by reference names.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ByRefPath {
    /// The other system (`salesforce`, `hubspot`, …): a lowercase letter, then up to 31 of
    /// a-z, 0-9, `_` and `-`.
    #[param(pattern = "^[a-z][a-z0-9_-]{0,31}$")]
    system: String,
    /// The resource's id there: 1-255 characters, no control characters.
    #[param(max_length = 255, pattern = r"^[^\x00-\x1F\x7F-\x9F]+$")]
    external_id: String,
}

impl ByRefPath {
    /// The reference, checked (422 naming `system` or `external_id`).
    pub fn reference(&self) -> ApiResult<ExternalRef> {
        path_ref(&self.system, &self.external_id)
    }
}
