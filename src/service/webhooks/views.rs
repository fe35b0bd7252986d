//! What the webhook use cases return: endpoints and deliveries as clients see them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::webhooks::{Attempt, Delivery, Endpoint};
use crate::domain::event;

/// A webhook endpoint. Its signing secret is shown only when created or rotated.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookEndpointDto)]
pub struct WebhookEndpointView {
    #[schema(read_only)]
    pub id: Uuid,
    pub url: String,
    /// Event types or patterns (`opportunity.*`, `*`).
    pub event_types: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    /// Why the endpoint was disabled (410 Gone, five days of failures, or by whom).
    #[schema(read_only)]
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed; cleared by a success.
    #[schema(read_only)]
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the previous secret also signs (24 h after a rotation).
    #[schema(read_only)]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    #[schema(read_only)]
    pub created_by: String,
    #[schema(read_only)]
    pub created_at: DateTime<Utc>,
    #[schema(read_only)]
    pub updated_at: DateTime<Utc>,
    #[schema(read_only)]
    pub version: i32,
}

/// An endpoint with its signing secret: keep it, it is not shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: WebhookEndpointView,
    /// `whsec_` and the base64 of 32 random bytes.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwJ0xvN3Y5cWs=")]
    pub secret: String,
}

/// The view of a stored endpoint (without its secret).
pub(super) fn endpoint(e: &Endpoint) -> WebhookEndpointView {
    WebhookEndpointView {
        id: e.id,
        url: e.url.clone(),
        event_types: e.types().map(str::to_string).collect(),
        description: e.description.clone(),
        enabled: e.enabled,
        disabled_reason: e.disabled_reason.clone(),
        failing_since: e.failing_since,
        previous_secret_expires_at: e.previous_secret_expires_at.filter(|t| *t > Utc::now()),
        created_by: e.created_by.clone(),
        created_at: e.created_at,
        updated_at: e.updated_at,
        version: e.version,
    }
}

/// The view of a stored endpoint with its secret (when created or rotated).
pub(super) fn with_secret(e: Endpoint) -> WebhookEndpointWithSecret {
    WebhookEndpointWithSecret {
        endpoint: endpoint(&e),
        secret: e.secret,
    }
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DeliveryAttemptDto)]
pub struct DeliveryAttemptView {
    pub attempted_at: DateTime<Utc>,
    /// The receiver's status code; null when no answer came (see `error`).
    pub response_status: Option<i32>,
    pub duration_ms: i32,
    /// The first 1 KiB of the response body.
    pub response_body: Option<String>,
    /// Why no answer came (timeout, connection refused, a private address, ...).
    pub error: Option<String>,
}

/// The delivery of one event to one endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookDeliveryDto)]
pub struct WebhookDeliveryView {
    pub id: Uuid,
    /// The event's id, sent as `webhook-id` on every attempt.
    pub event_id: String,
    pub event_type: String,
    /// `pending` (an attempt is due or scheduled), `succeeded` or `failed`.
    #[schema(example = "pending")]
    pub status: String,
    pub attempt_count: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub attempts: Vec<DeliveryAttemptView>,
}

/// The view of a stored delivery with its attempts.
pub(super) fn delivery(d: Delivery, attempts: Vec<Attempt>) -> WebhookDeliveryView {
    WebhookDeliveryView {
        id: d.id,
        event_id: event::public_id(d.event_id),
        event_type: d.event_type,
        status: d.status,
        attempt_count: d.attempts,
        next_attempt_at: d.next_attempt_at,
        created_at: d.created_at,
        attempts: attempts.into_iter().map(attempt).collect(),
    }
}

fn attempt(a: Attempt) -> DeliveryAttemptView {
    DeliveryAttemptView {
        attempted_at: a.attempted_at,
        response_status: a.response_status,
        duration_ms: a.duration_ms,
        response_body: a.response_body,
        error: a.error,
    }
}
