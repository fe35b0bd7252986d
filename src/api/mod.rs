//! The HTTP API: one module per resource; this module wires the routes and builds the OpenAPI
//! document. `routes` is the single place where operations are registered.

pub mod accounts;
pub mod activities;
pub mod assessments;
pub mod contacts;
pub mod event_schemas;
pub mod events;
pub mod exports;
mod headers;
pub mod health;
pub mod imports;
pub mod opportunities;
pub mod pipeline;
pub mod playbook;
pub mod schema;
pub mod settings;
pub mod survey_records;
pub mod timeline;
pub mod webhooks;

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{scope, AppExt};

use crate::error::PROBLEM_JSON;

/// Registers every operation. Used by `build_app` and by `openapi()` alike: one scope per
/// resource collection, so a request is matched against a few prefixes, then its collection's
/// routes.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::get_healthz)
        .service(health::get_readyz)
        .service(scope("/v1/accounts").configure(account_routes))
        .service(scope("/v1/contacts").configure(contact_routes))
        .service(scope("/v1/activities").configure(activity_routes))
        .service(scope("/v1/opportunities").configure(opportunity_routes))
        .service(scope("/v1/playbook").configure(playbook_routes))
        .service(pipeline::get_pipeline)
        .service(scope("/v1/survey-records").configure(survey_routes))
        .service(survey_records::list_inventory)
        .service(settings::get_settings)
        .service(settings::patch_settings)
        .service(events::list_events)
        .service(events::list_event_types)
        .service(exports::export_accounts)
        .service(exports::export_contacts)
        .service(exports::export_opportunities)
        .service(exports::export_activities)
        .service(scope("/v1/webhook-endpoints").configure(webhook_routes))
        .service(scope("/v1/imports").configure(import_routes));
}

/// `/v1/accounts` and what lives under an account.
fn account_routes(cfg: &mut ServiceConfig) {
    cfg.service(accounts::create_account)
        .service(accounts::put_account_by_ref)
        .service(accounts::list_accounts)
        .service(accounts::get_account)
        .service(accounts::patch_account)
        .service(accounts::delete_account)
        .service(accounts::restore_account)
        .service(contacts::create_contact)
        .service(contacts::list_contacts)
        .service(contacts::get_contact)
        .service(contacts::patch_contact)
        .service(contacts::delete_contact)
        .service(contacts::restore_contact)
        .service(contacts::get_org_chart)
        .service(activities::create_activity)
        .service(activities::list_activities)
        .service(timeline::get_account_timeline)
        .service(opportunities::create_opportunity)
        .service(opportunities::list_account_opportunities)
        .service(survey_records::create_survey_record)
        .service(survey_records::import_survey_record)
        .service(survey_records::list_survey_records);
}

/// `/v1/contacts`: contacts named by their reference (the rest lives under their account).
fn contact_routes(cfg: &mut ServiceConfig) {
    cfg.service(contacts::put_contact_by_ref);
}

fn import_routes(cfg: &mut ServiceConfig) {
    cfg.service(imports::create_import)
        .service(imports::list_imports)
        .service(imports::get_import)
        .service(imports::cancel_import)
        .service(imports::get_import_report);
}

fn activity_routes(cfg: &mut ServiceConfig) {
    cfg.service(activities::put_activity_by_ref)
        .service(activities::get_activity)
        .service(activities::patch_activity)
        .service(activities::delete_activity)
        .service(activities::restore_activity);
}

fn opportunity_routes(cfg: &mut ServiceConfig) {
    cfg.service(timeline::get_opportunity_timeline)
        .service(opportunities::put_opportunity_by_ref)
        .service(opportunities::list_opportunities)
        .service(opportunities::get_opportunity)
        .service(opportunities::patch_opportunity)
        .service(opportunities::delete_opportunity)
        .service(opportunities::restore_opportunity)
        .service(opportunities::get_stage_history)
        .service(assessments::create_stage_assessment)
        .service(assessments::get_stage_assessment_draft)
        .service(assessments::list_stage_assessments)
        .service(assessments::get_stage_assessment);
}

fn playbook_routes(cfg: &mut ServiceConfig) {
    cfg.service(playbook::get_playbook)
        .service(playbook::list_playbook_versions)
        .service(playbook::get_playbook_version)
        .service(playbook::put_playbook_stage);
}

