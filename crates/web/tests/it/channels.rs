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
            Some(json!({"network": "email", "imap_url": "imaps://x", "smtp_url": "smtps://x", "password": "p", "address": "geen adres"})),
        )
        .await;
    assert_eq!(
        (
            s,
            v["errors"][0]["field"].as_str(),
            v["errors"][0]["code"].as_str()
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("address"),
            Some("email_invalid")
        )
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

#[tokio::test]
async fn channels_in_the_ui() {
    use crate::browser::Browser;
    let app = App::sqlite().await;
    app.setup().await;
    let feed = FeedServer::start(rss(&[(
        "a",
        "Lekker",
        "Heerlijke <script>alert(1)</script>taart",
    )]))
    .await;
    let b = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let html = b.get(&app, "/w/1/channels").await.text().await.unwrap();
    assert!(html.contains("Nog geen kanalen.") && html.contains("Adres van de feed"));
    let r = b.post(&app, "/w/1/channels", "feed_url=geen-adres").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Vul een webadres in dat begint met https://.")
    );
    let r = b
        .post(
            &app,
            "/w/1/channels",
            &format!(
                "feed_url={}",
                feed.url.replace(':', "%3A").replace('/', "%2F")
            ),
        )
        .await;
    assert_eq!(r.headers()["location"], "/w/1/channels?done=channel_added");
    let html = b
        .get(&app, "/w/1/channels?done=channel_added")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Het kanaal is toegevoegd.")
            && html.contains("Reviews Bakkerij De Vries")
            && html.contains("nog niet opgehaald")
    );
    let html = b
        .post(&app, "/w/1/channels/1/sync", "")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("1 items opgehaald, waarvan 1 nieuw."),
        "{html}"
    );
    assert!(
        html.contains("Heerlijke taart"),
        "the item is listed as text"
    );
    assert!(html.contains("Volgende keer ophalen:"), "{html}");
    let (_, list) = {
        let owner = app
            .call("POST", "/api/v1/auth/tokens", None, Some(json!({"email": "anna@bakkerij.nl", "password": crate::harness::PASSWORD, "name": "t"})))
            .await
            .1["token"]
            .as_str()
            .unwrap()
            .to_owned();
        app.call("GET", "/api/v1/workspaces/1/channels", Some(&owner), None)
            .await
    };
    let (last, next) = (
        list[0]["last_sync_at"].as_str().unwrap(),
        list[0]["next_sync_at"].as_str().unwrap(),
    );
    assert!(next > last, "a feed is due again later: {last} → {next}");
    assert!(!html.contains("<script>alert"), "remote content never runs");
    feed.set(500, "text/plain", "database down".into());
    let html = b
        .post(&app, "/w/1/channels/1/sync", "")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Het netwerk zegt:")
            && html.contains("database down")
            && html.contains("mislukt"),
        "{html}"
    );
    // What it means, in the user's language, before the network's own words.
    assert!(
        html.contains(
            "Een tijdelijk probleem bij het netwerk: Dialoog probeert het vanzelf opnieuw."
        ) && html.contains("De woorden van het netwerk: the network has a problem (500"),
        "{html}"
    );
    let r = b.post(&app, "/w/1/channels/1/remove", "").await;
    assert_eq!(
        r.headers()["location"],
        "/w/1/channels?done=channel_removed"
    );
    assert!(app.db.store.channels(1).await.unwrap().is_empty());
}

