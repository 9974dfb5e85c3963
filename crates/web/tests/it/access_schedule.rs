//! The access matrix's rows for scheduling: queues, recurring series and
//! the CSV import, for the API and the pages.

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
            "/api/v1/workspaces/{ws}/queues",
            Action::ViewPosts,
            None,
            StatusCode::OK,
        ),
        (
            // A feed has no queue: the answer says so.
            "GET",
            "/api/v1/workspaces/{ws}/queues/next?channels={channel}",
            Action::ViewPosts,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "PUT",
            "/api/v1/workspaces/{ws}/channels/{channel}/queue",
            Action::ComposePosts,
            Some(json!({"slots": [{"weekday": 1, "time": "09:00"}]})),
            StatusCode::OK,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/series",
            Action::ViewPosts,
            None,
            StatusCode::OK,
        ),
        (
            // Reaches the composer's checks (a feed cannot publish).
            "POST",
            "/api/v1/workspaces/{ws}/series",
            Action::ComposePosts,
            Some(
                json!({"text": "Elke maandag", "channels": [], "repeat": "weekly", "weekdays": [1], "time": "09:00", "start_date": "2030-01-07"}),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/series/{series}",
            Action::ViewPosts,
            None,
            StatusCode::OK,
        ),
        (
            "PATCH",
            "/api/v1/workspaces/{ws}/series/{series}",
            Action::ComposePosts,
            Some(json!({"text": "Nieuwe tekst"})),
            StatusCode::OK,
        ),
        (
            "POST",
            "/api/v1/workspaces/{ws}/series/{series}/stop",
            Action::ComposePosts,
            None,
            StatusCode::OK,
        ),
        (
            // A JSON body is not a CSV file.
            "POST",
            "/api/v1/workspaces/{ws}/posts/import",
            Action::ComposePosts,
            Some(json!({})),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
    ]
}

/// UI rows: method, path, what it needs, a form body.
pub fn ui() -> Vec<(&'static str, &'static str, Action, String)> {
    let rows: Vec<(&'static str, &'static str, Action, &'static str)> = vec![
        ("GET", "/w/{ws}/queue", Action::ViewPosts, ""),
        (
            "POST",
            "/w/{ws}/queue/{channel}",
            Action::ComposePosts,
            "day1=09%3A00+15%3A30&day3=10%3A00",
        ),
        ("GET", "/w/{ws}/series", Action::ViewPosts, ""),
        (
            "POST",
            "/w/{ws}/series/{series}/text",
            Action::ComposePosts,
            "text=Nieuw",
        ),
        (
            "POST",
            "/w/{ws}/series/{series}/stop",
            Action::ComposePosts,
            "",
        ),
        ("GET", "/w/{ws}/posts/import", Action::ComposePosts, ""),
        (
            // Reaches the file checks (an empty file).
            "POST",
            "/w/{ws}/posts/import",
            Action::ComposePosts,
            "csv=",
        ),
        (
            "GET",
            "/w/{ws}/posts/import/example.csv",
            Action::ViewPosts,
            "",
        ),
    ];
    rows.into_iter()
        .map(|(m, p, a, f)| (m, p, a, f.to_owned()))
        .collect()
}

/// A recurring post in `ws` (without channels), made in the store.
pub async fn series(app: &App, ws: i64) -> i64 {
    let s = dialoog_store::NewSeries {
        workspace_id: ws,
        author_id: None,
        text: "Elke maandag".into(),
        channel_ids: vec![],
        kind: "weekly".into(),
        weekdays: vec![1],
        month_day: None,
        minute: 540,
        start_date: "2030-01-07".into(),
        until_date: None,
        max_count: None,
    };
    app.db.store.create_series(&s, 0).await.unwrap().id
}