fn survey_routes(cfg: &mut ServiceConfig) {
    cfg.service(survey_records::get_survey_template)
        .service(survey_records::export_survey_record)
        .service(survey_records::get_survey_record)
        .service(survey_records::patch_survey_record)
        .service(survey_records::delete_survey_record)
        .service(survey_records::restore_survey_record)
        .service(survey_records::diff_survey_records);
}

fn webhook_routes(cfg: &mut ServiceConfig) {
    cfg.service(webhooks::create_webhook_endpoint)
        .service(webhooks::list_webhook_endpoints)
        .service(webhooks::get_webhook_endpoint)
        .service(webhooks::patch_webhook_endpoint)
        .service(webhooks::delete_webhook_endpoint)
        .service(webhooks::rotate_webhook_endpoint_secret)
        .service(webhooks::test_webhook_endpoint)
        .service(webhooks::list_webhook_deliveries)
        .service(webhooks::redeliver_webhook_delivery);
}

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer_auth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A JWT with claims `sub`, `tenant` (UUID), `roles` (viewer, rep, manager, \
                         admin) and `exp`.",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "buyerpath",
        description = "Models the customer's purchase process in six stages for B2B IT-solution \
                       sales teams: accounts and their org chart, survey records, opportunities \
                       and evidence-based stage assessments.\n\nErrors are RFC 9457 \
                       `application/problem+json` documents with a stable `code`. Lists use \
                       keyset pagination (`limit`, `cursor`). Mutable resources carry a \
                       `version`, exposed as `ETag`; `PATCH` and `DELETE` honour `If-Match`. \
                       A whole number may be written `3` or `3.0`; amounts of money are decimal strings \
                       (`\"1200000.00\"`) or whole numbers, never fractional JSON numbers.",
        license(name = "Proprietary"),
    ),
    servers(
        (url = "/", description = "The service that serves this document"),
        (url = "http://127.0.0.1:8080", description = "A service started with the README's quick start (`cargo run`)")
    ),
    tags(
        (name = "accounts", description = "Customer accounts (客户)"),
        (name = "contacts", description = "People at the customer and the org chart (组织结构)"),
        (name = "activities", description = "What the seller did (拜访、交流、活动): the record the engine judges from"),
        (name = "playbook", description = "The purchase-stage methodology (销售手册): stages, buying signals, milestones, key actions, tools"),
        (name = "opportunities", description = "Purchase projects (采购项目) and their stage history"),
        (name = "assessments", description = "Evidence-based stage assessments (阶段评估)"),
        (name = "pipeline", description = "Open opportunities per purchase stage"),
        (name = "surveys", description = "Customer current-state survey records (客户现状调查表) and the installed base"),
        (name = "settings", description = "Tenant settings"),
        (name = "events", description = "The event log: every committed change, in commit order"),
        (name = "webhooks", description = "Signed HTTP deliveries of events (Standard Webhooks)"),
        (name = "health", description = "Liveness and readiness probes; no token needed"),
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError, crate::error::FieldCode, crate::error::FieldLocation, crate::service::Role, crate::domain::money::Amount, crate::service::input::Tag, crate::service::webhooks::EventTypePattern)),
    modifiers(&SecurityAddon)
)]
pub struct ApiDoc;

/// The complete OpenAPI document, as served at `/openapi.json` and printed by
/// `buyerpath openapi`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    finalize(openapi_unfinished())
}

/// The document as the handlers' annotations give it, before `finalize`.
pub(crate) fn openapi_unfinished() -> utoipa::openapi::OpenApi {
    let (_app, api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes)
        .split_for_parts();
    api
}

/// The limits the domain states once, for the schemas they name.
pub(crate) const LIMITS: &[&[crate::domain::validate::Limit]] = &[
    crate::domain::activity::LIMITS,
    crate::domain::external_ref::LIMITS,
];

