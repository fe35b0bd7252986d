#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Integration tests: the real app over HTTP against real PostgreSQL.
//! One test binary (one shared database); every test uses its own tenant.

mod common;

mod accounts;
mod activities;
mod archive;
mod assessments;
mod auth;
mod cli;
mod contacts;
mod embedded;
mod opportunities;
mod platform;
mod playbook;
mod record;
mod surveys;
