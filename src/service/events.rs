//! The event log: every write appends its events in its own transaction (so an event exists
//! exactly when its change does), and `GET /v1/events` reads them back.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::db::documents::event as doc;
use crate::db::events::{self as q, NewEvent, Position};
use crate::domain::event::{EventType, Lifecycle, Resource, TypeFilter};
use crate::domain::ids::TenantId;
use crate::error::{ApiError, ApiResult};
use crate::service::{Conn, Principal};

/// A resource whose lifecycle is published.
pub trait Published: Sync {
    const RESOURCE: Resource;
    /// The representation GET returns: an event's `data.object`.
    type View: Serialize + Send;
    /// The resource's ids: `id` and the ids of its parents.
    fn ids(&self) -> Map<String, Value>;
    fn current_version(&self) -> i32;
    /// The resource as GET returns it, read in the caller's transaction.
    fn view_in(
        &self,
        conn: &mut Conn,
        tenant: TenantId,
    ) -> impl std::future::Future<Output = ApiResult<Self::View>> + Send;
}

/// An id member of a resource: a parent id that may be absent, or one that is always there.
pub trait IdOf {
    fn id_of(&self) -> Option<Uuid>;
}

impl IdOf for Uuid {
    fn id_of(&self) -> Option<Uuid> {
        Some(*self)
    }
}

impl IdOf for Option<Uuid> {
    fn id_of(&self) -> Option<Uuid> {
        *self
    }
}

/// `Published` for a row with a `version` column:
/// `published!(Row, Resource, View, view_in, "id" => id, ...)` where `view_in(conn, tenant,
/// row)` is the resource as GET returns it (an absent optional id is left out of the event's
/// data).
macro_rules! published {
    ($row:ty, $res:ident, $view:ty, $view_in:path, $($key:literal => $field:ident),+ $(,)?) => {
        impl $crate::service::events::Published for $row {
            const RESOURCE: $crate::domain::event::Resource =
                $crate::domain::event::Resource::$res;
            type View = $view;
            async fn view_in(
                &self,
                conn: &mut $crate::service::Conn,
                tenant: $crate::domain::ids::TenantId,
            ) -> $crate::error::ApiResult<$view> {
                $view_in(conn, tenant, self.clone()).await
            }
            fn ids(&self) -> serde_json::Map<String, serde_json::Value> {
                use $crate::service::events::IdOf;
                $crate::service::events::ids(&[$(($key, self.$field.id_of())),+])
            }
            fn current_version(&self) -> i32 {
                self.version
            }
        }
    };
}
pub(crate) use published;

/// An event read from the log.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: Uuid,
    pub event_type: String,
    pub timestamp: DateTime<Utc>,
    pub data: Map<String, Value>,
    pub position: Position,
}

/// An event as the log publishes it: the items of `GET /v1/events` and, byte for byte, the
/// body of a webhook delivery (the envelope of the Standard Webhooks specification,
/// `{type, timestamp, data}`, with the event's `id`, which is also the delivery's
/// `webhook-id`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = EventDto)]
pub struct EventView {
    /// `evt_` and a UUID v7; the `webhook-id` of its deliveries.
    #[schema(example = "evt_019384b2-6f1e-7c3a-9d2b-3c4d5e6f7a8b")]
    pub id: String,
    /// One of the event types, e.g. `opportunity.stage_changed`.
    #[serde(rename = "type")]
    #[schema(example = "opportunity.stage_changed")]
    pub event_type: String,
    /// When the change was committed (its transaction's time), to the microsecond.
    #[serde(serialize_with = "micros")]
    pub timestamp: DateTime<Utc>,
    /// The resource's ids, its new `version`, the `actor`; `changed_fields` for `*.updated`;
    /// `previous_stage`, `current_stage`, `reason`, `assessment_id` and `changed_by` for
    /// `opportunity.stage_changed`; `stage`, `ready_to_advance` and `risk_codes` for
    /// `stage_assessment.created`; `version` for `playbook.updated`.
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
}

fn micros<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

impl EventView {
    pub fn new(
        id: Uuid,
        event_type: &str,
        timestamp: DateTime<Utc>,
        data: Map<String, Value>,
    ) -> Self {
        EventView {
            id: crate::domain::event::public_id(id),
            event_type: event_type.to_string(),
            timestamp,
            data,
        }
    }

    /// The body of a webhook delivery of this event.
    pub fn body(&self) -> ApiResult<String> {
        serde_json::to_string(self).map_err(ApiError::internal)
    }
}

