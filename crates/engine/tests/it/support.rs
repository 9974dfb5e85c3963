//! What the dispatcher tests share: a workspace with an author, channels
//! sealed with a test key, posts, and a loopback network that speaks
//! Mastodon's and WordPress's publishing wire formats and records every
//! call it gets (without de-duplicating anything, so a second publish
//! shows).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use dialoog_engine::dispatcher::DispatcherConfig;
use dialoog_engine::{Cipher, Credentials};
use dialoog_store::{NewOwner, NewPost, NewTarget, Store, Target};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The cipher every test seals credentials with.
pub fn cipher() -> Cipher {
    Cipher::new([7; 32])
}

/// A dispatcher that runs tests quickly.
pub fn config() -> DispatcherConfig {
    DispatcherConfig {
        tick: Duration::from_millis(20),
        ..DispatcherConfig::default()
    }
}

/// The lease of [`config`], in ms.
pub fn lease_ms() -> i64 {
    i64::try_from(config().lease.as_millis()).unwrap()
}

/// The time now (UTC ms).
pub fn now() -> i64 {
    dialoog_engine::dispatcher::now_ms()
}

/// A set-up store: one workspace, its owner.
pub struct World {
    /// The store.
    pub store: Store,
    /// The workspace.
    pub ws: i64,
    /// The owner, author of the posts.
    pub author: i64,
}

impl World {
    /// Sets up `store`.
    pub async fn new(store: Store) -> Self {
        let (user, ws) = store
            .setup(
                &NewOwner {
                    organisation: "Bakkerij De Vries",
                    name: "Eva",
                    email: "eva@bakkerij.example",
                    password_hash: "x",
                    locale: "nl",
                    timezone: "Europe/Amsterdam",
                },
                now(),
            )
            .await
            .unwrap();
        Self {
            store,
            ws: ws.id,
            author: user.id,
        }
    }

    /// Connects a channel with these credentials.
    pub async fn channel(&self, creds: &Credentials, name: &str) -> i64 {
        let sealed = cipher().seal(&serde_json::to_vec(creds).unwrap()).unwrap();
        self.store
            .create_channel(self.ws, creds.network(), name, &sealed, now())
            .await
            .unwrap()
            .id
    }

    /// A post to `channels`, due at `at` (`None`: now).
    pub async fn post(&self, text: &str, channels: &[i64], at: Option<i64>) -> i64 {
        let mut targets = vec![];
        for (n, id) in channels.iter().enumerate() {
            let ch = self.store.channel(self.ws, *id).await.unwrap();
            targets.push(NewTarget {
                channel_id: *id,
                network: ch.network,
                channel_name: ch.name,
                text: None,
                idempotency_key: format!("key-{text}-{n}-{}", now()),
            });
        }
        let (p, _) = self
            .store
            .create_post(
                &NewPost {
                    workspace_id: self.ws,
                    author_id: Some(self.author),
                    text: text.to_owned(),
                    scheduled_at: at,
                    state: "scheduled".into(),
                    targets,
                },
                now(),
            )
            .await
            .unwrap();
        p.id
    }

    /// A post's targets.
    pub async fn targets(&self, post: i64) -> Vec<Target> {
        self.store.post(self.ws, post).await.unwrap().1
    }
}

/// What the loopback network does with the next publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Publishes.
    Accept,
    /// Answers with this status (and `Retry-After: 120` on 429 and 503).
    Status(u16),
    /// Takes the post and never answers (until the test ends).
    Hang,
}

/// One call the network received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The `Idempotency-Key` header, where one was sent.
    pub key: Option<String>,
    /// The post's text (Mastodon's `status`, WordPress's title).
    pub text: String,
}

#[derive(Default)]
struct Shared {
    calls: Vec<Call>,
    mode: Option<Mode>,
}

/// A loopback network speaking Mastodon (`/api/v1/statuses`) and
/// WordPress (`?rest_route=/wp/v2/posts`).
#[derive(Clone)]
pub struct FakeNetwork {
    /// Its address.
    pub url: String,
    shared: Arc<Mutex<Shared>>,
}

impl FakeNetwork {
    /// Starts one on a free port.
    pub async fn start() -> Self {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let app = axum::Router::new()
            .route("/api/v1/statuses", post(mastodon))
            .route("/", post(wordpress))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, shared }
    }

    /// Sets what the next publishes get.
    pub fn set(&self, mode: Mode) {
        self.shared.lock().unwrap().mode = Some(mode);
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().unwrap().calls.clone()
    }

    /// Waits until `n` calls have arrived.
    pub async fn wait_for(&self, n: usize) {
        for _ in 0..500 {
            if self.calls().len() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the network got {} calls, not {n}", self.calls().len());
    }

    /// Mastodon credentials for an account on it.
    pub fn mastodon(&self) -> Credentials {
        Credentials::Mastodon {
            instance_url: self.url.clone(),
            access_token: "token".into(),
        }
    }

    /// WordPress credentials for a site on it.
    pub fn wordpress(&self) -> Credentials {
        Credentials::WordPress {
            site_url: self.url.clone(),
            username: "eva".into(),
            app_password: "abcd efgh".into(),
        }
    }
}

async fn record(shared: &Mutex<Shared>, call: Call) -> Result<usize, Response> {
    let (n, mode) = {
        let mut s = shared.lock().unwrap();
        s.calls.push(call);
        (s.calls.len(), s.mode.unwrap_or(Mode::Accept))
    };
    match mode {
        Mode::Accept => Ok(n),
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(n)
        }
        Mode::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap();
            let mut headers = HeaderMap::new();
            if code == 429 || code == 503 {
                headers.insert("retry-after", "120".parse().unwrap());
            }
            Err((
                status,
                headers,
                axum::Json(json!({"error": "Nee, vandaag niet"})),
            )
                .into_response())
        }
    }
}

async fn mastodon(
    State(shared): State<Arc<Mutex<Shared>>>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let call = Call {
        key: headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        text: body["status"].as_str().unwrap_or_default().to_owned(),
    };
    match record(&shared, call).await {
        Ok(n) => axum::Json(json!({
            "id": n.to_string(),
            "url": format!("https://social.example/@bakkerij/{n}"),
            "content": body["status"],
            "account": {"id": "1", "acct": "bakkerij"},
        }))
        .into_response(),
        Err(r) => r,
    }
}

async fn wordpress(
    State(shared): State<Arc<Mutex<Shared>>>,
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
        key: None,
        text: body["title"].as_str().unwrap_or_default().to_owned(),
    };
    match record(&shared, call).await {
        Ok(n) => (
            StatusCode::CREATED,
            axum::Json(json!({"id": n, "link": format!("https://blog.example/?p={n}")})),
        )
            .into_response(),
        Err(r) => r,
    }
}
