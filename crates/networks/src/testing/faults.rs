//! A loopback proxy in front of a real server that answers some XRPC
//! methods badly on purpose: rate limits, server errors, answers lost after
//! the request did its work, and slow answers. Everything else passes
//! through unchanged.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does with a request, instead of answering as the server
/// did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answers `429 RateLimitExceeded` without forwarding, with the PDS's
    /// rate-limit headers (`ratelimit-remaining: 0` and `ratelimit-reset`,
    /// seconds since 1970) saying the budget comes back at this time (UTC
    /// seconds).
    RateLimited {
        /// When the budget resets (seconds since 1970).
        reset: i64,
    },
    /// Answers with this status and no body without forwarding, as a
    /// reverse proxy (Caddy, nginx) does when the server behind it is down
    /// or restarting.
    Status(u16),
    /// Answers with this status and an XRPC error body `{"error",
    /// "message"}` without forwarding, as the server itself does.
    Said(u16, &'static str, &'static str),
    /// Forwards the request and waits for the server's answer (so the
    /// server did the work), then never answers: the client times out.
    LoseAnswer,
    /// Forwards the request and waits for the server's answer, then sends
    /// its status and headers and breaks the connection in the middle of
    /// the body.
    CutAnswer,
    /// Waits this long, then forwards the request and its answer.
    Delay(Duration),
}

#[derive(Default)]
struct Shared {
    /// Faults still to happen, per method, in order.
    faults: HashMap<String, Vec<Fault>>,
    /// Requests seen, per method (faulty or not).
    seen: HashMap<String, usize>,
    /// Requests the server answered, per method.
    forwarded: HashMap<String, usize>,
}

/// A proxy on a free loopback port in front of `upstream`; stops when
/// dropped.
pub struct FaultProxy {
    /// Its address, `http://127.0.0.1:PORT`, to use instead of the server's.
    pub url: String,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct Ctx {
    upstream: String,
    http: reqwest::Client,
    shared: Arc<Mutex<Shared>>,
}

impl FaultProxy {
    /// Starts one in front of `upstream` (`http://HOST:PORT`).
    pub async fn start(upstream: &str) -> Self {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let ctx = Ctx {
            upstream: upstream.trim_end_matches('/').to_owned(),
            // No time-out of its own: it holds answers as long as asked.
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            shared: shared.clone(),
        };
        let app = axum::Router::new().fallback(handle).with_state(ctx);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, shared, task }
    }

    /// The next `times` requests to the XRPC method `method` (e.g.
    /// `com.atproto.repo.createRecord`) get `fault`, after any faults
    /// already waiting for that method.
    pub fn inject(&self, method: &str, fault: Fault, times: usize) {
        let mut s = self.shared.lock().unwrap();
        s.faults
            .entry(method.to_owned())
            .or_default()
            .extend(std::iter::repeat_n(fault, times));
    }

    /// Forgets the faults not yet used.
    pub fn clear(&self) {
        self.shared.lock().unwrap().faults.clear();
    }

    /// How many faults for `method` have not happened yet.
    pub fn pending(&self, method: &str) -> usize {
        self.shared
            .lock()
            .unwrap()
            .faults
            .get(method)
            .map_or(0, Vec::len)
    }

    /// How many requests to `method` the server has answered (a delayed
    /// one counts once the server answered it).
    pub fn forwarded(&self, method: &str) -> usize {
        self.shared
            .lock()
            .unwrap()
            .forwarded
            .get(method)
            .copied()
            .unwrap_or(0)
    }

    /// How many requests to `method` arrived, faulty or not.
    pub fn seen(&self, method: &str) -> usize {
        self.shared
            .lock()
            .unwrap()
            .seen
            .get(method)
            .copied()
            .unwrap_or(0)
    }
}

/// The method of an XRPC path, `/xrpc/<method>`.
fn method_of(path: &str) -> &str {
    path.strip_prefix("/xrpc/").unwrap_or(path)
}