impl Event {
    /// The event as published.
    pub fn view(&self) -> EventView {
        EventView::new(self.id, &self.event_type, self.timestamp, self.data.clone())
    }
}

/// Appends one event in the caller's transaction (a shared connection: it can be pipelined
/// with the transaction's last write).
pub async fn emit(
    conn: &Conn,
    tenant: TenantId,
    event_type: EventType,
    data: Map<String, Value>,
) -> ApiResult<()> {
    let new = new_event(tenant, event_type, data)?;
    Ok(q::append(conn, tenant, vec![new]).await?)
}

/// The stored form of an event, for a write that appends it itself (`db::events::with_event`).
pub fn new_event(
    tenant: TenantId,
    event_type: EventType,
    data: Map<String, Value>,
) -> ApiResult<NewEvent> {
    Ok(NewEvent {
        id: Uuid::now_v7(),
        tenant_id: tenant.get(),
        event_type: event_type.as_str().to_string(),
        data: doc::write_data(data).map_err(ApiError::internal)?,
    })
}

/// The data every event of `row` carries: its ids, its new version and who acted.
pub fn data_of<R: Published>(who: &Principal, row: &R) -> Map<String, Value> {
    let mut m = row.ids();
    m.insert("version".into(), Value::from(row.current_version()));
    m.insert("actor".into(), Value::from(who.sub.clone()));
    m
}

/// `data_of` with the resource as GET returns it now (`object`).
pub async fn data_with_object<R: Published>(
    conn: &mut Conn,
    who: &Principal,
    row: &R,
) -> ApiResult<Map<String, Value>> {
    let mut data = data_of(who, row);
    let object = row.view_in(conn, who.tenant).await?;
    data.insert(
        "object".into(),
        serde_json::to_value(object).map_err(ApiError::internal)?,
    );
    Ok(data)
}

/// `<resource>.created|archived|restored`, in the caller's transaction.
pub async fn lifecycle<R: Published>(
    conn: &mut Conn,
    who: &Principal,
    row: &R,
    what: Lifecycle,
) -> ApiResult<()> {
    let data = data_with_object(conn, who, row).await?;
    emit(conn, who.tenant, EventType::of(R::RESOURCE, what), data).await
}

