//! `events.data`: the `data` member of a published event, kept exactly as published.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{read, unknown_version, version_of, write, DecodeError};

pub const VERSION: u32 = 1;
const WHAT: &str = "data of event";

#[derive(Debug, Serialize, Deserialize)]
struct EventDataV1 {
    schema_version: u32,
    data: Map<String, Value>,
}

pub fn read_data(
    doc: Value,
    id: impl std::fmt::Display,
) -> Result<Map<String, Value>, DecodeError> {
    let v = version_of(&doc).map_err(|e| DecodeError::new(WHAT, &id, e))?;
    if v != VERSION {
        return Err(unknown_version(WHAT, id, v));
    }
    let d: EventDataV1 = read(doc, WHAT, id)?;
    Ok(d.data)
}

pub fn write_data(data: Map<String, Value>) -> serde_json::Result<Value> {
    write(&EventDataV1 {
        schema_version: VERSION,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_newer_versions() {
        let mut m = Map::new();
        m.insert("id".into(), Value::from("x"));
        let doc = write_data(m.clone()).unwrap();
        assert_eq!(read_data(doc, 1).unwrap(), m);
        assert!(read_data(serde_json::json!({"schema_version": 2, "data": {}}), 1).is_err());
        assert!(read_data(serde_json::json!({"schema_version": 1}), 1).is_err());
    }
}