async fn handle(State(ctx): State<Ctx>, req: Request) -> Response {
    let method = method_of(req.uri().path()).to_owned();
    let fault = {
        let mut s = ctx.shared.lock().unwrap();
        *s.seen.entry(method.clone()).or_default() += 1;
        s.faults
            .get_mut(&method)
            .and_then(|f| (!f.is_empty()).then(|| f.remove(0)))
    };
    match fault {
        None => forward(&ctx, req, None).await,
        Some(Fault::RateLimited { reset }) => {
            let mut headers = HeaderMap::new();
            for (name, value) in [
                ("ratelimit-limit", "3000".to_owned()),
                ("ratelimit-remaining", "0".to_owned()),
                ("ratelimit-reset", reset.to_string()),
                ("ratelimit-policy", "3000;w=300".to_owned()),
            ] {
                headers.insert(
                    HeaderName::from_static(name),
                    HeaderValue::from_str(&value).unwrap(),
                );
            }
            let body = json!({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"});
            (StatusCode::TOO_MANY_REQUESTS, headers, axum::Json(body)).into_response()
        }
        Some(Fault::Status(code)) => StatusCode::from_u16(code).unwrap().into_response(),
        Some(Fault::Said(code, error, message)) => (
            StatusCode::from_u16(code).unwrap(),
            axum::Json(json!({"error": error, "message": message})),
        )
            .into_response(),
        Some(Fault::Delay(d)) => forward(&ctx, req, Some(d)).await,
        Some(Fault::LoseAnswer) => {
            let _ = forward(&ctx, req, None).await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Some(Fault::CutAnswer) => {
            let answer = forward(&ctx, req, None).await;
            let (parts, body) = answer.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let half = Bytes::copy_from_slice(&bytes[..bytes.len() / 2]);
            // The status, headers and half the body go out; a moment
            // later the connection breaks.
            let chunks = futures_util::stream::iter([
                Ok(half),
                Err(std::io::Error::other("connection cut")),
            ])
            .then(|chunk: Result<Bytes, std::io::Error>| async move {
                if chunk.is_err() {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                chunk
            });
            let mut r = Response::from_parts(parts, Body::from_stream(chunks));
            r.headers_mut().remove(axum::http::header::CONTENT_LENGTH);
            r
        }
    }
}

/// Sends the request on to the server (after `delay`) and returns its
/// answer. The call runs in a task of its own, so it is made and completes
/// even when the client gives up meanwhile.
async fn forward(ctx: &Ctx, req: Request, delay: Option<Duration>) -> Response {
    let name = method_of(req.uri().path()).to_owned();
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 64 << 20).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", axum::http::uri::PathAndQuery::as_str);
    let url = format!("{}{path}", ctx.upstream);
    let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes()).unwrap();
    let mut req = ctx.http.request(method, url).body(body.to_vec());
    for (name, value) in &parts.headers {
        if !matches!(
            name.as_str(),
            "host" | "content-length" | "connection" | "transfer-encoding"
        ) {
            req = req.header(name.as_str(), value.as_bytes());
        }
    }
    let shared = ctx.shared.clone();
    let call = tokio::spawn(async move {
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let headers: Vec<(String, Vec<u8>)> = resp
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
            .collect();
        let bytes = resp.bytes().await?;
        *shared.lock().unwrap().forwarded.entry(name).or_default() += 1;
        Ok::<_, reqwest::Error>((status, headers, bytes))
    });
    match call.await {
        Ok(Ok((status, headers, bytes))) => {
            let mut r = Response::new(Body::from(bytes));
            *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            for (name, value) in headers {
                if matches!(
                    name.as_str(),
                    "content-length" | "connection" | "transfer-encoding" | "keep-alive"
                ) {
                    continue;
                }
                if let (Ok(n), Ok(v)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_bytes(&value),
                ) {
                    r.headers_mut().append(n, v);
                }
            }
            r
        }
        _ => StatusCode::BAD_GATEWAY.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_from_paths() {
        assert_eq!(
            method_of("/xrpc/com.atproto.repo.createRecord"),
            "com.atproto.repo.createRecord"
        );
        assert_eq!(method_of("/other"), "/other");
    }
}
