//! Listening through the API: a query that does not parse is refused in
//! the member's language with its position; a feed source is added,
//! fetched now, and the negative Dutch post about the brand is listed as a
//! negative mention, counted once with its repost, and in the facets.

use crate::feeds::{FeedServer, rss};
use crate::harness::App;
use reqwest::StatusCode;
use serde_json::json;

async fn story(app: App) {
    let owner = app.setup().await;
    let ws = app.workspace(&owner, "Bakkerij").await;
    let base = format!("/api/v1/workspaces/{ws}/listening");
    let (s, v) = app
        .call(
            "POST",
            &format!("{base}/queries"),
            Some(&owner),
            Some(json!({"name": "Merk", "query": "\"de vries"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["field"], "query", "{v}");
    let msg = v["errors"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains("positie 1") && msg.contains("aanhalingsteken"),
        "{msg}"
    );

    let (s, q) = app
        .call(
            "POST",
            &format!("{base}/queries"),
            Some(&owner),
            Some(json!({"name": "Merk", "query": "\"de vries\" OR #bakkerijdevries"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{q}");
    let (s, v) = app
        .call(
            "POST",
            &format!("{base}/queries"),
            Some(&owner),
            Some(json!({"name": "Merk", "query": "taart", "role": "boss"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["role"], "{v}");

    let angry = "Wat een slechte service bij Bakkerij De Vries. Nooit meer!";
    let feed = FeedServer::start(rss(&[
        ("1", "Klacht", angry),
        ("2", "Klacht", &format!("RT {angry}")),
        ("3", "Weer", "Het regent in Utrecht"),
    ]))
    .await;
    let (s, v) = app
        .call(
            "POST",
            &format!("{base}/sources"),
            Some(&owner),
            Some(json!({"kind": "rss", "url": "ftp://x.nl/feed"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["field"], "url");
    let (s, src) = app
        .call(
            "POST",
            &format!("{base}/sources"),
            Some(&owner),
            Some(json!({"kind": "rss", "url": feed.url})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{src}");
    assert_eq!(
        (src["status"].as_str(), src["settings"]["url"].as_str()),
        (Some("new"), Some(feed.url.as_str()))
    );
    let (s, v) = app
        .call(
            "POST",
            &format!("{base}/sources"),
            Some(&owner),
            Some(json!({"kind": "rss", "url": feed.url})),
        )
        .await;
    assert_eq!(
        (s, v["errors"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("source_exists"))
    );

    let id = src["id"].as_i64().unwrap();
    let (s, v) = app
        .call(
            "POST",
            &format!("{base}/sources/{id}/sync"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!((s, v["fetched"].as_i64()), (StatusCode::OK, Some(3)), "{v}");
    let (_, page) = app
        .call("GET", &format!("{base}/mentions"), Some(&owner), None)
        .await;
    let list = page["mentions"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{page}");
    assert_eq!(
        (
            list[0]["sentiment"].as_str(),
            list[0]["lang"].as_str(),
            list[0]["copies"].as_i64(),
            list[0]["query_ids"][0].as_i64()
        ),
        (Some("negative"), Some("nl"), Some(2), q["id"].as_i64())
    );
    let (_, none) = app
        .call(
            "GET",
            &format!("{base}/mentions?sentiment=positive"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(none["mentions"].as_array().unwrap().len(), 0);
    let (s, bad) = app
        .call(
            "GET",
            &format!("{base}/mentions?since=gisteren"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(
        (s, bad["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("since"))
    );
    let (_, f) = app
        .call("GET", &format!("{base}/facets"), Some(&owner), None)
        .await;
    assert_eq!(f["sentiment"], json!([{"value": "negative", "count": 1}]));
    assert_eq!(f["days"][0]["negative"], 1, "{f}");
    let (_, sources) = app
        .call("GET", &format!("{base}/sources"), Some(&owner), None)
        .await;
    assert_eq!(
        (
            sources[0]["status"].as_str(),
            sources[0]["fetched_total"].as_i64(),
            sources[0]["stored_total"].as_i64()
        ),
        (Some("ok"), Some(3), Some(1))
    );
    // A feed that breaks: the source says why, the mention stays.
    feed.set(500, "text/plain", "kapot".into());
    let (s, _) = app
        .call(
            "POST",
            &format!("{base}/sources/{id}/sync"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_GATEWAY);
    let (_, sources) = app
        .call("GET", &format!("{base}/sources"), Some(&owner), None)
        .await;
    assert_eq!(sources[0]["status"], "failing");
    assert!(!sources[0]["reason"].as_str().unwrap().is_empty());
    let (_, page) = app
        .call("GET", &format!("{base}/mentions"), Some(&owner), None)
        .await;
    assert_eq!(page["mentions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn listening_story_sqlite() {
    story(App::sqlite().await).await;
}

#[tokio::test]
async fn listening_story_postgres() {
    if let Some(app) = App::postgres().await {
        story(app).await;
    }
}

/// The same through the pages: the parser's message where a query does
/// not parse, a source added and fetched, the mention with its sentiment,
/// the facets and the chart, a client reading along without the forms.
#[tokio::test]
async fn listening_in_the_pages() {
    use crate::browser::Browser;
    let app = App::sqlite().await;
    let owner = app.setup().await;
    let ws = app.workspace(&owner, "Bakkerij").await;
    let (_, _) = app.member(&owner, ws, "klant@bakkerij.nl", "client").await;
    let b = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let base = format!("/w/{ws}/listening");
    let r = b
        .post(
            &app,
            &format!("{base}/queries"),
            "name=Merk&query=%22de+vries&role=brand",
        )
        .await;
    let html = r.text().await.unwrap();
    assert!(
        html.contains("positie 1") && html.contains("aria-invalid=\"true\""),
        "{html}"
    );
    assert!(
        html.contains("&#34;de vries</textarea>") || html.contains("&quot;de vries</textarea>"),
        "what was typed stays: {html}"
    );
    let r = b
        .post(
            &app,
            &format!("{base}/queries"),
            "name=Merk&query=%22de+vries%22&role=brand",
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let angry = "Slechte service bij Bakkerij De Vries, nooit meer!";
    let feed = FeedServer::start(rss(&[("1", "Klacht", angry), ("2", "Weer", "Zon")])).await;
    let r = b
        .post(
            &app,
            &format!("{base}/sources"),
            &format!("kind=rss&url={}", feed.url),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = b
        .get(&app, &format!("{base}/sources"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Wacht op de eerste keer ophalen"), "{html}");
    let id = app.db.store.sources(ws).await.unwrap()[0].id;
    let r = b.post(&app, &format!("{base}/sources/{id}/sync"), "").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = b
        .get(&app, &format!("{base}/sources"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Werkt"), "{html}");
    let html = b.get(&app, &base).await.text().await.unwrap();
    assert!(html.contains(angry) && html.contains("Negatief"), "{html}");
    assert!(
        html.contains("class=\"chart\"") && html.contains("Gevonden door Merk"),
        "{html}"
    );
    assert!(!html.contains("Zon"), "what no query finds is not stored");
    let html = b
        .get(&app, &format!("{base}?sentiment=positive"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains(angry));
    // A client reads along, without the forms.
    let c = Browser::signed_in(&app, "klant@bakkerij.nl").await;
    let html = c.get(&app, &base).await.text().await.unwrap();
    assert!(html.contains(angry));
    let html = c
        .get(&app, &format!("{base}/sources"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("Nu ophalen") && !html.contains("Bron toevoegen"),
        "{html}"
    );
    let r = c.post(&app, &format!("{base}/sources/{id}/sync"), "").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// Streamed sources: the Bluesky firehose and a Mastodon hashtag set to
/// stream are added through the API (bad addresses and collections refused
/// in the member's language), have no "fetch now", and the sources page
/// shows what their running stream reported: its state, the posts heard
/// and stored, and the posts per minute; a stream that stopped reporting
/// shows as not running. A connected channel's own mentions are added as a
/// source through the page.
#[tokio::test]
async fn streamed_sources_show_their_health_and_throughput() {
    use crate::browser::Browser;
    use dialoog_store::StreamHealth;
    let app = App::sqlite().await;
    let owner = app.setup().await;
    let ws = app.workspace(&owner, "Bakkerij").await;
    let base = format!("/api/v1/workspaces/{ws}/listening");
    let add = |body: serde_json::Value| {
        let (app, owner, url) = (&app, &owner, format!("{base}/sources"));
        async move { app.call("POST", &url, Some(owner), Some(body)).await }
    };
    let (s, v) = add(json!({"kind": "jetstream", "url": "https://jetstream.example"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["field"], "url");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("wss://"),
        "{v}"
    );
    let (s, v) = add(json!({"kind": "jetstream", "url": "ws://127.0.0.1:9",
        "collections": "app.bsky.graph.follow"}))
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["field"], "collections");
    let (s, fire) = add(json!({"kind": "jetstream", "url": "ws://127.0.0.1:9"})).await;
    assert_eq!(s, StatusCode::CREATED, "{fire}");
    assert_eq!(fire["streamed"], true);
    assert_eq!(fire["settings"]["url"], "ws://127.0.0.1:9/subscribe");
    assert!(fire["live_status"].is_null());
    let (s, tag) = add(json!({"kind": "mastodon_tag", "url": "http://127.0.0.1:9",
        "tag": "bakkerij", "stream": true}))
    .await;
    assert_eq!(s, StatusCode::CREATED, "{tag}");
    assert_eq!(tag["streamed"], true);
    let (s, feed) =
        add(json!({"kind": "rss", "url": "http://127.0.0.1:9/feed", "stream": true})).await;
    assert_eq!(s, StatusCode::CREATED, "{feed}");
    assert_eq!(feed["streamed"], false, "feeds are polled");
    let fire_id = fire["id"].as_i64().unwrap();
    let tag_id = tag["id"].as_i64().unwrap();
    let (s, v) = app
        .call(
            "POST",
            &format!("{base}/sources/{fire_id}/sync"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    // What the stream runner records.
    let store = &app.db.store;
    let now = jiff::Timestamp::now().as_millisecond();
    store
        .record_stream_batch("1795000000000000", 1200, &[(fire_id, 7)], now)
        .await
        .unwrap();
    let connected = StreamHealth {
        status: Some("ok"),
        live_status: "connected",
        reason: String::new(),
        per_minute: 4321,
    };
    store
        .record_stream_health(&[fire_id], &connected, now)
        .await
        .unwrap();
    let polling = StreamHealth {
        status: Some("ok"),
        live_status: "polling",
        reason: "the instance offers no stream here (404)".into(),
        per_minute: 3,
    };
    // Reported ten minutes ago: not running now.
    store
        .record_stream_health(&[tag_id], &polling, now - 600_000)
        .await
        .unwrap();
    let (_, list) = app
        .call("GET", &format!("{base}/sources"), Some(&owner), None)
        .await;
    let fire = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == fire_id)
        .unwrap();
    assert_eq!(
        (
            &fire["live_status"],
            &fire["per_minute"],
            &fire["fetched_total"],
            &fire["stored_total"]
        ),
        (&json!("connected"), &json!(4321), &json!(1200), &json!(7)),
        "{fire}"
    );
    let tag = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == tag_id)
        .unwrap();
    assert!(tag["per_minute"].is_null(), "{tag}");

    let b = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let page = format!("/w/{ws}/listening/sources");
    let html = b.get(&app, &page).await.text().await.unwrap();
    for want in [
        "Verbonden",
        "4321",
        "1200",
        "Per minuut",
        "live stroom",
        "op een schema opgehaald",
        "Draait op dit moment niet",
        "Werkt",
    ] {
        assert!(html.contains(want), "{want}: {html}");
    }
    assert!(
        !html.contains(&format!("sources/{fire_id}/sync")),
        "no fetch now for a stream"
    );
    assert!(
        !html.contains("no stream here"),
        "a stream not running shows no reason from when it last ran: {html}"
    );

    // A stream that lost its connection a while ago, and a feed that
    // cannot be reached: what it means, in Dutch, then the network's words.
    let lost = StreamHealth {
        status: Some("failing"),
        live_status: "reconnecting",
        reason: "the server closed the connection".into(),
        per_minute: 0,
    };
    store
        .record_stream_health(&[fire_id], &lost, now)
        .await
        .unwrap();
    let feed_id = feed["id"].as_i64().unwrap();
    let html = b
        .post(&app, &format!("{page}/{feed_id}/sync"), "")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(
            "Ophalen mislukt: Een tijdelijk probleem bij de bron: Dialoog probeert het vanzelf \
             opnieuw. De woorden van de bron: the network could not be reached"
        ),
        "{html}"
    );
    let html = b.get(&app, &page).await.text().await.unwrap();
    for want in [
        "De verbinding met de bron viel weg: Dialoog maakt vanzelf opnieuw verbinding. \
         <span class=\"muted\">De woorden van de bron: the server closed the connection",
        "Een tijdelijk probleem bij de bron: Dialoog probeert het vanzelf opnieuw. \
         <span class=\"muted\">De woorden van de bron: the network could not be reached",
    ] {
        assert!(html.contains(want), "{want}: {html}");
    }
    assert!(!html.contains("temporary problem"), "{html}");
    assert!(
        html.contains("class=\"cell-label\""),
        "labels for a phone's narrow table"
    );

    // Refused in the page too, in Dutch.
    let html = b
        .post(&app, &page, "kind=jetstream&url=https%3A%2F%2Fx.example")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("begint met wss://"), "{html}");

    // A connected channel's mentions as a source.
    let channel = store
        .create_channel(ws, "mastodon", "Bakkerij op Mastodon", b"sealed", now)
        .await
        .unwrap();
    let html = b.get(&app, &page).await.text().await.unwrap();
    assert!(html.contains("Bakkerij op Mastodon · mastodon"), "{html}");
    let html = b
        .post(&app, &page, "kind=channel&channel=999999")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Kies een van de kanalen"), "{html}");
    let r = b
        .post(&app, &page, &format!("kind=channel&channel={}", channel.id))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = b.get(&app, &page).await.text().await.unwrap();
    assert!(html.contains("Vermeldingen van ons kanaal"), "{html}");
}