async fn poller(app: App) {
    use dialoog_engine::poller::{PollerConfig, poll_once};
    let owner = app.setup().await;
    let feed = FeedServer::start(rss(&[("p1", "Goed", "Prima service")])).await;
    let (_, ch) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/channels",
            Some(&owner),
            Some(json!({"network": "rss", "feed_url": feed.url})),
        )
        .await;
    let id = ch["id"].as_i64().unwrap();
    let store = &app.db.store;
    let cipher = dialoog_engine::Cipher::new([7; 32]);
    let config = PollerConfig::default();
    // A new channel is fetched by the poller without anyone asking.
    assert_eq!(poll_once(store, &cipher, &config).await, 1);
    assert_eq!(store.items(id, 10).await.unwrap().len(), 1);
    let c = store.channel(1, id).await.unwrap();
    assert_eq!(c.status, "ok");
    let every = c.next_sync_at.unwrap() - c.last_sync_at.unwrap();
    assert_eq!(every, 15 * 60_000, "a feed is polled every 15 minutes");
    // Not due again yet.
    assert_eq!(poll_once(store, &cipher, &config).await, 0);

    // Failing: retried after a minute, then longer the longer it fails.
    let due_now = |status: &'static str, since: i64| {
        let store = store.clone();
        async move {
            let now = c.last_sync_at.unwrap();
            store
                .record_sync(
                    id,
                    &dialoog_store::SyncRecord {
                        status,
                        reason: "",
                        cursor: None,
                        now,
                        next_sync_at: Some(0),
                    },
                )
                .await
                .unwrap();
            if since > 0 {
                store
                    .execute_admin(&format!(
                        "UPDATE channels SET status_since = {since} WHERE id = {id}"
                    ))
                    .await
                    .unwrap();
            }
        }
    };
    feed.set(503, "text/plain", "onderhoud".into());
    due_now("ok", 0).await;
    assert_eq!(poll_once(store, &cipher, &config).await, 1);
    let c1 = store.channel(1, id).await.unwrap();
    assert_eq!(c1.status, "failing");
    assert!(c1.status_reason.contains("onderhoud"));
    assert_eq!(c1.next_sync_at.unwrap() - c1.last_sync_at.unwrap(), 60_000);
    // Failing for ten minutes already: the next try waits ten minutes.
    due_now("failing", c1.last_sync_at.unwrap() - 600_000).await;
    poll_once(store, &cipher, &config).await;
    let c2 = store.channel(1, id).await.unwrap();
    let wait = c2.next_sync_at.unwrap() - c2.last_sync_at.unwrap();
    assert!((600_000..=700_000).contains(&wait), "{wait}");

    // Credentials refused: left for a person to reconnect.
    feed.set(401, "text/plain", "revoked".into());
    due_now("failing", 0).await;
    poll_once(store, &cipher, &config).await;
    let c3 = store.channel(1, id).await.unwrap();
    assert_eq!(
        (c3.status.as_str(), c3.next_sync_at),
        ("needs_reconnect", None)
    );
    assert_eq!(poll_once(store, &cipher, &config).await, 0);
    assert_eq!(store.items(id, 10).await.unwrap().len(), 1, "nothing lost");
}

#[tokio::test]
async fn the_poller_fetches_due_channels_by_itself_sqlite() {
    poller(App::sqlite().await).await;
}

#[tokio::test]
async fn the_poller_fetches_due_channels_by_itself_postgres() {
    if let Some(app) = App::postgres().await {
        poller(app).await;
    }
}

#[tokio::test]
async fn bluesky_in_the_ui() {
    use crate::browser::Browser;
    let app = App::sqlite().await;
    app.setup().await;
    let service = FeedServer::start(rss(&[])).await;
    let base = service
        .url
        .trim_end_matches("/feed.xml")
        .replace(':', "%3A")
        .replace('/', "%2F");
    let b = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let html = b.get(&app, "/w/1/channels").await.text().await.unwrap();
    assert!(html.contains("Een Bluesky-account koppelen") && html.contains("App-wachtwoord"));
    let r = b
        .post(
            &app,
            "/w/1/channels/bluesky",
            "identifier=&app_password=geheim-wachtwoord",
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("Dit veld is verplicht."));
    assert!(
        !html.contains("geheim-wachtwoord"),
        "the password is never sent back"
    );
    let r = b
        .post(
            &app,
            "/w/1/channels/bluesky",
            "identifier=twee%20woorden&app_password=x",
        )
        .await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Vul een handle in zoals bakkerij.bsky.social")
    );
    // Nobody there: the reason, the handle kept.
    let r = b
        .post(
            &app,
            "/w/1/channels/bluesky",
            "identifier=bakkerij.test&app_password=x&service_url=http%3A%2F%2F127.0.0.1%3A9",
        )
        .await;
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Het netwerk zegt:") && html.contains("value=\"bakkerij.test\""),
        "{html}"
    );
    let r = b
        .post(
            &app,
            "/w/1/channels/bluesky",
            &format!("identifier=%40bakkerij.test&app_password=abcd-efgh&service_url={base}"),
        )
        .await;
    assert_eq!(r.headers()["location"], "/w/1/channels?done=channel_added");
    let html = b.get(&app, "/w/1/channels").await.text().await.unwrap();
    assert!(
        html.contains("@account0.test") && html.contains("(bluesky)"),
        "{html}"
    );
}
