//! Mastodon timelines as listening sources: against a loopback fake of the
//! streaming API (server-sent events) and the tag timeline, and against the
//! real Mastodon test server (mastodon-mock) for polling and streaming a
//! hashtag.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use dialoog_networks::ConnectorError;
use dialoog_networks::listen::mastodon::{MastodonStream, MastodonTimeline};
use dialoog_networks::listen::{
    Batch, Heard, SourceInput, SourceKind, SourceSettings, Status, StreamOptions,
};
use dialoog_networks::testing::MastodonPeer;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

fn tag_source(instance: &str, tag: &str) -> SourceSettings {
    SourceSettings::parse(
        SourceKind::MastodonTag,
        &SourceInput {
            url: instance.into(),
            tag: tag.into(),
            ..SourceInput::default()
        },
    )
    .unwrap()
}

fn fast() -> StreamOptions {
    StreamOptions {
        batch_wait: Duration::from_millis(20),
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        ..StreamOptions::default()
    }
}

fn status(id: u64) -> Value {
    json!({
        "id": id.to_string(),
        "uri": format!("https://m.example/users/anna/statuses/{id}"),
        "url": format!("https://m.example/@anna/{id}"),
        "created_at": "2026-11-20T10:00:00.000Z",
        "content": format!("<p>Bericht {id} over <a href=\"https://m.example/tags/bakkerij\">#<span>bakkerij</span></a></p>"),
        "spoiler_text": "",
        "language": "nl",
        "visibility": "public",
        "account": {"id": "9", "acct": "anna", "username": "anna", "display_name": "Anna",
            "url": "https://m.example/@anna", "uri": "https://m.example/users/anna", "followers_count": 12},
        "media_attachments": [],
        "reblog": null
    })
}

type Conn = mpsc::Sender<Result<Bytes, std::io::Error>>;

#[derive(Clone)]
struct Fake {
    timeline: Arc<Mutex<Vec<Value>>>,
    conns: mpsc::UnboundedSender<Conn>,
    stream: bool,
}

async fn timeline(
    State(f): State<Fake>,
    Path(tag): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> axum::Json<Vec<Value>> {
    assert_eq!(tag, "bakkerij");
    let limit: usize = q.get("limit").map_or(20, |l| l.parse().unwrap());
    let all = f.timeline.lock().unwrap().clone();
    let id = |s: &Value| s["id"].as_str().unwrap().parse::<u64>().unwrap();
    let page: Vec<Value> = match q.get("min_id").map(|m| m.parse::<u64>().unwrap()) {
        Some(min) => {
            let mut newer: Vec<Value> = all.into_iter().filter(|s| id(s) > min).collect();
            newer.truncate(limit);
            newer.into_iter().rev().collect()
        }
        None => all.into_iter().rev().take(limit).collect(),
    };
    axum::Json(page)
}

async fn streaming(
    State(f): State<Fake>,
    Query(q): Query<HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if !f.stream {
        return (
            axum::http::StatusCode::NOT_FOUND,
            "Streaming is not enabled",
        )
            .into_response();
    }
    assert_eq!(q.get("tag").map(String::as_str), Some("bakkerij"));
    let (tx, rx) = mpsc::channel(16);
    tx.send(Ok(Bytes::from_static(b":connected\n\n")))
        .await
        .unwrap();
    f.conns.send(tx).unwrap();
    let body =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) });
    (
        [(axum::http::header::CONTENT_TYPE, "text/event-stream")],
        axum::body::Body::from_stream(body),
    )
        .into_response()
}

async fn start(stream: bool) -> (String, Fake, mpsc::UnboundedReceiver<Conn>) {
    let (conns, conns_rx) = mpsc::unbounded_channel();
    let fake = Fake {
        timeline: Arc::new(Mutex::new((1..=3).map(status).collect())),
        conns,
        stream,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/api/v1/timelines/tag/{tag}", axum::routing::get(timeline))
        .route("/api/v1/streaming/hashtag", axum::routing::get(streaming))
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, fake, conns_rx)
}

fn update(id: u64) -> Bytes {
    Bytes::from(format!("event: update\ndata: {}\n\n", status(id)))
}

async fn take(rx: &mut mpsc::Receiver<Batch>, n: usize) -> Vec<Heard> {
    let mut got = vec![];
    while got.len() < n {
        let b = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("in time")
            .expect("running");
        got.extend(b.heard);
    }
    got
}

