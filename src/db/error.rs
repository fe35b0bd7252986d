//! Database errors into the application's error: SQLSTATE classes to statuses, constraint
//! names to the fields they guard.

use crate::domain::texts::{self, Noun};
use crate::domain::validate::{Code, Violation};
use crate::error::ApiError;

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match e {
            E::NotFound => ApiError::NotFound(texts::not_found(Noun::Resource)),
            E::DatabaseError(kind, info) => {
                let msg = info.message().to_string();
                let constraint = info.constraint_name().unwrap_or("").to_string();
                match kind {
                    K::UniqueViolation if constraint == super::external_refs::UNIQUE => {
                        ApiError::ExternalRefTaken {
                            violation: Box::new(Violation::new("external_refs", Code::Taken)),
                            key: taken_key(info.details().unwrap_or("")),
                            held_by: None,
                        }
                    }
                    K::UniqueViolation => ApiError::Conflict(texts::duplicate_values()),
                    K::ForeignKeyViolation => {
                        ApiError::validation(constraint_field(&constraint), Code::NotFound)
                    }
                    K::CheckViolation | K::NotNullViolation => {
                        ApiError::validation(constraint_field(&constraint), Code::NotAllowed)
                    }
                    K::ClosedConnection | K::UnableToSendCommand => ApiError::Unavailable(msg),
                    K::SerializationFailure => ApiError::Unavailable(msg),
                    _ if is_unavailable_message(&msg) => ApiError::Unavailable(msg),
                    _ => ApiError::internal_in("database error", msg),
                }
            }
            other => ApiError::internal_in("database error", other),
        }
    }
}

/// `system:id` from the detail of a violation of `external_refs_pkey`: `Key (tenant_id,
/// resource_type, system, external_id)=(…, account, salesforce, 001) already exists.`
fn taken_key(detail: &str) -> String {
    let values = detail
        .split_once(")=(")
        .and_then(|(_, rest)| rest.rsplit_once(") already exists"))
        .map(|(v, _)| v);
    match values
        .map(|v| v.splitn(4, ", ").collect::<Vec<_>>())
        .as_deref()
    {
        Some([_, _, system, id]) => format!("{system}:{id}"),
        _ => String::new(),
    }
}

/// Messages of SQLSTATE classes 08/53/57 (connection, resources, operator intervention) and
/// lock/statement timeouts, which diesel-async reports with an `Unknown` kind.
fn is_unavailable_message(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    [
        "statement timeout",
        "lock timeout",
        "terminating connection",
        "the database system is",
        "too many connections",
        "connection",
        "out of memory",
        "could not obtain lock",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}

/// Maps a constraint name like `contacts_reports_to_fkey` to the field it guards.
fn constraint_field(constraint: &str) -> String {
    let trimmed = constraint
        .trim_end_matches("_fkey")
        .trim_end_matches("_check")
        .trim_end_matches("_not_null");
    // Postgres names constraints `<table>_<column>_<kind>`; the longest matching table wins
    // (`survey_inventory_items_` over a shorter prefix).
    let table = super::TABLES
        .iter()
        .filter(|t| {
            trimmed.len() > t.len()
                && trimmed.starts_with(*t)
                && trimmed.as_bytes()[t.len()] == b'_'
        })
        .max_by_key(|t| t.len());
    if let Some(t) = table {
        return trimmed[t.len() + 1..].to_string();
    }
    if trimmed.is_empty() {
        "body".to_string()
    } else {
        trimmed.to_string()
    }
}

impl From<super::documents::DecodeError> for ApiError {
    fn from(e: super::documents::DecodeError) -> Self {
        ApiError::internal(e)
    }
}

impl From<super::PoolError> for ApiError {
    fn from(e: super::PoolError) -> Self {
        ApiError::Unavailable(format!("database pool: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_reference_is_read_from_the_detail() {
        let detail = "Key (tenant_id, resource_type, system, external_id)=(0193a1d2-7c4e-7b3a-9f10-2c5d8e4f6a7b, account, salesforce, 001, x) already exists.";
        assert_eq!(taken_key(detail), "salesforce:001, x");
        assert_eq!(taken_key("something else"), "");
    }

    #[test]
    fn constraint_names_map_to_fields() {
        assert_eq!(constraint_field("contacts_reports_to_fkey"), "reports_to");
        assert_eq!(constraint_field("accounts_name_check"), "name");
        assert_eq!(
            constraint_field("survey_records_surveyor_check"),
            "surveyor"
        );
        assert_eq!(
            constraint_field("survey_inventory_items_quantity_check"),
            "quantity"
        );
        assert_eq!(
            constraint_field("opportunities_tenant_id_account_id_fkey"),
            "tenant_id_account_id"
        );
        assert_eq!(constraint_field(""), "body");
    }
}
