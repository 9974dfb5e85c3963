//! The stream runner against a loopback Jetstream replay server that
//! speaks Jetstream's wire format (JSON events over a WebSocket, replayed
//! from the `cursor` a client asks for, then followed live), dropping a
//! connection in the middle of a message where told. Two workspaces listen
//! to the same firehose through one connection; what the queries find is
//! stored once, the cursor is saved, a drop loses and doubles nothing, an
//! edited query takes effect mid-stream (bursts and a full disk are in
//! `listen_burst`), and pausing and
//! removing sources stops the stream. An unreachable firehose shows as
//! failing; a Mastodon hashtag set to stream is heard from the Mastodon
//! test server, and polled where the instance refuses streaming.

use dialoog_engine::listen_sources::settle_source;
use dialoog_engine::listen_streams::{Streams, StreamsConfig};
use dialoog_engine::listening::Pipeline;
use dialoog_networks::listen::{SourceInput, StreamOptions};
use dialoog_store::{MentionFilter, Source, Store};
use serde_json::json;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex as AsyncMutex;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

use crate::support::{World, now};

pub(crate) const T0: i64 = 1_795_000_000_000_000;

/// What the server does on a connection, after replaying from the cursor.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Plan {
    /// Sends this many events, then half of the next, then drops.
    DropMidMessage(usize),
    /// Sends everything, then follows what is appended.
    Follow,
}

/// A loopback Jetstream: events (sorted by `time_us`) that tests append
/// to, a plan per connection, and the query of every connection.
#[derive(Clone)]
pub(crate) struct Replay {
    pub(crate) url: String,
    events: Arc<Mutex<Vec<(i64, String)>>>,
    plans: Arc<Mutex<VecDeque<Plan>>>,
    queries: Arc<Mutex<Vec<String>>>,
}

pub(crate) fn commit(i: usize, time_us: i64, text: &str) -> (i64, String) {
    let ev = json!({
        "did": format!("did:plc:user{}", i % 53),
        "time_us": time_us,
        "kind": "commit",
        "commit": {"rev": "3lbx", "operation": "create", "collection": "app.bsky.feed.post",
            "rkey": format!("3k{i:08}"), "cid": "bafyreib",
            "record": {"$type": "app.bsky.feed.post", "text": text,
                "createdAt": "2026-11-20T10:00:00.000Z", "langs": ["nl"]}}
    });
    (time_us, ev.to_string())
}

fn identity(time_us: i64) -> (i64, String) {
    let ev = json!({"did": "did:plc:x", "time_us": time_us, "kind": "identity",
        "identity": {"did": "did:plc:x", "handle": "x.test", "seq": 1, "time": "2026-11-20T10:00:00Z"}});
    (time_us, ev.to_string())
}

/// A text only one post has (so no two are near-copies), about the
/// bakery when `brand`.
pub(crate) fn text(i: usize, brand: bool, extra: &str) -> String {
    let words: String = (0..8)
        .map(|k| format!("w{:x}{k}", (i * 7919 + k * 104_729) % 1_000_003))
        .collect::<Vec<_>>()
        .join(" ");
    if brand {
        format!("Bakkerij De Vries {extra} {words}")
    } else {
        format!("vandaag {extra} {words}")
    }
}

