//! Webhook endpoints (admins): subscribe, change, rotate the secret, test, and look at and
//! repeat deliveries. Sending is the worker's (`service::delivery`, `crate::worker`).

use chrono::Utc;
use diesel_async::AsyncConnection;
use serde::Deserialize;
use serde_json::Map;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::table::VersionedTable;
use crate::db::webhooks::{
    self as q, Attempt, Endpoint, EndpointChanges, NewDelivery, NewEndpoint,
};
use crate::db::Keyset;
use crate::domain::event::{self, EventType, TypeFilter};
use crate::domain::texts::Noun;
use crate::domain::texts::{self, Refusal};
use crate::domain::validate::Checker;
use crate::domain::validate::Code;
use crate::domain::webhook::{self as wh, ROTATION_OVERLAP, SECRET_BYTES};
use crate::error::{ApiError, ApiResult};
use crate::service::input::double_option;
use crate::service::unchanged::{settle, Step};
use crate::service::{events, not_found, Conn, Precondition, Principal, Role};

/// Subscribes a URL to events.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpoint {
    /// An `https` URL resolving to a public address (`http` and private addresses only with
    /// `BUYERPATH_WEBHOOK_ALLOW_PRIVATE=true`).
    #[schema(
        example = "https://crm.example.com/hooks/buyerpath",
        min_length = 1,
        max_length = 2000
    )]
    pub url: String,
    /// Event types or patterns (`opportunity.*`, `*`), 1-50.
    #[schema(example = json!(["opportunity.*", "stage_assessment.created"]), min_items = 1, max_items = 50, value_type = Vec<EventTypePattern>)]
    pub event_types: Vec<String>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
}

/// A JSON merge patch of an endpoint. Enabling a disabled endpoint clears its failure state.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchEndpoint {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1, max_length = 2000)]
    pub url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Vec<EventTypePattern>, min_items = 1, max_items = 50)]
    pub event_types: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = bool)]
    pub enabled: Option<Option<bool>>,
}

/// An event type or pattern (schema only): `*`, `<resource>.*` or an exact type.
pub struct EventTypePattern;

impl utoipa::PartialSchema for EventTypePattern {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(event::all_patterns()))
            .description(Some(
                "An event type, `<resource>.*` for every type of a resource, or `*` for all.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for EventTypePattern {}

/// Whether endpoints may be plain http or private addresses (`BUYERPATH_WEBHOOK_ALLOW_PRIVATE`).
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlPolicy {
    pub allow_private: bool,
}

mod views;
pub use views::{
    DeliveryAttemptView, WebhookDeliveryView, WebhookEndpointView, WebhookEndpointWithSecret,
};

fn require_admin(who: &Principal) -> ApiResult<()> {
    if who.has(Role::Admin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(texts::forbidden(&Refusal::Webhooks)))
    }
}

fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::fill(&mut bytes);
    wh::secret_from(&bytes)
}

fn check_url(c: &mut Checker, url: &str, policy: UrlPolicy) -> String {
    let url = c.required_text("url", url, 2000);
    if let Some(problem) = wh::url_problem(&url, policy.allow_private) {
        c.add("url", problem);
    }
    url
}

fn check_types(c: &mut Checker, types: &[String]) -> Vec<Option<String>> {
    if types.is_empty() || types.len() > 50 {
        c.add(
            "event_types",
            if types.is_empty() {
                Code::TooFew { min: 1 }
            } else {
                Code::TooMany { max: 50 }
            },
        );
        return Vec::new();
    }
    match TypeFilter::parse("event_types", types.iter().map(String::as_str)) {
        Ok(f) => f.patterns().iter().cloned().map(Some).collect(),
        Err(v) => {
            c.add(v.path, v.code);
            Vec::new()
        }
    }
}

pub async fn create(
    conn: &mut Conn,
    who: &Principal,
    policy: UrlPolicy,
    b: CreateEndpoint,
) -> ApiResult<WebhookEndpointWithSecret> {
    require_admin(who)?;
    let mut c = Checker::new();
    let url = check_url(&mut c, &b.url, policy);
    let event_types = check_types(&mut c, &b.event_types);
    let description = c.optional_text("description", b.description.as_deref(), 500);
    c.finish()?;
    let row = Endpoint::insert(
        conn,
        NewEndpoint {
            id: Uuid::now_v7(),
            tenant_id: who.tenant.get(),
            url,
            description,
            event_types,
            enabled: b.enabled.unwrap_or(true),
            secret: new_secret(),
            created_by: who.sub.clone(),
        },
    )
    .await?;
    Ok(views::with_secret(row))
}

pub async fn list(
    conn: &mut Conn,
    who: &Principal,
    keyset: Keyset<Uuid>,
    limit: i64,
) -> ApiResult<Vec<WebhookEndpointView>> {
    require_admin(who)?;
    let rows = q::list(conn, who.tenant, &keyset, limit).await?;
    Ok(rows.iter().map(views::endpoint).collect())
}

pub async fn get(conn: &mut Conn, who: &Principal, id: Uuid) -> ApiResult<WebhookEndpointView> {
    Ok(views::endpoint(&find(conn, who, id).await?))
}

async fn find(conn: &mut Conn, who: &Principal, id: Uuid) -> ApiResult<Endpoint> {
    require_admin(who)?;
    Endpoint::find(conn, who.tenant, id)
        .await?
        .ok_or_else(|| not_found(Noun::WebhookEndpoint))
}

async fn lock(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
    pre: &Precondition,
) -> ApiResult<Endpoint> {
    let e = Endpoint::find_for_update(conn, who.tenant, id)
        .await?
        .ok_or_else(|| not_found(Noun::WebhookEndpoint))?;
    pre.check(e.version)?;
    Ok(e)
}

