#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Integration tests: the real app over HTTP against real PostgreSQL.
//! One test binary (one shared database); every test uses its own tenant.

mod common;

mod accounts;
mod activities;
mod archive;
mod assessments;
mod auth;
mod backup;
mod catalogue;
mod cli;
mod conditional;
mod contacts;
mod embedded;
mod errors;
mod events;
mod external_refs;
mod idempotency;
mod import_batches;
mod imports;
mod jwks;
mod limits;
mod logs;
mod moving_in;
mod opportunities;
mod outbox;
mod platform;
mod playbook;
mod receiver;
mod record;
mod restart;
mod surveys;
mod tls;
mod transactions;
mod webhooks;