impl Replay {
    pub(crate) async fn start(plans: Vec<Plan>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let r = Replay {
            url: format!("ws://{}/subscribe", listener.local_addr().unwrap()),
            events: Arc::default(),
            plans: Arc::new(Mutex::new(plans.into())),
            queries: Arc::default(),
        };
        let me = r.clone();
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let me = me.clone();
                tokio::spawn(async move { me.connection(tcp).await });
            }
        });
        r
    }

    pub(crate) fn push(&self, e: (i64, String)) {
        self.events.lock().unwrap().push(e);
    }

    pub(crate) fn connections(&self) -> usize {
        self.queries.lock().unwrap().len()
    }

    async fn connection(&self, tcp: tokio::net::TcpStream) {
        let mut query = String::new();
        // The handshake callback's signature is tungstenite's own.
        #[allow(clippy::result_large_err)]
        let cb = |req: &Request, resp: Response| {
            query = req.uri().query().unwrap_or_default().to_owned();
            Ok(resp)
        };
        let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, cb).await else {
            return;
        };
        self.queries.lock().unwrap().push(query.clone());
        let plan = self
            .plans
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Plan::Follow);
        let cursor = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("cursor="))
            .and_then(|c| c.parse::<i64>().ok())
            .unwrap_or(0);
        let mut next = {
            let ev = self.events.lock().unwrap();
            ev.partition_point(|e| e.0 < cursor)
        };
        let mut sent = 0usize;
        use futures_util::{SinkExt, StreamExt};
        loop {
            let todo: Vec<String> = {
                let ev = self.events.lock().unwrap();
                ev[next.min(ev.len())..]
                    .iter()
                    .map(|e| e.1.clone())
                    .collect()
            };
            next += todo.len();
            for json in todo {
                if let Plan::DropMidMessage(k) = plan
                    && sent == k
                {
                    // A frame header promising the whole event, half of it,
                    // and the connection is gone.
                    let bytes = json.as_bytes();
                    let mut frame = vec![0x81u8, 126];
                    frame.extend_from_slice(&u16::try_from(bytes.len()).unwrap().to_be_bytes());
                    frame.extend_from_slice(&bytes[..bytes.len() / 2]);
                    let _ = ws.flush().await;
                    let tcp = ws.get_mut();
                    let _ = tcp.write_all(&frame).await;
                    let _ = tcp.flush().await;
                    return;
                }
                if ws.feed(Message::text(json)).await.is_err() {
                    return;
                }
                sent += 1;
                if sent.is_multiple_of(200) && ws.flush().await.is_err() {
                    return;
                }
            }
            if ws.flush().await.is_err() {
                return;
            }
            // Follow: wait for more, and notice a client that went.
            if let Ok(None | Some(Err(_))) =
                tokio::time::timeout(Duration::from_millis(10), ws.next()).await
            {
                return;
            }
        }
    }
}

pub(crate) fn fast() -> StreamsConfig {
    StreamsConfig {
        reconcile: Duration::from_millis(50),
        queue: 2,
        opts: StreamOptions {
            batch_max: 200,
            batch_wait: Duration::from_millis(20),
            idle_timeout: Duration::from_secs(20),
            backoff_min: Duration::from_millis(50),
            backoff_max: Duration::from_millis(200),
            slow_after: Duration::from_millis(20),
            ..StreamOptions::default()
        },
        retry: Duration::from_millis(50),
        health_every: Duration::from_millis(200),
        failing_after: Duration::from_secs(30),
    }
}

pub(crate) async fn jetstream_source(store: &Store, ws: i64, url: &str) -> Source {
    let settled = settle_source(
        "jetstream",
        &SourceInput {
            url: url.into(),
            ..SourceInput::default()
        },
    )
    .unwrap();
    assert!(settled.streamed, "the firehose always streams");
    store
        .create_source_with(
            ws,
            &settled.kind,
            &settled.target,
            &settled.name,
            settled.streamed,
            now(),
        )
        .await
        .unwrap()
}

/// How many mentions a workspace has (originals and copies).
pub(crate) async fn count(store: &Store, ws: i64) -> i64 {
    let f = store
        .mention_facets(ws, &MentionFilter::default())
        .await
        .unwrap();
    f.sentiment.iter().map(|s| s.1).sum()
}

