//! The access matrix's rows for listening. Every member reads; owners,
//! managers and editors set up queries, sources, alert rules and the
//! webhook. Each workspace has a
//! query and a source (the matrix's feed).

use crate::harness::App;
use dialoog_domain::Action;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// API rows: method, path, what it needs, a body, the answer when allowed.
pub fn api() -> Vec<(
    &'static str,
    &'static str,
    Action,
    Option<Value>,
    StatusCode,
)> {
    vec![
        (
            "GET",
            "/api/v1/workspaces/{ws}/listening/queries",
            Action::ViewListening,
            None,
            StatusCode::OK,
        ),
        (
            // A query that does not parse: refused, with where and why.
            "POST",
            "/api/v1/workspaces/{ws}/listening/queries",
            Action::ManageListening,
            Some(json!({"name": "Kapot", "query": "(taart"})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "PUT",
            "/api/v1/workspaces/{ws}/listening/queries/{query}",
            Action::ManageListening,
            Some(json!({"name": "Merk", "query": "\"de vries\" OR taart"})),
            StatusCode::OK,
        ),
        (
            // No query 0: allowed roles hear so, the others are refused first.
            "DELETE",
            "/api/v1/workspaces/{ws}/listening/queries/0",
            Action::ManageListening,
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/listening/sources",
            Action::ViewListening,
            None,
            StatusCode::OK,
        ),
        (
            "POST",
            "/api/v1/workspaces/{ws}/listening/sources",
            Action::ManageListening,
            Some(json!({"kind": "telepathy", "url": "https://x.nl/"})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "DELETE",
            "/api/v1/workspaces/{ws}/listening/sources/0",
            Action::ManageListening,
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "POST",
            "/api/v1/workspaces/{ws}/listening/sources/{source}/sync",
            Action::ManageListening,
            None,
            StatusCode::OK,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/listening/mentions",
            Action::ViewListening,
            None,
            StatusCode::OK,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/listening/facets",
            Action::ViewListening,
            None,
            StatusCode::OK,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/listening/alerts",
            Action::ViewListening,
            None,
            StatusCode::OK,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/listening/alert-rules",
            Action::ViewListening,
            None,
            StatusCode::OK,
        ),
        (
            // A kind of rule there is not: refused, naming the field.
            "POST",
            "/api/v1/workspaces/{ws}/listening/alert-rules",
            Action::ManageListening,
            Some(json!({"kind": "vibes"})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "DELETE",
            "/api/v1/workspaces/{ws}/listening/alert-rules/0",
            Action::ManageListening,
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "PUT",
            "/api/v1/workspaces/{ws}/listening/webhook",
            Action::ManageListening,
            Some(json!({"url": "ftp://x.nl/"})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "DELETE",
            "/api/v1/workspaces/{ws}/listening/webhook",
            Action::ManageListening,
            None,
            StatusCode::NO_CONTENT,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/listening/share-of-voice?days=7",
            Action::ViewListening,
            None,
            StatusCode::OK,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/listening/rising-terms",
            Action::ViewListening,
            None,
            StatusCode::OK,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/listening/settings",
            Action::ViewListening,
            None,
            StatusCode::OK,
        ),
        (
            "PUT",
            "/api/v1/workspaces/{ws}/listening/settings",
            Action::EditSettings,
            Some(json!({"keep_days": 90})),
            StatusCode::OK,
        ),
    ]
}

/// A query and a source (listening to `feed`) in `ws`.
pub async fn setup(app: &App, ws: i64, feed: &str) -> (i64, i64) {
    let s = &app.db.store;
    let q = s
        .create_listening_query(ws, "Merk", "taart", "brand", 1)
        .await
        .unwrap();
    let target = json!({"kind": "rss", "url": feed}).to_string();
    let src = s
        .create_source(ws, "rss", &target, "Feed", 1)
        .await
        .unwrap();
    (q.id, src.id)
}

/// UI rows: method, path, what it needs, a form body. (Removing is left
/// out here: the first allowed role would take the subject away from the
/// next; the API rows check who may remove.)
pub fn ui() -> Vec<(&'static str, &'static str, Action, String)> {
    let rows: Vec<(&'static str, &'static str, Action, &'static str)> = vec![
        ("GET", "/w/{ws}/listening", Action::ViewListening, ""),
        (
            "GET",
            "/w/{ws}/listening?sentiment=negative&query=1",
            Action::ViewListening,
            "",
        ),
        (
            "GET",
            "/w/{ws}/listening/queries",
            Action::ViewListening,
            "",
        ),
        (
            "GET",
            "/w/{ws}/listening/sources",
            Action::ViewListening,
            "",
        ),
        (
            "POST",
            "/w/{ws}/listening/queries",
            Action::ManageListening,
            "name=Kapot&query=%28taart&role=brand",
        ),
        (
            "POST",
            "/w/{ws}/listening/queries/{query}",
            Action::ManageListening,
            "name=Merk&query=taart+OR+stol&role=brand",
        ),
        (
            "POST",
            "/w/{ws}/listening/sources",
            Action::ManageListening,
            "kind=rss&url=ftp%3A%2F%2Fx.nl",
        ),
        (
            "POST",
            "/w/{ws}/listening/retention",
            Action::EditSettings,
            "keep_days=tien",
        ),
        (
            "POST",
            "/w/{ws}/listening/sources/{source}/sync",
            Action::ManageListening,
            "",
        ),
        (
            "POST",
            "/w/{ws}/listening/sources/{source}/pause",
            Action::ManageListening,
            "paused=0",
        ),
        ("GET", "/w/{ws}/listening/alerts", Action::ViewListening, ""),
        (
            "POST",
            "/w/{ws}/listening/alerts/rules",
            Action::ManageListening,
            "kind=volume&factor=1",
        ),
        (
            "POST",
            "/w/{ws}/listening/alerts/webhook",
            Action::ManageListening,
            "url=ftp%3A%2F%2Fx.nl",
        ),
    ];
    rows.into_iter()
        .map(|(m, p, a, f)| (m, p, a, f.to_owned()))
        .collect()
}
