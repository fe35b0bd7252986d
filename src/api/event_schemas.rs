//! The event catalogue in the OpenAPI document: a schema for every event type (its data typed:
//! ids, `object` as the resource's DTO, `changed_fields` as an enumeration of the resource's
//! field names, `previous` with each field's own schema), `Event` as their `oneOf` with a
//! discriminator on `type`, and the `webhooks` section (one entry a type, its body that
//! schema). Written from the DTO schemas already in the document, so a field added to a view is
//! in its events' schemas without anyone writing it twice.

use serde_json::{json, Map, Value};

use crate::domain::event::{EventType, Lifecycle, Resource, Shape};
use crate::domain::texts;
use crate::service::events::BOOKKEEPING;

fn dto(r: Resource) -> &'static str {
    match r {
        Resource::Account => "AccountDto",
        Resource::Contact => "ContactDto",
        Resource::Opportunity => "OpportunityDto",
        Resource::SurveyRecord => "SurveyRecordDto",
        Resource::Activity => "ActivityDto",
    }
}

/// The ids an event of `r` carries (required first, then those a resource may lack).
fn ids(r: Resource) -> (&'static [&'static str], &'static [&'static str]) {
    match r {
        Resource::Account => (&["id"], &[]),
        Resource::Contact | Resource::Opportunity => (&["id", "account_id"], &[]),
        Resource::SurveyRecord | Resource::Activity => (&["id", "account_id"], &["opportunity_id"]),
    }
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn uuid() -> Value {
    json!({"type": "string", "format": "uuid"})
}

/// The fields an `updated` event of `r` may name, each with its schema: the DTO's members but
/// bookkeeping; a survey record's `sections` member by member (`sections.inventory`).
fn changeable(schemas: &Map<String, Value>, r: Resource) -> Vec<(String, Value)> {
    let props = |name: &str| -> Vec<(String, Value)> {
        schemas
            .get(name)
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for (name, schema) in props(dto(r)) {
        if BOOKKEEPING.contains(&name.as_str()) {
            continue;
        }
        if r == Resource::SurveyRecord && name == "sections" {
            out.extend(
                props("Sections")
                    .into_iter()
                    .map(|(k, v)| (format!("sections.{k}"), v)),
            );
        } else {
            out.push((name, schema));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The members of a `data` schema, in the making.
#[derive(Default)]
struct Data {
    props: Map<String, Value>,
    required: Vec<String>,
}

impl Data {
    /// A member that is always there.
    fn req(mut self, name: &str, schema: Value) -> Self {
        self.required.push(name.to_string());
        self.opt(name, schema)
    }

    /// A member that may be absent.
    fn opt(mut self, name: &str, schema: Value) -> Self {
        self.props.insert(name.to_string(), schema);
        self
    }

    fn build(self) -> Value {
        json!({"type": "object", "properties": self.props, "required": self.required,
               "additionalProperties": false})
    }
}

fn actor() -> Value {
    json!({"type": "string", "description": "Who made the change (the token's `sub`)."})
}

fn version() -> Value {
    json!({"type": "integer", "format": "int32", "description": "The version after the change."})
}

/// The schema of a type's `data`.
fn data_schema(schemas: &Map<String, Value>, t: EventType) -> Value {
    match t.shape() {
        Shape::Lifecycle(r, l) => lifecycle_data(schemas, r, l),
        Shape::StageChanged => Data::default()
            .req("id", uuid())
            .req("account_id", uuid())
            .req("version", version())
            .req("actor", actor())
            .req("previous_stage", schema_ref("StageCode"))
            .req("current_stage", schema_ref("StageCode"))
            .req("reason", json!({"type": ["string", "null"]}))
            .req(
                "assessment_id",
                json!({"type": ["string", "null"], "format": "uuid"}),
            )
            .req("changed_by", json!({"type": "string"}))
            .req("object", schema_ref("OpportunityDto"))
            .build(),
        Shape::AssessmentCreated => Data::default()
            .req("id", uuid())
            .req("opportunity_id", uuid())
            .req("account_id", uuid())
            .req("stage", schema_ref("StageCode"))
            .req("from_stage", schema_ref("StageCode"))
            .req("ready_to_advance", json!({"type": "boolean"}))
            .req(
                "risk_codes",
                json!({"type": "array", "items": schema_ref("RiskCode")}),
            )
            .req("applied", json!({"type": "boolean"}))
            .req("basis", schema_ref("Basis"))
            .req("actor", actor())
            .req("object", schema_ref("AssessmentDto"))
            .build(),
        Shape::PlaybookUpdated => Data::default()
            .req("version", version())
            .req("stage_code", schema_ref("StageCode"))
            .req("actor", actor())
            .build(),
        Shape::WebhookTest => Data::default()
            .req("endpoint_id", uuid())
            .req("message", json!({"type": "string"}))
            .req("actor", actor())
            .build(),
    }
}

/// `<resource>.<lifecycle>`: ids, version, actor, object; what changed for `updated`.
fn lifecycle_data(schemas: &Map<String, Value>, r: Resource, l: Lifecycle) -> Value {
    let (needed, optional) = ids(r);
    let mut data = Data::default();
    for n in needed {
        data = data.req(n, uuid());
    }
    for n in optional {
        data = data.opt(n, uuid());
    }
    data = data
        .req("version", version())
        .req("actor", actor())
        .req("object", schema_ref(dto(r)));
    if l == Lifecycle::Updated {
        let fields = changeable(schemas, r);
        let names: Vec<&String> = fields.iter().map(|(n, _)| n).collect();
        data = data.req(
            "changed_fields",
            json!({"type": "array", "minItems": 1,
                   "items": {"type": "string", "enum": names},
                   "description": "The API names of the fields the change set, sorted."}),
        );
        let previous: Map<String, Value> = fields.into_iter().collect();
        data = data.req(
            "previous",
            json!({"type": "object", "properties": previous, "additionalProperties": false,
                   "description": "The changed fields' values before the change."}),
        );
    }
    data.build()
}

/// The schema of a whole event of type `t` (the envelope with its typed data).
fn event_schema(schemas: &Map<String, Value>, t: EventType) -> Value {
    let text = texts::event_type(t);
    json!({
        "type": "object",
        "description": format!("{} / {}", text.en, text.zh),
        "required": ["id", "type", "timestamp", "data"],
        "properties": {
            "id": {"type": "string", "pattern": "^evt_[0-9a-f-]{36}$",
                   "description": "`evt_` and a UUID v7; the `webhook-id` of its deliveries."},
            "type": {"type": "string", "enum": [t.as_str()]},
            "timestamp": {"type": "string", "format": "date-time",
                          "description": "When the change was committed, to the microsecond."},
            "data": data_schema(schemas, t),
        },
        "additionalProperties": false,
    })
}

/// The catalogue from the document's schemas (as JSON): the schemas to add or replace (every
/// event type's, `Event`, and `EventPage` listing `Event`s), the schemas to drop, and the
/// `webhooks` section.
pub struct Catalogue {
    pub schemas: Map<String, Value>,
    pub dropped: Vec<&'static str>,
    pub webhooks: Map<String, Value>,
}

pub fn catalogue(schemas: &Map<String, Value>) -> Catalogue {
    let mut new = Map::new();
    let mut one_of = Vec::new();
    let mut mapping = Map::new();
    let mut hooks = Map::new();
    for t in EventType::all() {
        let name = t.schema_name();
        new.insert(name.clone(), event_schema(schemas, t));
        if t != EventType::WEBHOOK_TEST {
            one_of.push(schema_ref(&name));
            mapping.insert(
                t.as_str().into(),
                Value::from(format!("#/components/schemas/{name}")),
            );
        }
        hooks.insert(t.as_str().into(), webhook(t, &name));
    }
    new.insert(
        "Event".into(),
        json!({
            "description": "An event of the log: one of the event types, told apart by `type`.",
            "oneOf": one_of,
            "discriminator": {"propertyName": "type", "mapping": mapping},
        }),
    );
    if let Some(mut page) = schemas.get("EventPage").cloned() {
        if let Some(items) = page.pointer_mut("/properties/items") {
            *items = json!({"type": "array", "items": schema_ref("Event")});
        }
        new.insert("EventPage".into(), page);
    }
    Catalogue {
        schemas: new,
        dropped: vec!["EventDto"],
        webhooks: hooks,
    }
}

/// The `webhooks` entry of type `t`, whose body is the schema `name`.
fn webhook(t: EventType, name: &str) -> Value {
    let text = texts::event_type(t);
    json!({"post": {
        "operationId": format!("on_{}", t.as_str().replace('.', "_")),
        "summary": text.en,
        "description": format!("{}\n\n{}\n\nSigned as Standard Webhooks: verify `webhook-signature` over `webhook-id`, `webhook-timestamp` and the body; deduplicate on `webhook-id`.", text.en, text.zh),
        "tags": ["events"],
        "requestBody": {"required": true, "content": {"application/json": {"schema": schema_ref(name)}}},
        "responses": {"2XX": {"description": "Any 2xx acknowledges the delivery; 410 disables the endpoint; others are retried."}},
    }})
}

/// The survey diff typed section by section: `SectionDiff` is the `oneOf` of one schema a
/// section (told apart by `section`), whose added, removed and changed items have the
/// section's own item schema (a list section) or its value's (a single-value section).
pub fn section_diffs(schemas: &Map<String, Value>) -> Catalogue {
    let sections = schemas
        .get("Sections")
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut new = Map::new();
    let mut one_of = Vec::new();
    let mut mapping = Map::new();
    for (section, schema) in sections {
        let (item, listed) = match schema.get("items") {
            Some(item) => (item.clone(), true),
            None => (schema.clone(), false),
        };
        // A single-value section's schema already allows null (it may be absent on one side).
        let either = item.clone();
        let name = format!("{}SectionDiff", camel(&section));
        // A single-value section adds and removes no items: its lists stay empty.
        let items = if listed {
            json!({"type": "array", "items": item})
        } else {
            json!({"type": "array", "items": item, "maxItems": 0})
        };
        new.insert(name.clone(), json!({
            "type": "object",
            "description": format!("What changed in `{section}`."),
            "required": ["section", "added", "removed", "changed"],
            "properties": {
                "section": {"type": "string", "enum": [section]},
                "added": items.clone(),
                "removed": items,
                "changed": {"type": "array", "items": {
                    "type": "object",
                    "required": ["key", "before", "after"],
                    "properties": {
                        "key": {"type": "string", "description": "The matching key (`server|Huawei|RH2288` for inventory items; the section's name for a single-value section)."},
                        "before": either.clone(),
                        "after": either,
                    },
                    "additionalProperties": false,
                }},
            },
            "additionalProperties": false,
        }));
        one_of.push(schema_ref(&name));
        mapping.insert(section, Value::from(format!("#/components/schemas/{name}")));
    }
    new.insert(
        "SectionDiff".into(),
        json!({
            "description": "What changed in one section between a base record and this one.",
            "oneOf": one_of,
            "discriminator": {"propertyName": "section", "mapping": mapping},
        }),
    );
    Catalogue {
        schemas: new,
        dropped: vec!["Change"],
        webhooks: Map::new(),
    }
}

fn camel(s: &str) -> String {
    s.split('_')
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}