/// Reconciles until `done` holds (or fails after 60 s).
pub(crate) async fn until<F, Fut>(streams: &mut Streams, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        streams.reconcile().await.unwrap();
        if done().await {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

async fn the_firehose_is_heard_once_per_workspace_through_one_stream(store: Store) {
    let w = World::new(store.clone()).await;
    let t = now();
    let q = store
        .create_listening_query(w.ws, "Merk", "\"de vries\"", "brand", t)
        .await
        .unwrap();
    let ws2 = store
        .create_workspace("Tweede", "Europe/Amsterdam", w.author, t)
        .await
        .unwrap()
        .id;
    store
        .create_listening_query(ws2, "Weer", "regen", "topic", t)
        .await
        .unwrap();

    // 3,000 posts (every tenth about the bakery, every 25th about rain)
    // and some identity events; the first connection drops mid-message
    // after 1,234 events.
    const N: usize = 3000;
    let server = Replay::start(vec![Plan::DropMidMessage(1234)]).await;
    let mut time = T0;
    for i in 0..N {
        time += 100;
        if i % 97 == 0 {
            server.push(identity(time));
            time += 100;
        }
        let extra = if i % 25 == 0 { "regen" } else { "" };
        server.push(commit(i, time, &text(i, i % 10 == 0, extra)));
    }
    let last_us = time;

    let a = jetstream_source(&store, w.ws, &server.url).await;
    let b = jetstream_source(&store, ws2, &server.url).await;
    let (ws1, aid, bid) = (w.ws, a.id, b.id);
    assert!(
        store
            .claim_due_sources(now(), now() + 60_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "streamed sources are not polled"
    );
    let pipeline = Arc::new(AsyncMutex::new(
        Pipeline::new(store.clone(), t).await.unwrap(),
    ));
    let mut streams = Streams::new(store.clone(), pipeline.clone(), fast());
    until(&mut streams, "the whole replay stored", || {
        let store = store.clone();
        async move {
            let s = store.source(ws1, aid).await.unwrap();
            s.cursor == last_us.to_string()
        }
    })
    .await;
    assert_eq!(streams.running(), 1, "one stream for both workspaces");
    assert_eq!(server.connections(), 2, "one drop, one reconnect");
    let second = server.queries.lock().unwrap()[1].clone();
    assert!(
        second.contains("cursor="),
        "resumed from the cursor: {second}"
    );
    assert!(second.contains("wantedCollections=app.bsky.feed.post"));

    // Nothing lost, nothing doubled.
    assert_eq!(count(&store, ws1).await, (N / 10) as i64);
    assert_eq!(count(&store, ws2).await, (N / 25) as i64);
    let sa = store.source(ws1, aid).await.unwrap();
    let sb = store.source(ws2, bid).await.unwrap();
    assert_eq!(sa.fetched_total, N as i64, "every post heard once");
    assert_eq!(sb.fetched_total, N as i64);
    assert_eq!(sa.stored_total, (N / 10) as i64);
    assert_eq!(sb.stored_total, (N / 25) as i64);
    assert_eq!(sb.cursor, last_us.to_string());
    let m = store
        .mentions(w.ws, &MentionFilter::default(), 1)
        .await
        .unwrap();
    assert_eq!(m[0].source_kind, "jetstream");
    assert!(
        m[0].url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://bsky.app/profile/did:plc:user"))
    );

    // Health on both rows: connected, with what was heard last minute.
    until(&mut streams, "health written", || {
        let store = store.clone();
        async move {
            let s = store.source(ws1, aid).await.unwrap();
            s.status == "ok" && s.live_status == "connected" && s.live_at.is_some()
        }
    })
    .await;
    let sb = store.source(ws2, bid).await.unwrap();
    assert_eq!(
        (sb.status.as_str(), sb.live_status.as_str()),
        ("ok", "connected")
    );
    assert!(sb.per_minute >= N as i64, "{}", sb.per_minute);

    // The query is edited mid-stream: new posts are matched by the new one.
    store
        .update_listening_query(
            w.ws,
            q.id,
            "Merk",
            "\"de vries\" OR croissant",
            "brand",
            t + 5,
        )
        .await
        .unwrap();
    for i in N..N + 50 {
        time += 100;
        server.push(commit(i, time, &text(i, false, "croissant")));
    }
    let end_us = time;
    until(&mut streams, "the edited query's finds", || {
        let store = store.clone();
        async move { count(&store, ws1).await == (N / 10 + 50) as i64 }
    })
    .await;
    until(&mut streams, "the cursor after them", || {
        let store = store.clone();
        async move { store.source(ws1, aid).await.unwrap().cursor == end_us.to_string() }
    })
    .await;
    assert_eq!(count(&store, ws2).await, (N / 25) as i64);

    // Paused, the second workspace hears nothing more; the stream goes on.
    store.pause_source(ws2, bid, true, now()).await.unwrap();
    streams.reconcile().await.unwrap();
    for i in N + 50..N + 60 {
        time += 100;
        server.push(commit(i, time, &text(i, true, "regen")));
    }
    let end_us = time;
    until(&mut streams, "the first workspace hears on", || {
        let store = store.clone();
        async move { store.source(ws1, aid).await.unwrap().cursor == end_us.to_string() }
    })
    .await;
    assert_eq!(count(&store, ws1).await, (N / 10 + 60) as i64);
    assert_eq!(count(&store, ws2).await, (N / 25) as i64);
    let sb = store.source(ws2, bid).await.unwrap();
    assert_eq!(sb.status, "paused");
    assert_ne!(sb.cursor, end_us.to_string());
    assert_eq!(server.connections(), 2, "the same stream throughout");

    // No listeners left: the stream stops.
    store.delete_source(ws1, aid).await.unwrap();
    streams.reconcile().await.unwrap();
    assert_eq!(streams.running(), 0);
}

fn mastodon_status(id: u64) -> serde_json::Value {
    json!({
        "id": id.to_string(),
        "uri": format!("https://m.example/users/anna/statuses/{id}"),
        "url": format!("https://m.example/@anna/{id}"),
        "created_at": "2026-11-20T10:00:00.000Z",
        "content": format!("<p>Bericht {id} over brood van <a href=\"https://m.example/tags/bakkerij\">#<span>bakkerij</span></a></p>"),
        "spoiler_text": "",
        "language": "nl",
        "visibility": "public",
        "account": {"id": "9", "acct": "anna", "username": "anna", "display_name": "Anna",
            "url": "https://m.example/@anna", "uri": "https://m.example/users/anna", "followers_count": 12},
        "media_attachments": [],
        "reblog": null
    })
}

async fn mastodon_source(store: &Store, ws: i64, url: &str, tag: &str) -> Source {
    let settled = dialoog_engine::listen_sources::settle_source_with(
        "mastodon_tag",
        &SourceInput {
            url: url.into(),
            tag: tag.into(),
            ..SourceInput::default()
        },
        true,
    )
    .unwrap();
    assert!(settled.streamed);
    store
        .create_source_with(
            ws,
            &settled.kind,
            &settled.target,
            &settled.name,
            true,
            now(),
        )
        .await
        .unwrap()
}

/// A Mastodon hashtag set to stream, on an instance that refuses its
/// streaming endpoint (404): the stream polls the timeline instead, the
/// source works and says it is polling, and what it heard is stored.
async fn a_mastodon_stream_that_is_refused_is_polled(store: Store) {
    use axum::routing::get;
    let w = World::new(store.clone()).await;
    store
        .create_listening_query(w.ws, "Brood", "brood", "topic", now())
        .await
        .unwrap();
    let statuses: Vec<serde_json::Value> = (1..=3).map(mastodon_status).collect();
    let app = axum::Router::new()
        .route(
            "/api/v1/timelines/tag/{tag}",
            get(move || {
                let page: Vec<serde_json::Value> = statuses.iter().rev().cloned().collect();
                async move { axum::Json(page) }
            }),
        )
        .route(
            "/api/v1/streaming/hashtag",
            get(|| async { axum::http::StatusCode::NOT_FOUND }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let a = mastodon_source(&store, w.ws, &url, "bakkerij").await;
    let (ws1, aid) = (w.ws, a.id);
    let pipeline = Arc::new(AsyncMutex::new(
        Pipeline::new(store.clone(), now()).await.unwrap(),
    ));
    let mut streams = Streams::new(store.clone(), pipeline, fast());
    until(&mut streams, "polled instead", || {
        let store = store.clone();
        async move {
            let s = store.source(ws1, aid).await.unwrap();
            s.live_status == "polling" && s.stored_total == 3
        }
    })
    .await;
    let s = store.source(ws1, aid).await.unwrap();
    assert_eq!(s.status, "ok");
    assert!(s.reason.contains("404"), "{}", s.reason);
    assert_eq!(s.cursor, "3");
    assert_eq!(count(&store, ws1).await, 3);
}

/// A hashtag streamed from the real Mastodon test server: a status posted
/// after the stream connected is stored as a mention.
#[tokio::test]
async fn a_hashtag_streamed_from_the_mastodon_test_server() {
    let Some(peer) = dialoog_networks::testing::MastodonPeer::start().await else {
        return;
    };
    let db = dialoog_store::testing::TestDb::sqlite().await;
    let store = db.store.clone();
    let w = World::new(store.clone()).await;
    store
        .create_listening_query(w.ws, "Brood", "brood", "topic", now())
        .await
        .unwrap();
    let a = mastodon_source(&store, w.ws, &peer.url, "dialoogstroom").await;
    let (ws1, aid) = (w.ws, a.id);
    let pipeline = Arc::new(AsyncMutex::new(
        Pipeline::new(store.clone(), now()).await.unwrap(),
    ));
    let mut streams = Streams::new(store.clone(), pipeline, fast());
    until(&mut streams, "connected", || {
        let store = store.clone();
        async move { store.source(ws1, aid).await.unwrap().live_status == "connected" }
    })
    .await;
    let posted = peer
        .post(
            "ada_token",
            &[
                ("status", "Vers brood vanochtend #DialoogStroom"),
                ("language", "nl"),
            ],
        )
        .await;
    until(&mut streams, "the live status stored", || {
        let store = store.clone();
        async move { count(&store, ws1).await == 1 }
    })
    .await;
    let m = store
        .mentions(ws1, &MentionFilter::default(), 1)
        .await
        .unwrap();
    assert!(m[0].url.as_deref().unwrap().contains(&posted), "{m:?}");
    assert_eq!(m[0].source_kind, "mastodon_tag");
    let s = store.source(ws1, aid).await.unwrap();
    assert_eq!((s.status.as_str(), s.stored_total), ("ok", 1));
    assert!(!s.cursor.is_empty());
    streams.stop_all();
}

/// A firehose that cannot be reached: the stream keeps trying with
/// back-off, and once it has been reconnecting for longer than allowed its
/// sources say they are failing, and why.
async fn an_unreachable_firehose_shows_as_failing(store: Store) {
    let w = World::new(store.clone()).await;
    // A port nothing listens on.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/subscribe", closed.local_addr().unwrap());
    drop(closed);
    let a = jetstream_source(&store, w.ws, &url).await;
    let (ws1, aid) = (w.ws, a.id);
    let pipeline = Arc::new(AsyncMutex::new(
        Pipeline::new(store.clone(), now()).await.unwrap(),
    ));
    let cfg = StreamsConfig {
        failing_after: Duration::from_millis(300),
        ..fast()
    };
    let mut streams = Streams::new(store.clone(), pipeline, cfg);
    until(&mut streams, "failing", || {
        let store = store.clone();
        async move { store.source(ws1, aid).await.unwrap().status == "failing" }
    })
    .await;
    let s = store.source(ws1, aid).await.unwrap();
    assert_eq!(s.live_status, "reconnecting");
    assert!(s.reason.contains("could not be reached"), "{}", s.reason);
    assert!(s.failing_since.is_some());
    assert!(s.cursor.is_empty());
    assert_eq!(streams.running(), 1, "it keeps trying");
}

/// After a restart the stream resumes from the cursor its source saved (a
/// little before it, as Jetstream is asked): what was said meanwhile is
/// heard, and what comes twice is stored once.
async fn a_restart_resumes_from_the_saved_cursor(store: Store) {
    let w = World::new(store.clone()).await;
    store
        .create_listening_query(w.ws, "Merk", "\"de vries\"", "brand", now())
        .await
        .unwrap();
    let server = Replay::start(vec![]).await;
    let mut time = T0;
    for i in 0..500 {
        time += 10_000;
        server.push(commit(i, time, &text(i, i % 5 == 0, "")));
    }
    let first_end = time;
    let a = jetstream_source(&store, w.ws, &server.url).await;
    let (ws1, aid) = (w.ws, a.id);
    let pipeline = Arc::new(AsyncMutex::new(
        Pipeline::new(store.clone(), now()).await.unwrap(),
    ));
    let mut streams = Streams::new(store.clone(), pipeline.clone(), fast());
    until(&mut streams, "the first run stored", || {
        let store = store.clone();
        async move { store.source(ws1, aid).await.unwrap().cursor == first_end.to_string() }
    })
    .await;
    streams.stop_all();
    drop(streams);
    // Said while the process was down.
    for i in 500..600 {
        time += 10_000;
        server.push(commit(i, time, &text(i, i % 5 == 0, "")));
    }
    let end = time;
    let mut streams = Streams::new(store.clone(), pipeline, fast());
    until(&mut streams, "the second run stored", || {
        let store = store.clone();
        async move { store.source(ws1, aid).await.unwrap().cursor == end.to_string() }
    })
    .await;
    let queries = server.queries.lock().unwrap().clone();
    assert_eq!(queries.len(), 2, "{queries:?}");
    let rewound = first_end - 2_000_000;
    assert!(
        queries[1].contains(&format!("cursor={rewound}")),
        "{queries:?}"
    );
    assert_eq!(count(&store, ws1).await, 120);
    let s = store.source(ws1, aid).await.unwrap();
    assert_eq!(s.stored_total, 120, "each once");
    assert!(s.fetched_total >= 600);
}

dialoog_store::both_backends!(
    the_firehose_is_heard_once_per_workspace_through_one_stream,
    a_mastodon_stream_that_is_refused_is_polled,
    an_unreachable_firehose_shows_as_failing,
    a_restart_resumes_from_the_saved_cursor,
);
