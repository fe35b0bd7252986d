//! Who is calling and what they may do: the authenticated principal and its roles. The HTTP
//! layer builds it from a bearer token (`crate::auth`); services decide with it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::ids::TenantId;
use crate::domain::texts::{self, Refusal};
use crate::error::ApiError;

/// A role from the token's `roles` claim.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything in the tenant.
    Viewer,
    /// Reads everything; writes the accounts it owns and their contacts.
    Rep,
    /// Writes everything in the tenant and reassigns owners.
    Manager,
    /// A manager who also manages tenant settings.
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "rep" => Some(Role::Rep),
            "manager" => Some(Role::Manager),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Rep => "rep",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tenant: TenantId,
    pub sub: String,
    pub roles: Vec<Role>,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Managers and admins write everything in the tenant.
    pub fn writes_all(&self) -> bool {
        self.has(Role::Manager) || self.has(Role::Admin)
    }

    /// May this caller write a resource owned by `owner`?
    pub fn may_write_owned_by(&self, owner: &str) -> bool {
        self.writes_all() || (self.has(Role::Rep) && self.sub == owner)
    }

    /// May this caller create resources at all (reps, managers, admins)?
    pub fn may_create(&self) -> bool {
        self.writes_all() || self.has(Role::Rep)
    }

    pub fn require_create(&self) -> Result<(), ApiError> {
        if self.may_create() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(texts::forbidden(&Refusal::ReadOnly)))
        }
    }

    pub fn require_write_owned_by(&self, owner: &str) -> Result<(), ApiError> {
        if self.may_write_owned_by(owner) {
            Ok(())
        } else if self.has(Role::Rep) {
            Err(ApiError::Forbidden(texts::forbidden(&Refusal::NotOwner)))
        } else {
            Err(ApiError::Forbidden(texts::forbidden(&Refusal::ReadOnly)))
        }
    }
}
