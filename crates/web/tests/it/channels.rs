//! Channels through the API: connect a feed, sync, health, failures.

use crate::feeds::{FeedServer, rss};
use crate::harness::App;
use reqwest::StatusCode;
use serde_json::json;

async fn story(app: App) {
    let owner = app.setup().await;
    let ws = app
        .call("GET", "/api/v1/workspaces", Some(&owner), None)
        .await
        .1[0]["id"]
        .as_i64()
        .unwrap();
    let feed = FeedServer::start(rss(&[
        ("r1", "Heerlijk", "<p>Lekkere <b>taart</b></p>"),
        ("r2", "Traag", "Bezorging duurde lang"),
    ]))
    .await;
    let base = format!("/api/v1/workspaces/{ws}/channels");

    // Validation first, in the user's words.
    let (s, v) = app
        .call(
            "POST",
            &base,
            Some(&owner),
            Some(json!({"network": "mastodon", "instance_url": "https://x"})),
        )
        .await;
    assert_eq!(
        (s, v["errors"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("network_not_yet"))
    );
    let (s, v) = app
        .call(
            "POST",
            &base,
            Some(&owner),
            Some(json!({"network": "myspace"})),
        )
        .await;
    assert_eq!(
        (s, v["errors"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("network_invalid"))
    );
    let (s, v) = app
        .call(
            "POST",
            &base,
            Some(&owner),
            Some(json!({"network": "rss", "feed_url": "ftp://x"})),
        )
        .await;
    assert_eq!(
        (s, v["errors"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("url_invalid"))
    );

    // Connect: the feed is checked and named after its title.
    let (s, ch) = app
        .call(
            "POST",
            &base,
            Some(&owner),
            Some(json!({"network": "rss", "feed_url": feed.url})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ch}");
    assert_eq!(
        (ch["name"].as_str(), ch["status"].as_str()),
        (Some("Reviews Bakkerij De Vries"), Some("new"))
    );
    let id = ch["id"].as_i64().unwrap();
    // Credentials are sealed at rest.
    let stored = app.db.store.channel(ws, id).await.unwrap();
    assert!(!String::from_utf8_lossy(&stored.credentials).contains("feed.xml"));

    let sync = format!("{base}/{id}/sync");
    let (s, v) = app.call("POST", &sync, Some(&owner), None).await;
    assert_eq!((s, v), (StatusCode::OK, json!({"fetched": 2, "new": 2})));
    let (_, items) = app
        .call("GET", &format!("{base}/{id}/items"), Some(&owner), None)
        .await;
    let texts: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["Traag\nBezorging duurde lang", "Heerlijk\nLekkere taart"]
    );
    assert_eq!(items[0]["kind"], "post");
    // Unchanged: a conditional GET answers 304 and nothing is fetched.
    let (_, v) = app.call("POST", &sync, Some(&owner), None).await;
    assert_eq!(v, json!({"fetched": 0, "new": 0}));
    assert!(
        feed.hits.lock().unwrap().last().unwrap().is_some(),
        "sent If-None-Match"
    );

    // One new item among the old ones: stored once.
    feed.set(
        200,
        "application/rss+xml",
        rss(&[
            ("r3", "Top", "Super vriendelijk"),
            ("r1", "Heerlijk", "x"),
            ("r2", "Traag", "y"),
        ]),
    );
    let (_, v) = app.call("POST", &sync, Some(&owner), None).await;
    assert_eq!(v, json!({"fetched": 3, "new": 1}));

    // Garbage: a clear reason, the channel says "failing" since when, nothing lost.
    feed.set(
        200,
        "text/html",
        "<html><body>Onderhoud</body></html>".into(),
    );
    let (s, v) = app.call("POST", &sync, Some(&owner), None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("network_error"))
    );
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("not an RSS, Atom or JSON feed"),
        "{v}"
    );
    let (_, list) = app.call("GET", &base, Some(&owner), None).await;
    assert_eq!(list[0]["status"], "failing");
    let since = list[0]["status_since"].as_str().unwrap().to_owned();
    assert_eq!(app.db.store.items(id, 100).await.unwrap().len(), 3);
    // Still failing later: "since" does not move.
    app.call("POST", &sync, Some(&owner), None).await;
    assert_eq!(
        app.call("GET", &base, Some(&owner), None).await.1[0]["status_since"],
        since
    );

    // A revoked token: the channel needs reconnecting.
    feed.set(401, "text/plain", "token revoked".into());
    app.call("POST", &sync, Some(&owner), None).await;
    let (_, list) = app.call("GET", &base, Some(&owner), None).await;
    assert_eq!(list[0]["status"], "needs_reconnect");
    assert!(
        list[0]["status_reason"]
            .as_str()
            .unwrap()
            .contains("token revoked")
    );

    // Back to good: resumes, no duplicates.
    feed.set(
        200,
        "application/rss+xml",
        rss(&[("r4", "Prima", "Goed"), ("r3", "Top", "z")]),
    );
    let (_, v) = app.call("POST", &sync, Some(&owner), None).await;
    assert_eq!(v, json!({"fetched": 2, "new": 1}));
    assert_eq!(
        app.call("GET", &base, Some(&owner), None).await.1[0]["status"],
        "ok"
    );
    assert_eq!(app.db.store.items(id, 100).await.unwrap().len(), 4);

    // Disconnect, audited.
    let (s, _) = app
        .call("DELETE", &format!("{base}/{id}"), Some(&owner), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, log) = app
        .call(
            "GET",
            &format!("/api/v1/workspaces/{ws}/audit"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(log[0]["action"], "channel.disconnected");
    assert_eq!(log[1]["action"], "channel.connected");
}

#[tokio::test]
async fn feed_channel_story_sqlite() {
    story(App::sqlite().await).await;
}

#[tokio::test]
async fn feed_channel_story_postgres() {
    if let Some(app) = App::postgres().await {
        story(app).await;
    }
}

#[tokio::test]
async fn a_feed_that_is_not_a_feed_is_refused_at_connect() {
    let app = App::sqlite().await;
    let owner = app.setup().await;
    let feed = FeedServer::start("{\"half\": ".into()).await;
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/channels",
            Some(&owner),
            Some(json!({"network": "rss", "feed_url": feed.url})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("network_error"))
    );
    assert!(app.db.store.channels(1).await.unwrap().is_empty());
}