fn problem(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// 429 with the header fields that say why and for how long.
fn rate_limited() -> utoipa::openapi::Response {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let text = || ObjectBuilder::new().schema_type(Type::String).build();
    let mut r = problem(
        "Over the user's or the tenant's request rate (`BUYERPATH_RATE_LIMIT_*`); retry after \
         `Retry-After` seconds.",
    );
    for (name, description) in [
        ("Retry-After", "Seconds until a request will be accepted."),
        (
            "RateLimit",
            "IETF RateLimit: the tightest policy, its remaining requests `r` and seconds `t` until its next token (0 when full).",
        ),
        (
            "RateLimit-Policy",
            "IETF RateLimit-Policy: each policy with its quota `q` per window `w` (seconds).",
        ),
    ] {
        r.headers.insert(
            name.to_string(),
            HeaderBuilder::new()
                .schema(Some(text()))
                .description(Some(description))
                .build()
                .into(),
        );
    }
    r
}

/// The form an `If-Match` header must have (RFC 9110): `*` or a list of entity tags (a bare
/// version number is read as its tag).
pub const IF_MATCH_PATTERN: &str =
    r#"^(\*|((W/)?"[!#-~]*"|[0-9]{1,9})([ \t]*,[ \t]*((W/)?"[!#-~]*"|[0-9]{1,9}))*)$"#;

/// Every `If-Match` parameter states its syntax, so malformed ones are schema-invalid.
fn constrain_if_match(op: &mut Operation) {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    for p in op.parameters.iter_mut().flatten() {
        let RefOr::T(p) = p else { continue };
        if p.name == "If-Match" {
            p.schema = Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(IF_MATCH_PATTERN))
                    .into(),
            );
        }
    }
}

/// The syntax of an `Idempotency-Key`: an sf-string or a bare token of visible ASCII.
pub const IDEMPOTENCY_KEY_PATTERN: &str = r#"^("[!#-\[\]-~]{1,255}"|[!#-\[\]-~]{1,255})$"#;

/// Every POST takes an `Idempotency-Key` (IETF httpapi draft).
fn add_idempotency_key(op: &mut Operation) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::Required;
    let p = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes a retry safe: the first response (status, body, `Location`) is kept for 24 \
             hours per user and key and replayed (with `Idempotent-Replayed: true`) for a repeat \
             of the same request. The same key with a different method, path or body is 422; \
             a repeat while the first is still running is 409. A UUID is a good key.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(IDEMPOTENCY_KEY_PATTERN)),
        ))
        .build();
    op.parameters.get_or_insert_with(Vec::new).push(p.into());
}

/// A GET whose 200 carries an ETag also answers `If-None-Match` with 304.
fn add_if_none_match(op: &mut Operation) {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::path::ParameterBuilder;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::Required;
    let validated = matches!(
        op.responses.responses.get("200"),
        Some(RefOr::T(ok)) if ok.headers.contains_key("ETag")
    );
    if !validated {
        return;
    }
    let p = ParameterBuilder::new()
        .name("If-None-Match")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "ETags of the copies the client holds (or `*`): when one matches the current \
             ETag (weak comparison), the answer is 304 without a body.",
        ))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build();
    op.parameters.get_or_insert_with(Vec::new).push(p.into());
    let not_modified = ResponseBuilder::new()
        .description("The client's copy (`If-None-Match`) is current; no body.")
        .header(
            "ETag",
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .description(Some("The current ETag"))
                .build(),
        )
        .build();
    op.responses
        .responses
        .insert("304".to_string(), not_modified.into());
}

/// The headers and error responses an operation has from the shared layers.
fn document_shared_responses(op: &mut Operation, method: &str, params: &[ParameterIn]) {
    let has_path = params.iter().any(|p| matches!(p, ParameterIn::Path));
    let has_query = params.iter().any(|p| matches!(p, ParameterIn::Query));
    let has_body = op.request_body.is_some();
    let secured = is_secured(op);
    constrain_if_match(op);
    if method == "GET" {
        add_if_none_match(op);
    }
    if method == "POST" && secured {
        add_idempotency_key(op);
    }
    if secured {
        op.responses
            .responses
            .entry("429".to_string())
            .or_insert_with(|| rate_limited().into());
    }
    let mut add = |status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| problem(description).into());
    };
    for (when, status, description) in SHARED_RESPONSES {
        let applies = match when {
            When::Secured => secured,
            When::Path => has_path,
            When::Query => has_query,
            When::Body => has_body,
            When::SecuredPost => method == "POST" && secured,
            When::Conditional => matches!(method, "PATCH" | "DELETE" | "PUT"),
            When::PathWrite => has_path && method != "GET",
        };
        if applies {
            add(status, description);
        }
    }
    headers::declare(op, method, secured);
}

/// When a shared error response applies to an operation.
enum When {
    Secured,
    Path,
    Query,
    Body,
    SecuredPost,
    Conditional,
    PathWrite,
}