pub async fn update(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
    pre: &Precondition,
    policy: UrlPolicy,
    p: PatchEndpoint,
) -> ApiResult<WebhookEndpointView> {
    require_admin(who)?;
    let mut c = Checker::new();
    let mut ch = EndpointChanges::default();
    match &p.url {
        Some(Some(u)) => ch.url = Some(check_url(&mut c, u, policy)),
        Some(None) => c.add("url", Code::Required),
        None => {}
    }
    match &p.event_types {
        Some(Some(t)) => ch.event_types = Some(check_types(&mut c, t)),
        Some(None) => c.add("event_types", Code::Required),
        None => {}
    }
    if let Some(d) = &p.description {
        ch.description = Some(c.optional_text("description", d.as_deref(), 500));
    }
    match p.enabled {
        Some(Some(true)) => {
            ch.enabled = Some(true);
            ch.disabled_reason = Some(None);
            ch.failing_since = Some(None);
        }
        Some(Some(false)) => {
            ch.enabled = Some(false);
            ch.disabled_reason = Some(Some(format!("disabled by {}", who.sub)));
        }
        Some(None) => c.add("enabled", Code::Required),
        None => {}
    }
    c.finish()?;
    let written = conn
        .transaction::<_, Step<WebhookEndpointView>, _>(async |conn| {
            let before = views::endpoint(&lock(conn, who, id, pre).await?);
            let after = views::endpoint(&Endpoint::update(conn, who.tenant, id, ch).await?);
            if events::changed_fields(&before, &after)?.is_empty() {
                return Err(Step::Unchanged(before));
            }
            Ok(after)
        })
        .await;
    settle(written)
}

/// Deletes the endpoint with its deliveries.
pub async fn delete(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
    pre: &Precondition,
) -> ApiResult<()> {
    require_admin(who)?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        lock(conn, who, id, pre).await?;
        q::delete(conn, who.tenant, id).await?;
        Ok(())
    })
    .await
}

/// A new secret; the old one keeps signing alongside it for 24 hours.
pub async fn rotate_secret(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
) -> ApiResult<WebhookEndpointWithSecret> {
    require_admin(who)?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = lock(conn, who, id, &Precondition::None).await?;
        let until = Utc::now()
            + chrono::Duration::from_std(ROTATION_OVERLAP).map_err(ApiError::internal)?;
        let ch = EndpointChanges {
            secret: Some(new_secret()),
            previous_secret: Some(Some(current.secret)),
            previous_secret_expires_at: Some(Some(until)),
            ..Default::default()
        };
        Ok(views::with_secret(
            Endpoint::update(conn, who.tenant, id, ch).await?,
        ))
    })
    .await
}

fn ensure_enabled(e: &Endpoint) -> ApiResult<()> {
    if e.enabled {
        Ok(())
    } else {
        Err(ApiError::Conflict(texts::endpoint_disabled()))
    }
}

/// Queues a `webhook.test` event for the endpoint, due now.
pub async fn send_test(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
) -> ApiResult<WebhookDeliveryView> {
    let endpoint = find(conn, who, id).await?;
    ensure_enabled(&endpoint)?;
    let event_id = Uuid::now_v7();
    let mut data = Map::new();
    data.insert("endpoint_id".into(), endpoint.id.to_string().into());
    data.insert(
        "message".into(),
        "This is a test event from buyerpath.".into(),
    );
    data.insert("actor".into(), who.sub.clone().into());
    let body = events::EventView::new(event_id, EventType::WEBHOOK_TEST.as_str(), Utc::now(), data)
        .body()?;
    let mut rows = q::insert_deliveries(
        conn,
        vec![NewDelivery {
            id: Uuid::now_v7(),
            tenant_id: who.tenant.get(),
            endpoint_id: endpoint.id,
            event_id,
            event_type: EventType::WEBHOOK_TEST.as_str().to_string(),
            body,
            status: "pending".to_string(),
            next_attempt_at: Some(Utc::now()),
        }],
    )
    .await?;
    let delivery = rows
        .pop()
        .ok_or_else(|| ApiError::internal("no delivery stored"))?;
    Ok(views::delivery(delivery, Vec::new()))
}

/// The endpoint's deliveries, newest first, with their attempts.
pub async fn deliveries(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<WebhookDeliveryView>> {
    find(conn, who, id).await?;
    let ds = q::deliveries_of(conn, who.tenant, id, before, limit).await?;
    let ids: Vec<Uuid> = ds.iter().map(|d| d.id).collect();
    let mut attempts = q::attempts_of(conn, who.tenant, &ids).await?;
    Ok(ds
        .into_iter()
        .map(|delivery| {
            let (mine, rest): (Vec<Attempt>, Vec<Attempt>) = std::mem::take(&mut attempts)
                .into_iter()
                .partition(|a| a.delivery_id == delivery.id);
            attempts = rest;
            views::delivery(delivery, mine)
        })
        .collect())
}

/// Sends a delivery again now (whatever its state; the event id stays the same).
pub async fn redeliver(
    conn: &mut Conn,
    who: &Principal,
    endpoint_id: Uuid,
    delivery_id: Uuid,
) -> ApiResult<WebhookDeliveryView> {
    require_admin(who)?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let endpoint = lock(conn, who, endpoint_id, &Precondition::None).await?;
        ensure_enabled(&endpoint)?;
        q::find_delivery_for_update(conn, who.tenant, endpoint_id, delivery_id)
            .await?
            .ok_or_else(|| not_found(Noun::WebhookDelivery))?;
        let delivery = q::make_due(conn, who.tenant, delivery_id).await?;
        let attempts = q::attempts_of(conn, who.tenant, &[delivery_id]).await?;
        Ok(views::delivery(delivery, attempts))
    })
    .await
}