fn numbers(heard: &[Heard]) -> Vec<String> {
    heard
        .iter()
        .map(|h| h.item.external_id.rsplit('/').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_hashtag_stream_catches_up_after_a_drop_and_delivers_each_status_once() {
    let (base, fake, mut conns) = start(true).await;
    let (tx, mut rx) = mpsc::channel::<Batch>(4);
    let running = MastodonStream::new(&tag_source(&base, "#bakkerij"), None, fast())
        .unwrap()
        .spawn(String::new(), tx);

    // The stream opens, then the newest page is read.
    let conn = conns.recv().await.unwrap();
    let got = take(&mut rx, 3).await;
    assert_eq!(numbers(&got), ["1", "2", "3"]);
    let h = &got[0];
    assert_eq!(
        h.item.external_id,
        "https://m.example/users/anna/statuses/1"
    );
    assert_eq!(h.item.text, "Bericht 1 over #bakkerij");
    assert_eq!(h.item.author.handle.as_deref(), Some("@anna@m.example"));
    assert_eq!(
        (h.reach, h.langs.clone()),
        (Some(12), vec!["nl".to_owned()])
    );

    // Live: each once, heartbeats ignored.
    fake.timeline.lock().unwrap().extend([status(4), status(5)]);
    for b in [
        update(4),
        update(5),
        update(5),
        Bytes::from_static(b":thump\n\n"),
    ] {
        conn.send(Ok(b)).await.unwrap();
    }
    assert_eq!(numbers(&take(&mut rx, 2).await), ["4", "5"]);
    let mut health = running.health.clone();
    health
        .wait_for(|h| h.status == Status::Connected)
        .await
        .unwrap();

    // Half an event, then the connection is gone: status 6 comes from the
    // catch-up after reconnecting, and once only.
    fake.timeline.lock().unwrap().push(status(6));
    let half = update(6);
    conn.send(Ok(half.slice(..half.len() / 2))).await.unwrap();
    drop(conn);
    let conn = tokio::time::timeout(Duration::from_secs(20), conns.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(numbers(&take(&mut rx, 1).await), ["6"]);
    fake.timeline.lock().unwrap().push(status(7));
    conn.send(Ok(update(6))).await.unwrap();
    conn.send(Ok(update(7))).await.unwrap();
    let got = take(&mut rx, 1).await;
    assert_eq!(numbers(&got), ["7"], "6 is not delivered twice");
    let last = running.health.borrow().clone();
    assert!(last.connects >= 2, "{last:?}");
    assert_eq!(last.delivered, 7);

    // An event larger than the limit drops the connection, not the source.
    let (tx, mut rx2) = mpsc::channel::<Batch>(4);
    let small = StreamOptions {
        max_message_bytes: 512,
        ..fast()
    };
    let running2 = MastodonStream::new(&tag_source(&base, "bakkerij"), None, small)
        .unwrap()
        .spawn("7".into(), tx);
    let conn2 = conns.recv().await.unwrap();
    conn2.send(Ok(update(8))).await.unwrap();
    let mut h2 = running2.health.clone();
    tokio::time::timeout(
        Duration::from_secs(20),
        h2.wait_for(|h| {
            h.reason
                .as_deref()
                .is_some_and(|r| r.contains("larger than"))
        }),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(rx2.try_recv().is_err(), "nothing half-read is delivered");
    drop(running);
}

#[tokio::test]
async fn a_busy_timeline_is_polled_forward_page_by_page() {
    let (base, fake, _conns) = start(false).await;
    let timeline = MastodonTimeline::new(&tag_source(&base, "bakkerij"), None).unwrap();
    let first = timeline.poll("").await.unwrap();
    assert_eq!(first.cursor, "3");
    fake.timeline.lock().unwrap().extend((4..=453).map(status));
    let a = timeline.poll(&first.cursor).await.unwrap();
    assert!(a.more, "ten pages of forty, then the next poll");
    assert_eq!(a.heard.len(), 400);
    let b = timeline.poll(&a.cursor).await.unwrap();
    assert!(!b.more);
    let all: Vec<String> = numbers(&a.heard)
        .into_iter()
        .chain(numbers(&b.heard))
        .collect();
    let want: Vec<String> = (4..=453).map(|i| i.to_string()).collect();
    assert_eq!(all, want, "each once, oldest first");
    // A cursor that is not an id starts afresh rather than failing.
    assert_eq!(timeline.poll("x y").await.unwrap().cursor, "453");
}

#[tokio::test]
async fn without_a_stream_the_timeline_is_polled() {
    let (base, fake, _conns) = start(false).await;
    let (tx, mut rx) = mpsc::channel::<Batch>(4);
    let running = MastodonStream::new(&tag_source(&base, "bakkerij"), None, fast())
        .unwrap()
        .with_poll_interval(Duration::from_millis(100))
        .spawn("2".into(), tx);
    assert_eq!(
        numbers(&take(&mut rx, 1).await),
        ["3"],
        "from the cursor on"
    );
    let mut health = running.health.clone();
    health
        .wait_for(|h| h.status == Status::Polling)
        .await
        .unwrap();
    let reason = health.borrow().reason.clone().unwrap();
    assert!(
        reason.contains("no stream") && reason.contains("404"),
        "{reason}"
    );
    fake.timeline.lock().unwrap().push(status(4));
    assert_eq!(numbers(&take(&mut rx, 1).await), ["4"]);
}

#[tokio::test]
async fn a_hashtag_on_the_mastodon_test_server_is_heard_polled_and_streamed() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    let source = tag_source(&peer.url, "#dialoogtest");
    let timeline = MastodonTimeline::new(&source, None).unwrap();
    let start = timeline.poll("").await.unwrap();
    assert!(start.heard.is_empty(), "{:?}", start.heard);

    let ada = peer
        .post(
            "ada_token",
            &[
                ("status", "Vers brood vanochtend #DialoogTest"),
                ("language", "nl"),
            ],
        )
        .await;
    peer.post("grace_token", &[("status", "zonder de tag")])
        .await;
    let first = timeline.poll(&start.cursor).await.unwrap();
    assert_eq!(first.heard.len(), 1, "{:?}", first.heard);
    let h = &first.heard[0];
    assert!(h.item.url.as_deref().unwrap().contains(&ada));
    assert_eq!(h.item.text, "Vers brood vanochtend #DialoogTest");
    assert_eq!(h.item.author.handle.as_deref(), Some("@ada@localhost"));
    assert_eq!(h.langs, ["nl"]);
    assert!(h.reach.is_some(), "followers are the author's reach");

    let grace = peer
        .post("grace_token", &[("status", "#dialoogtest ook hier")])
        .await;
    let second = timeline.poll(&first.cursor).await.unwrap();
    assert_eq!(second.heard.len(), 1);
    assert!(
        second.heard[0]
            .item
            .url
            .as_deref()
            .unwrap()
            .contains(&grace)
    );
    let none = timeline.poll(&second.cursor).await.unwrap();
    assert!(none.heard.is_empty());
    assert_eq!(none.cursor, second.cursor);

    // The instance's public timeline, its own accounts only.
    let public = SourceSettings::parse(
        SourceKind::MastodonPublic,
        &SourceInput {
            url: peer.url.clone(),
            local: true,
            ..SourceInput::default()
        },
    )
    .unwrap();
    let everyone = MastodonTimeline::new(&public, Some("alan_token"))
        .unwrap()
        .poll("")
        .await
        .unwrap();
    let urls: Vec<&str> = everyone
        .heard
        .iter()
        .filter_map(|h| h.item.url.as_deref())
        .collect();
    assert!(urls.iter().any(|u| u.contains(&ada)), "{urls:?}");
    assert!(urls.iter().any(|u| u.contains(&grace)));

    // The server asks us to slow down: its Retry-After comes along.
    peer.fault(json!({"match": {"path": "/api/v1/timelines/tag/dialoogtest"}, "effect": {"type": "ratelimit"}, "count": 1}))
        .await;
    match timeline.poll(&second.cursor).await {
        Err(ConnectorError::Transient { retry_after, .. }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(300)));
        }
        other => panic!("{other:?}"),
    }

    // Its streaming API: a new status arrives through the stream.
    let (tx, mut rx) = mpsc::channel::<Batch>(4);
    let running = MastodonStream::new(&source, None, fast())
        .unwrap()
        .spawn(second.cursor.clone(), tx);
    let mut health = running.health.clone();
    tokio::time::timeout(
        Duration::from_secs(20),
        health.wait_for(|h| h.status == Status::Connected),
    )
    .await
    .unwrap()
    .unwrap();
    let live = peer
        .post("katherine_token", &[("status", "Live #dialoogtest")])
        .await;
    let got = take(&mut rx, 1).await;
    assert!(got[0].item.url.as_deref().unwrap().contains(&live));
    assert_eq!(got[0].item.text, "Live #dialoogtest");
}
