//! `/healthz`, `/metrics` and the middleware that counts requests.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use crate::AppState;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Series {
    counts: [u64; BUCKETS.len()],
    total: u64,
    sum: f64,
}

/// Request counts and latency histograms per route, method and status.
#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        let mut map = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let s = map
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        s.total += 1;
        s.sum += secs;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b
                && let Some(c) = s.counts.get_mut(i)
            {
                *c += 1;
            }
        }
    }
}

/// Middleware: times every request and records it under its route template
/// (`/api/v1/workspaces/{ws}`), never the raw path, so ids do not explode
/// the series.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let resp = next.run(req).await;
    let secs = start.elapsed().as_secs_f64();
    tracing::debug!(%method, %route, status = resp.status().as_u16(), ms = secs * 1000.0, "request");
    state
        .metrics
        .observe(&method, &route, resp.status().as_u16(), secs);
    resp
}

/// `GET /healthz`: 200 `{"status":"ok"}` when the database answers, 503 otherwise.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "ready: `{\"status\":\"ok\"}`"), (status = 503, description = "the database does not answer")))]
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => axum::Json(serde_json::json!({"status": "ok"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "unavailable"})),
            )
                .into_response()
        }
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "request counts and latencies per route, database pool figures", content_type = "text/plain")))]
pub async fn render(State(state): State<AppState>) -> Response {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP dialoog_http_requests_total HTTP requests by route, method and status."
    );
    let _ = writeln!(out, "# TYPE dialoog_http_requests_total counter");
    let map = state
        .metrics
        .series
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for ((m, r, s), v) in map.iter() {
        let _ = writeln!(
            out,
            "dialoog_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{s}\"}} {}",
            escape(r),
            v.total
        );
    }
    let _ = writeln!(
        out,
        "# HELP dialoog_http_request_duration_seconds Request latency by route and method."
    );
    let _ = writeln!(
        out,
        "# TYPE dialoog_http_request_duration_seconds histogram"
    );
    let mut by_route: BTreeMap<(&str, &str), Series> = BTreeMap::new();
    for ((m, r, _), v) in map.iter() {
        let agg = by_route.entry((m, r)).or_default();
        agg.total += v.total;
        agg.sum += v.sum;
        for (a, b) in agg.counts.iter_mut().zip(v.counts.iter()) {
            *a += b;
        }
    }
    for ((m, r), v) in &by_route {
        let labels = format!("method=\"{m}\",route=\"{}\"", escape(r));
        for (b, c) in BUCKETS.iter().zip(v.counts.iter()) {
            let _ = writeln!(
                out,
                "dialoog_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {c}"
            );
        }
        let _ = writeln!(
            out,
            "dialoog_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
            v.total
        );
        let _ = writeln!(
            out,
            "dialoog_http_request_duration_seconds_sum{{{labels}}} {}",
            v.sum
        );
        let _ = writeln!(
            out,
            "dialoog_http_request_duration_seconds_count{{{labels}}} {}",
            v.total
        );
    }
    let pool = state.store.pool_stats();
    let _ = writeln!(
        out,
        "# HELP dialoog_db_pool_connections Open database connections."
    );
    let _ = writeln!(out, "# TYPE dialoog_db_pool_connections gauge");
    let _ = writeln!(out, "dialoog_db_pool_connections {}", pool.size);
    let _ = writeln!(
        out,
        "# HELP dialoog_db_pool_idle Open database connections not in use."
    );
    let _ = writeln!(out, "# TYPE dialoog_db_pool_idle gauge");
    let _ = writeln!(out, "dialoog_db_pool_idle {}", pool.idle);
    let _ = writeln!(
        out,
        "# HELP dialoog_db_pool_max The most connections the pool opens."
    );
    let _ = writeln!(out, "# TYPE dialoog_db_pool_max gauge");
    let _ = writeln!(out, "dialoog_db_pool_max {}", pool.max);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}
