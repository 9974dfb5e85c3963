//! A loopback network for the crash tests: a Mastodon-like publish
//! endpoint that honours `Idempotency-Key` (the same key gets the first
//! status back, never a second one) and a WordPress-like one that knows no
//! key (every call makes a new post). It records every request and can hold
//! its answers, so a process can be killed after the network took the post
//! but before the answer arrived.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// One request the network received.
#[derive(Debug, Clone)]
pub struct Call {
    /// `mastodon` or `wordpress`.
    pub network: &'static str,
    /// The `Idempotency-Key` header (Mastodon).
    pub key: Option<String>,
    /// The post's text (Mastodon's status, WordPress's title).
    pub text: String,
}

/// A post the network made (what a reader would see).
#[derive(Debug, Clone)]
pub struct Made {
    /// `mastodon` or `wordpress`.
    pub network: &'static str,
    /// Its id.
    pub id: String,
    /// Its text.
    pub text: String,
    /// The key it was made with (Mastodon).
    pub key: Option<String>,
}

#[derive(Default)]
struct Ledger {
    calls: Vec<Call>,
    made: Vec<Made>,
    by_key: HashMap<String, usize>,
    /// Longest random delay before answering, in ms.
    jitter_ms: u64,
    seed: u64,
}

/// The network; its server runs until the test ends.
#[derive(Clone)]
pub struct FakeNet {
    /// Its address.
    pub url: String,
    ledger: Arc<Mutex<Ledger>>,
    hold: Arc<watch::Sender<bool>>,
}

#[derive(Clone)]
struct Shared {
    ledger: Arc<Mutex<Ledger>>,
    hold: watch::Receiver<bool>,
}

impl FakeNet {
    /// Starts one on a free port.
    pub async fn start() -> Self {
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let (hold, rx) = watch::channel(false);
        let app = axum::Router::new()
            .route("/api/v1/statuses", post(mastodon))
            .route("/", post(wordpress))
            .with_state(Shared {
                ledger: ledger.clone(),
                hold: rx,
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url,
            ledger,
            hold: Arc::new(hold),
        }
    }

    /// Holds every answer (the post is taken, the answer waits) or lets
    /// them go.
    pub fn hold(&self, on: bool) {
        self.hold.send_replace(on);
    }

    /// Answers after a random delay of up to `ms`.
    pub fn jitter(&self, ms: u64, seed: u64) {
        let mut l = self.ledger.lock().unwrap();
        l.jitter_ms = ms;
        l.seed = seed;
    }

    /// Every request so far.
    pub fn calls(&self) -> Vec<Call> {
        self.ledger.lock().unwrap().calls.clone()
    }

    /// Every post the network made.
    pub fn made(&self) -> Vec<Made> {
        self.ledger.lock().unwrap().made.clone()
    }

    /// Waits until at least `n` requests arrived (at most 20 s).
    pub async fn wait_for_calls(&self, n: usize) {
        for _ in 0..2000 {
            if self.calls().len() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the network got {} requests, not {n}", self.calls().len());
    }
}

/// Records the call and makes the post (once per key where there is a
/// key); then waits as told. Returns the post's id.
async fn take(shared: &Shared, call: Call) -> (String, Duration) {
    let (id, delay) = {
        let mut l = shared.ledger.lock().unwrap();
        l.calls.push(call.clone());
        let known = call.key.as_ref().and_then(|k| l.by_key.get(k).copied());
        let index = known.unwrap_or_else(|| {
            let n = l.made.len();
            l.made.push(Made {
                network: call.network,
                id: (n + 1).to_string(),
                text: call.text.clone(),
                key: call.key.clone(),
            });
            if let Some(k) = &call.key {
                l.by_key.insert(k.clone(), n);
            }
            n
        });
        l.seed = l
            .seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let delay = if l.jitter_ms == 0 {
            0
        } else {
            (l.seed >> 33) % l.jitter_ms
        };
        (l.made[index].id.clone(), Duration::from_millis(delay))
    };
    let mut hold = shared.hold.clone();
    // A held answer waits until it is let go (or the caller is gone).
    let _ = tokio::time::timeout(Duration::from_secs(120), hold.wait_for(|h| !*h)).await;
    tokio::time::sleep(delay).await;
    (id, delay)
}

async fn mastodon(
    State(shared): State<Shared>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let call = Call {
        network: "mastodon",
        key: headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        text: body["status"].as_str().unwrap_or_default().to_owned(),
    };
    let (id, _) = take(&shared, call).await;
    axum::Json(json!({
        "id": id,
        "url": format!("https://social.example/@bakkerij/{id}"),
        "content": body["status"],
        "account": {"id": "1", "acct": "bakkerij"},
    }))
    .into_response()
}

async fn wordpress(
    State(shared): State<Shared>,
    Query(q): Query<Vec<(String, String)>>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if !q
        .iter()
        .any(|(k, v)| k == "rest_route" && v == "/wp/v2/posts")
    {
        return StatusCode::NOT_FOUND.into_response();
    }
    let call = Call {
        network: "wordpress",
        key: None,
        text: body["title"].as_str().unwrap_or_default().to_owned(),
    };
    let (id, _) = take(&shared, call).await;
    (
        StatusCode::CREATED,
        axum::Json(json!({"id": id.parse::<u64>().unwrap(), "link": format!("https://blog.example/?p={id}")})),
    )
        .into_response()
}
