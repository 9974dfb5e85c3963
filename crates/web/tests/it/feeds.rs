//! A loopback feed server reproducing what real feeds send: RSS, Atom or
//! JSON Feed bodies, ETag and conditional GET, and the failures a test asks
//! for (a status, garbage).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct Served {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

#[derive(Clone)]
pub struct FeedServer {
    pub url: String,
    served: Arc<Mutex<Served>>,
    pub hits: Arc<Mutex<Vec<Option<String>>>>,
}

pub fn rss(items: &[(&str, &str, &str)]) -> String {
    let items: String = items
        .iter()
        .map(|(id, title, body)| format!("<item><guid>{id}</guid><title>{title}</title><link>https://bakkerij.example/{id}</link><description><![CDATA[{body}]]></description><pubDate>Tue, 24 Nov 2026 10:00:00 +0100</pubDate><author>klant@example.nl (Klant)</author></item>"))
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Reviews Bakkerij De Vries</title><link>https://bakkerij.example</link><description>d</description>{items}</channel></rss>"
    )
}

async fn serve(State(s): State<FeedServer>, headers: HeaderMap) -> Response {
    let sent = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    s.hits.lock().unwrap().push(sent.clone());
    let served = s.served.lock().unwrap().clone();
    let etag = format!("\"{}\"", served.body.len());
    if served.status == 200 && sent.as_deref() == Some(etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let status = StatusCode::from_u16(served.status).unwrap();
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, served.content_type)],
        served.body,
    )
        .into_response();
    if status == StatusCode::OK {
        resp.headers_mut()
            .insert(header::ETAG, etag.parse().unwrap());
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, "120".parse().unwrap());
    }
    resp
}

impl FeedServer {
    pub async fn start(body: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/feed.xml", listener.local_addr().unwrap());
        let s = FeedServer {
            url,
            served: Arc::new(Mutex::new(Served {
                status: 200,
                content_type: "application/rss+xml",
                body,
            })),
            hits: Arc::default(),
        };
        let app = axum::Router::new()
            .route("/feed.xml", axum::routing::get(serve))
            // Enough of a Bluesky service to sign in, as a new account each time.
            .route(
                "/xrpc/com.atproto.server.createSession",
                axum::routing::post({
                    let n = Arc::new(std::sync::atomic::AtomicUsize::new(0));
                    move || {
                        let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        async move {
                            axum::Json(serde_json::json!({"accessJwt": "a", "refreshJwt": "r", "did": format!("did:plc:test{i}"), "handle": format!("account{i}.test")}))
                        }
                    }
                }),
            )
            // Enough of a WordPress site to sign in, as a new site each time.
            .route(
                "/",
                axum::routing::get({
                    let n = Arc::new(std::sync::atomic::AtomicUsize::new(0));
                    move || {
                        let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        async move { axum::Json(serde_json::json!({"id": 1, "name": format!("Blog {i}")})) }
                    }
                }),
            )
            // Enough of a Mastodon instance to register an application.
            .route(
                "/api/v1/apps",
                axum::routing::post(|| async {
                    axum::Json(serde_json::json!({"client_id": "c1", "client_secret": "s1"}))
                }),
            )
            .with_state(s.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        s
    }

    pub fn set(&self, status: u16, content_type: &'static str, body: String) {
        *self.served.lock().unwrap() = Served {
            status,
            content_type,
            body,
        };
    }
}
