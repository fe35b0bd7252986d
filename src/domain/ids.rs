//! Identifier newtypes, so that a tenant id and a resource id cannot be swapped in a call.

use uuid::Uuid;

/// The tenant every row belongs to. Every query takes it first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(Uuid);

impl TenantId {
    pub const fn new(id: Uuid) -> TenantId {
        TenantId(id)
    }

    /// The raw id, for the storage layer.
    pub const fn get(self) -> Uuid {
        self.0
    }
}

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