/// `lifecycle` of rows written together, each with its view as GET returns it (`object`): one
/// statement for all their events, in the order given.
pub async fn lifecycle_all<R: Published>(
    conn: &Conn,
    who: &Principal,
    rows: &[(R, R::View)],
    what: Lifecycle,
) -> ApiResult<()> {
    let new = rows
        .iter()
        .map(|(row, view)| {
            let mut data = data_of(who, row);
            let object = serde_json::to_value(view).map_err(ApiError::internal)?;
            data.insert("object".into(), object);
            new_event(who.tenant, EventType::of(R::RESOURCE, what), data)
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(q::append(conn, who.tenant, new).await?)
}

/// What changed in a write: the API names of the changed fields (sorted) and their former
/// values.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub fields: Vec<String>,
    pub previous: Map<String, Value>,
}

impl Changes {
    /// The changes of `fields`, their former values read from `before` (a view; a field
    /// `sections.x` is the member `x` of `sections`).
    pub fn of<V: Serialize>(before: &V, fields: Vec<String>) -> ApiResult<Changes> {
        let before = serde_json::to_value(before).map_err(ApiError::internal)?;
        let previous = fields
            .iter()
            .map(|f| {
                let pointer = format!("/{}", f.replace('.', "/"));
                let old = before.pointer(&pointer).cloned().unwrap_or(Value::Null);
                (f.clone(), old)
            })
            .collect();
        Ok(Changes { fields, previous })
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

/// `<resource>.updated` with the changed fields, their former values (`previous`) and the
/// resource as it is now (`object`); nothing when nothing changed.
pub async fn updated<R: Published>(
    conn: &mut Conn,
    who: &Principal,
    row: &R,
    changes: Changes,
) -> ApiResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut data = data_with_object(conn, who, row).await?;
    data.insert("changed_fields".into(), json!(changes.fields));
    data.insert("previous".into(), Value::Object(changes.previous));
    emit(
        conn,
        who.tenant,
        EventType::of(R::RESOURCE, Lifecycle::Updated),
        data,
    )
    .await
}

/// Members of a view that every write changes, that no write of its content sets, or that
/// follow from other members or other resources: never listed as changed fields.
pub const BOOKKEEPING: &[&str] = &[
    "id",
    "version",
    "created_at",
    "created_by",
    "updated_at",
    "archived_at",
    // Derived.
    "days_in_stage",
    "latest_survey",
    "completeness",
    "last_contacted_at",
    "activity_count",
];

/// The API names of the fields that differ between two views of the same resource (its
/// representation before and after a write), bookkeeping aside: a field added to the view is
/// listed without anyone having to remember it.
pub fn changed_fields<V: Serialize>(before: &V, after: &V) -> ApiResult<Vec<String>> {
    let before = serde_json::to_value(before).map_err(ApiError::internal)?;
    let after = serde_json::to_value(after).map_err(ApiError::internal)?;
    let mut v = members_changed(&before, &after, "");
    v.retain(|f| !BOOKKEEPING.contains(&f.as_str()));
    Ok(v)
}

/// The members of two stored JSON objects that differ (`schema_version` aside), as
/// `prefix` + member name.
pub fn members_changed(old: &Value, new: &Value, prefix: &str) -> Vec<String> {
    let empty = Map::new();
    let o = old.as_object().unwrap_or(&empty);
    let n = new.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = o.keys().chain(n.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| *k != "schema_version" && o.get(*k) != n.get(*k))
        .map(|k| format!("{prefix}{k}"))
        .collect()
}

/// A page of the tenant's log after `after`, filtered by `types` patterns.
pub async fn list(
    conn: &mut Conn,
    who: &Principal,
    types: &TypeFilter,
    after: Option<Position>,
    limit: i64,
) -> ApiResult<Vec<Event>> {
    let expanded = types.expand();
    let rows = q::list(
        conn,
        who.tenant,
        (!types.is_empty()).then_some(expanded.as_slice()),
        after,
        limit,
    )
    .await?;
    rows.into_iter().map(read).collect()
}

/// An event type, as `GET /v1/event-types` lists it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventTypeView {
    /// The type, e.g. `opportunity.stage_changed`.
    #[serde(rename = "type")]
    pub event_type: &'static str,
    /// What it means.
    pub description: Description,
    /// The name of its schema in the OpenAPI document, e.g. `OpportunityStageChangedEvent`.
    pub schema: String,
    /// Whether it is in the event log (`webhook.test` is sent to webhooks only).
    pub logged: bool,
}

/// A text in both languages.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Description {
    pub zh: String,
    pub en: String,
}

/// The event types.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventTypeList {
    pub items: Vec<EventTypeView>,
}

/// Every event type with its description and schema name.
pub fn types() -> EventTypeList {
    let items = EventType::all()
        .map(|t| {
            let text = crate::domain::texts::event_type(t);
            EventTypeView {
                event_type: t.as_str(),
                description: Description {
                    zh: text.zh,
                    en: text.en,
                },
                schema: t.schema_name(),
                logged: t != EventType::WEBHOOK_TEST,
            }
        })
        .collect();
    EventTypeList { items }
}

/// An event row as published.
pub fn read(row: q::EventRow) -> ApiResult<Event> {
    let position = row.position();
    let data = doc::read_data(row.data, row.id)?;
    Ok(Event {
        id: row.id,
        event_type: row.event_type,
        timestamp: row.occurred_at,
        data,
        position,
    })
}

/// `{"id": ..}` plus parent ids, for `Published::ids`.
pub fn ids(pairs: &[(&str, Option<Uuid>)]) -> Map<String, Value> {
    pairs
        .iter()
        .filter_map(|(k, v)| v.map(|v| ((*k).to_string(), Value::from(v.to_string()))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_changed_names_differing_members() {
        let old = json!({"schema_version": 1, "a": 1, "b": [1], "c": null});
        let new = json!({"schema_version": 2, "a": 1, "b": [2], "d": true});
        assert_eq!(
            members_changed(&old, &new, "sections."),
            vec!["sections.b", "sections.c", "sections.d"]
        );
    }

    #[test]
    fn envelope_has_id_type_timestamp_and_data() {
        let t = DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut m = Map::new();
        m.insert("id".into(), json!("x"));
        let id = Uuid::now_v7();
        let body = EventView::new(id, "account.created", t, m).body().unwrap();
        let e: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(e["id"], format!("evt_{id}"));
        assert_eq!(e["type"], "account.created");
        assert_eq!(e["timestamp"], "2026-11-27T10:00:00.000000Z");
        assert_eq!(e["data"]["id"], "x");
    }
}
