//! A webhook receiver on loopback that records what it gets and answers from a script, and the
//! one delivery worker of this test binary (on its own thread, so it outlives every test).

use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse, HttpServer};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    /// Verifies the signature with the Standard Webhooks reference library.
    pub fn verify(&self, secret: &str) -> Result<(), String> {
        standardwebhooks::Webhook::new(secret)
            .map_err(|e| e.to_string())?
            .verify(self.body.as_bytes(), &self.headers)
            .map_err(|e| e.to_string())
    }
}

/// An answer: status and extra headers.
pub type Answer = (u16, Vec<(&'static str, &'static str)>);

#[derive(Clone, Default)]
struct Shared {
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<Answer>>>,
}

pub struct Receiver {
    pub url: String,
    shared: Shared,
}

async fn handle(req: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let mut headers = reqwest::header::HeaderMap::new();
    for (k, v) in req.headers() {
        if let (Ok(k), Ok(v)) = (
            reqwest::header::HeaderName::from_bytes(k.as_str().as_bytes()),
            reqwest::header::HeaderValue::from_bytes(v.as_bytes()),
        ) {
            headers.append(k, v);
        }
    }
    shared.received.lock().unwrap().push(Received {
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let (status, extra) = shared
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or((200, vec![]));
    let mut b = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    for (k, v) in extra {
        b.insert_header((k, v));
    }
    b.body(format!("receiver answered {status}"))
}

impl Receiver {
    /// Starts a receiver answering 200 unless scripted otherwise.
    pub async fn start() -> Receiver {
        let shared = Shared::default();
        let data = web::Data::new(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            actix_web::App::new()
                .app_data(data.clone())
                .default_service(web::to(handle))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            shared,
        }
    }

    /// The next answers, in order (then 200).
    pub fn script(&self, answers: Vec<Answer>) {
        self.shared.script.lock().unwrap().extend(answers);
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Waits until `n` requests arrived (or fails after `secs`).
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "expected {n} webhook requests within {secs} s, got {}: {got:?}",
                got.len()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

static WORKER: OnceLock<()> = OnceLock::new();

/// Starts the test binary's delivery worker once (private addresses allowed).
pub fn start_worker() {
    WORKER.get_or_init(|| {
        let url = crate::common::database_url();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let settings = buyerpath::db::PoolSettings {
                    max_size: 4,
                    wait_timeout: Duration::from_secs(3),
                    statement_timeout: Duration::from_secs(5),
                };
                let pool = buyerpath::db::build_pool(&url, &settings).unwrap();
                let metrics =
                    buyerpath::worker::WebhookMetrics::register(&prometheus::Registry::new())
                        .unwrap();
                let (_keep, stop) = tokio::sync::watch::channel(false);
                buyerpath::worker::run(
                    pool,
                    buyerpath::worker::Settings {
                        allow_private: true,
                        retention: Duration::from_secs(30 * 86_400),
                    },
                    metrics,
                    stop,
                )
                .await;
            });
        });
    });
}
