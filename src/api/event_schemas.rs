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

/// The schema of a type's `data`.
fn data_schema(schemas: &Map<String, Value>, t: EventType) -> Value {
    let mut props = Map::new();
    let mut required: Vec<&str> = Vec::new();
    let mut id = |props: &mut Map<String, Value>, name: &'static str, needed: bool| {
        props.insert(name.into(), uuid());
        if needed {
            required.push(name);
        }
    };
    let version = json!({"type": "integer", "format": "int32", "description": "The resource's version after the change."});
    let actor =
        json!({"type": "string", "description": "Who made the change (the token's `sub`)."});
    match t.shape() {
        Shape::Lifecycle(r, l) => {
            let (needed, optional) = ids(r);
            needed.iter().for_each(|n| id(&mut props, n, true));
            optional.iter().for_each(|n| id(&mut props, n, false));
            props.insert("version".into(), version);
            props.insert("actor".into(), actor);
            props.insert("object".into(), schema_ref(dto(r)));
            required.extend(["version", "actor", "object"]);
            if l == Lifecycle::Updated {
                let fields = changeable(schemas, r);
                let names: Vec<&String> = fields.iter().map(|(n, _)| n).collect();
                props.insert(
                    "changed_fields".into(),
                    json!({"type": "array", "minItems": 1,
                           "items": {"type": "string", "enum": names},
                           "description": "The API names of the fields the change set, sorted."}),
                );
                let previous: Map<String, Value> = fields.into_iter().collect();
                props.insert(
                    "previous".into(),
                    json!({"type": "object", "properties": previous, "additionalProperties": false,
                           "description": "The changed fields' values before the change."}),
                );
                required.extend(["changed_fields", "previous"]);
            }
        }
        Shape::StageChanged => {
            id(&mut props, "id", true);
            id(&mut props, "account_id", true);
            props.insert("version".into(), version);
            props.insert("actor".into(), actor);
            props.insert("previous_stage".into(), schema_ref("StageCode"));
            props.insert("current_stage".into(), schema_ref("StageCode"));
            props.insert("reason".into(), json!({"type": ["string", "null"]}));
            props.insert(
                "assessment_id".into(),
                json!({"type": ["string", "null"], "format": "uuid"}),
            );
            props.insert("changed_by".into(), json!({"type": "string"}));
            props.insert("object".into(), schema_ref("OpportunityDto"));
            required.extend([
                "version",
                "actor",
                "previous_stage",
                "current_stage",
                "reason",
                "assessment_id",
                "changed_by",
                "object",
            ]);
        }
        Shape::AssessmentCreated => {
            id(&mut props, "id", true);
            id(&mut props, "opportunity_id", true);
            id(&mut props, "account_id", true);
            props.insert("stage".into(), schema_ref("StageCode"));
            props.insert("from_stage".into(), schema_ref("StageCode"));
            props.insert("ready_to_advance".into(), json!({"type": "boolean"}));
            props.insert(
                "risk_codes".into(),
                json!({"type": "array", "items": schema_ref("RiskCode")}),
            );
            props.insert("applied".into(), json!({"type": "boolean"}));
            props.insert("basis".into(), schema_ref("Basis"));
            props.insert("actor".into(), actor);
            props.insert("object".into(), schema_ref("AssessmentDto"));
            required.extend([
                "stage",
                "from_stage",
                "ready_to_advance",
                "risk_codes",
                "applied",
                "basis",
                "actor",
                "object",
            ]);
        }
        Shape::PlaybookUpdated => {
            props.insert("version".into(), json!({"type": "integer", "format": "int32", "description": "The playbook's new version."}));
            props.insert("stage_code".into(), schema_ref("StageCode"));
            props.insert("actor".into(), actor);
            required.extend(["version", "stage_code", "actor"]);
        }
        Shape::WebhookTest => {
            id(&mut props, "endpoint_id", true);
            props.insert("message".into(), json!({"type": "string"}));
            props.insert("actor".into(), actor);
            required.extend(["message", "actor"]);
        }
    }
    json!({"type": "object", "properties": props, "required": required,
           "additionalProperties": false})
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
