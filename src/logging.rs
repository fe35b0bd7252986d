//! The logger: env_logger's text lines, or one JSON object a line (`BUYERPATH_LOG_FORMAT=json`)
//! with `time`, `level`, `target`, `message` and the record's key-values (a request line adds
//! `request_id`, `tenant`, `method`, `route`, `status`, `latency_ms`, `client`, `trace_id`).

use std::io::Write;

use serde_json::{Map, Value};

use crate::config::LogFormat;

struct Fields<'a>(&'a mut Map<String, Value>);

impl<'kvs> log::kv::VisitSource<'kvs> for Fields<'_> {
    fn visit_pair(
        &mut self,
        key: log::kv::Key<'kvs>,
        value: log::kv::Value<'kvs>,
    ) -> Result<(), log::kv::Error> {
        let v = if let Some(n) = value.to_u64() {
            Value::from(n)
        } else if let Some(n) = value.to_i64() {
            Value::from(n)
        } else if let Some(b) = value.to_bool() {
            Value::from(b)
        } else {
            Value::from(value.to_string())
        };
        self.0.insert(key.as_str().to_string(), v);
        Ok(())
    }
}

/// One log record as a JSON object.
pub fn json_line(record: &log::Record<'_>) -> Value {
    let mut m = Map::new();
    m.insert(
        "time".into(),
        chrono::Utc::now()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            .into(),
    );
    m.insert("level".into(), record.level().as_str().into());
    m.insert("target".into(), record.target().into());
    m.insert("message".into(), record.args().to_string().into());
    // A key-value that cannot be visited is left out; the line itself is still written.
    let _ = record.key_values().visit(&mut Fields(&mut m));
    Value::Object(m)
}

/// Starts the logger (`RUST_LOG` filters, default `info`). The metrics middleware warns about
/// route patterns it cannot label (`/docs/{_:.*}`, some 405s) on ordinary requests: its
/// warnings are left out unless `RUST_LOG` names `actix_web_prom`.
pub fn init(format: LogFormat) {
    let mut b = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    if !std::env::var("RUST_LOG").is_ok_and(|v| v.contains("actix_web_prom")) {
        b.filter_module("actix_web_prom", log::LevelFilter::Error);
    }
    if format == LogFormat::Json {
        b.format(|buf, record| writeln!(buf, "{}", json_line(record)));
    }
    b.init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_with_key_values_is_one_json_object() {
        let kvs: [(&str, log::kv::Value); 3] = [
            ("status", log::kv::Value::from(201u64)),
            ("route", log::kv::Value::from("/v1/accounts")),
            ("ok", log::kv::Value::from(true)),
        ];
        let record = log::Record::builder()
            .level(log::Level::Info)
            .target("buyerpath::access")
            .args(format_args!("POST /v1/accounts 201"))
            .key_values(&kvs)
            .build();
        let v = json_line(&record);
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["target"], "buyerpath::access");
        assert_eq!(v["message"], "POST /v1/accounts 201");
        assert_eq!(v["status"], 201);
        assert_eq!(v["route"], "/v1/accounts");
        assert_eq!(v["ok"], true);
        assert!(v["time"].as_str().unwrap().ends_with('Z'));
        assert!(!v.to_string().contains('\n'));
    }
}