/// The shared error responses, in the order they are documented (the first description of a
/// status wins).
const SHARED_RESPONSES: &[(When, &str, &str)] = &[
    (
        When::Secured,
        "401",
        "Missing, malformed, expired or otherwise invalid bearer token.",
    ),
    (
        When::Secured,
        "403",
        "The token's roles do not allow this operation.",
    ),
    (
        When::Secured,
        "500",
        "Unexpected error; details are only in the server log (see X-Request-Id).",
    ),
    (
        When::Secured,
        "503",
        "The database is unavailable; retry after `Retry-After` seconds.",
    ),
    (
        When::Path,
        "400",
        "A path parameter is malformed (e.g. not a UUID).",
    ),
    (
        When::Path,
        "404",
        "Not found, or it belongs to another tenant.",
    ),
    (
        When::Query,
        "400",
        "A query parameter is malformed or unknown.",
    ),
    (
        When::Query,
        "422",
        "A query parameter is out of range (`errors` names it).",
    ),
    (When::Body, "400", "The body is not well-formed JSON."),
    (When::Body, "413", "The body exceeds the configured limit."),
    (When::Body, "415", "The body is not JSON."),
    (
        When::Body,
        "422",
        "The body is invalid; `errors` lists each field and what is wrong.",
    ),
    (
        When::SecuredPost,
        "400",
        "A header (`Idempotency-Key`) is malformed.",
    ),
    (
        When::SecuredPost,
        "409",
        "A request with the same `Idempotency-Key` is still being processed \
         (`idempotency_key_in_use`; retry after `Retry-After`).",
    ),
    (
        When::SecuredPost,
        "422",
        "The `Idempotency-Key` was used with a different request.",
    ),
    (
        When::Conditional,
        "412",
        "`If-Match` does not match the current ETag.",
    ),
    (
        When::PathWrite,
        "409",
        "The resource (or its parent) is archived, or it changed concurrently.",
    ),
];

fn is_secured(op: &Operation) -> bool {
    serde_json::to_value(&op.security)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .is_some_and(|reqs| {
            reqs.iter()
                .any(|r| r.as_object().is_some_and(|o| !o.is_empty()))
        })
}

/// Documents the error responses every operation can give, from the shape of the operation:
/// the errors come from shared layers (auth, extractors, pool), so they are added in one place.
pub fn finalize(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    for limits in LIMITS {
        // A limit the document lacks is a test failure (`api::schema`), not a start-up error.
        schema::state_limits(&mut api, limits);
    }
    schema::state_text_rules(&mut api);
    headers::components(&mut api);
    for item in api.paths.paths.values_mut() {
        let ops = [
            ("GET", item.get.as_mut()),
            ("POST", item.post.as_mut()),
            ("PUT", item.put.as_mut()),
            ("PATCH", item.patch.as_mut()),
            ("DELETE", item.delete.as_mut()),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            // First, so that its 422 is documented with the other parameters' answers.
            schema::state_lang(op);
            let params: Vec<ParameterIn> = op
                .parameters
                .iter()
                .flatten()
                .filter_map(|p| match p {
                    RefOr::T(p) => Some(p.parameter_in.clone()),
                    RefOr::Ref(_) => None,
                })
                .collect();
            document_shared_responses(op, method, &params);
        }
    }
    with_events(api)
}

/// `api` with the event catalogue (`event_schemas`), written from the document's schemas.
fn with_events(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::{schema::Schema, PathItem, RefOr};
    let Some(components) = api.components.as_mut() else {
        return api;
    };
    let schemas = serde_json::to_value(&components.schemas)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    let events = event_schemas::catalogue(&schemas);
    let mut catalogue = event_schemas::section_diffs(&schemas);
    catalogue.schemas.extend(events.schemas);
    catalogue.dropped.extend(events.dropped);
    catalogue.webhooks = events.webhooks;
    for name in catalogue.dropped {
        components.schemas.remove(name);
    }
    // A schema or webhook that cannot be read back is left out, and the drift test of the
    // committed document fails.
    for (name, schema) in catalogue.schemas {
        match serde_json::from_value::<RefOr<Schema>>(schema) {
            Ok(s) => {
                components.schemas.insert(name, s);
            }
            Err(e) => log::error!("the event schema {name} is not a schema: {e}"),
        }
    }
    let mut hooks = utoipa::openapi::Paths::new();
    for (name, item) in catalogue.webhooks {
        match serde_json::from_value::<PathItem>(item) {
            Ok(i) => {
                hooks.paths.insert(name, i);
            }
            Err(e) => log::error!("the webhook {name} is not a path item: {e}"),
        }
    }
    api.webhooks = Some(hooks);
    api
}
