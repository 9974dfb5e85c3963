//! Listening end to end over a loopback feed: the brand's query finds a
//! negative Dutch post, its repost counts on it as a copy, posts the query
//! does not find are not stored, a feed fetched again stores nothing twice,
//! and a broken feed keeps its cursor and says why.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use dialoog_engine::listen_sources::{settle_source, sync_source};
use dialoog_engine::listening::Pipeline;
use dialoog_networks::listen::SourceInput;
use dialoog_store::{MentionFilter, Store};
use std::sync::{Arc, Mutex};
use tokio::sync::Mutex as AsyncMutex;

use crate::support::{World, now};

fn item(id: &str, title: &str, body: &str) -> String {
    format!(
        "<item><guid>https://forum.example/t/{id}</guid><link>https://forum.example/t/{id}</link>\
         <title>{title}</title><description>{body}</description>\
         <pubDate>Tue, 01 Dec 2026 10:00:00 GMT</pubDate></item>"
    )
}

pub fn rss(items: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Forum</title>\
         <link>https://forum.example/</link>{}</channel></rss>",
        items.concat()
    )
}

pub async fn serve(body: Arc<Mutex<(StatusCode, String)>>) -> String {
    async fn feed(State(b): State<Arc<Mutex<(StatusCode, String)>>>) -> impl IntoResponse {
        let (status, text) = b.lock().unwrap().clone();
        (
            status,
            [(header::CONTENT_TYPE, "application/rss+xml")],
            text,
        )
    }
    let app = axum::Router::new()
        .route("/feed.xml", get(feed))
        .with_state(body);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/feed.xml")
}

async fn a_negative_post_about_the_brand_is_heard_once(store: Store) {
    let w = World::new(store.clone()).await;
    let t = now();
    store
        .create_listening_query(w.ws, "Merk", "\"de vries\" OR #bakkerijdevries", "brand", t)
        .await
        .unwrap();
    let angry = "Wat een slechte service bij Bakkerij De Vries. Nooit meer!";
    let body = Arc::new(Mutex::new((
        StatusCode::OK,
        rss(&[
            item("1", "Klacht", angry),
            item("2", "Klacht", &format!("RT {angry}")),
            item("3", "Weer", "Het regent vandaag in Utrecht"),
        ]),
    )));
    let url = serve(body.clone()).await;
    let input = |url: &str| SourceInput {
        url: url.into(),
        ..SourceInput::default()
    };
    assert!(settle_source("rss", &input("not a url")).is_err());
    assert!(settle_source("telepathy", &input(&url)).is_err());
    let settled = settle_source("rss", &input(&format!("  {url} "))).unwrap();
    assert_eq!(
        settled.target,
        format!("{{\"kind\":\"rss\",\"url\":\"{url}\"}}")
    );
    let source = store
        .create_source(w.ws, &settled.kind, &settled.target, &settled.name, t)
        .await
        .unwrap();
    let pipeline = AsyncMutex::new(Pipeline::new(store.clone(), t).await.unwrap());

    let got = sync_source(&store, &pipeline, &source, t).await.unwrap();
    assert_eq!((got.fetched, got.stored), (3, 1));
    let mentions = store
        .mentions(w.ws, &MentionFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(mentions.len(), 1, "{mentions:?}");
    let m = &mentions[0];
    assert_eq!(
        (
            m.sentiment.as_str(),
            m.lang.as_deref(),
            m.copies,
            m.url.as_deref()
        ),
        ("negative", Some("nl"), 2, Some("https://forum.example/t/1"))
    );
    assert!(m.score < 0.0);

    // The same feed again (no ETag here): nothing stored twice.
    let source = store.source(w.ws, source.id).await.unwrap();
    let again = sync_source(&store, &pipeline, &source, t + 1)
        .await
        .unwrap();
    assert_eq!(again.stored, 0);
    assert_eq!(
        store
            .mentions(w.ws, &MentionFilter::default(), 10)
            .await
            .unwrap()[0]
            .copies,
        2
    );

    // A new query is picked up without a restart.
    store
        .create_listening_query(w.ws, "Weer", "regent", "topic", t + 2)
        .await
        .unwrap();
    sync_source(&store, &pipeline, &source, t + 3)
        .await
        .unwrap();
    assert_eq!(
        store
            .mentions(w.ws, &MentionFilter::default(), 10)
            .await
            .unwrap()
            .len(),
        2
    );

    // A broken feed keeps the cursor and says why; it is tried again.
    *body.lock().unwrap() = (StatusCode::INTERNAL_SERVER_ERROR, "kapot".into());
    let before = store.source(w.ws, source.id).await.unwrap();
    assert!(
        sync_source(&store, &pipeline, &before, t + 4)
            .await
            .is_err()
    );
    let after = store.source(w.ws, source.id).await.unwrap();
    assert_eq!(after.status, "failing");
    assert!(!after.reason.is_empty());
    assert_eq!(after.cursor, before.cursor);
    assert!(after.next_at > t + 4);
    assert_eq!(after.stored_total, 2);
}

fn inbound(id: &str, kind: &str, text: &str) -> dialoog_store::NewItem {
    dialoog_store::NewItem {
        external_id: id.into(),
        kind: kind.into(),
        author_id: "did:plc:piet".into(),
        author_name: "Piet".into(),
        author_handle: Some("piet.example".into()),
        thread_ref: None,
        in_reply_to: None,
        text: text.into(),
        url: None,
        published_at: Some(now()),
        media: "[]".into(),
        lang: Some("nl".into()),
        sentiment: None,
        score: None,
    }
}

/// A connected channel's own mentions and comments (what its inbox sync
/// stored) go through the pipeline once the team switches its source on:
/// what a query finds is stored once, private messages are not heard,
/// `source:` names the channel's network, and the cursor moves past what
/// was read.
async fn a_channels_own_mentions_are_heard(store: Store) {
    use dialoog_engine::listen_sources::settle_channel_source;
    let w = World::new(store.clone()).await;
    let t = now();
    store
        .create_listening_query(w.ws, "Merk", "\"de vries\" AND source:bluesky", "brand", t)
        .await
        .unwrap();
    let channel = store
        .create_channel(w.ws, "bluesky", "Bakkerij", b"sealed", t)
        .await
        .unwrap();
    store
        .insert_items(
            channel.id,
            &[
                inbound(
                    "at://did:plc:piet/app.bsky.feed.post/1",
                    "mention",
                    "Top taart bij @bakkerij De Vries!",
                ),
                inbound("dm-1", "direct_message", "De Vries, mijn bestelling?"),
                inbound(
                    "at://did:plc:piet/app.bsky.feed.post/2",
                    "comment",
                    "Over het weer",
                ),
            ],
            t,
        )
        .await
        .unwrap();
    let settled = settle_channel_source(&channel);
    let source = store
        .create_source(w.ws, &settled.kind, &settled.target, &settled.name, t)
        .await
        .unwrap();
    let pipeline = AsyncMutex::new(Pipeline::new(store.clone(), t).await.unwrap());
    let got = sync_source(&store, &pipeline, &source, t).await.unwrap();
    assert_eq!(
        (got.fetched, got.stored),
        (2, 1),
        "mentions and comments, not messages"
    );
    let m = store
        .mentions(w.ws, &MentionFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].source_kind, "channel");
    let after = store.source(w.ws, source.id).await.unwrap();
    assert_eq!(after.status, "ok");
    assert!(after.cursor.parse::<i64>().unwrap() > 0);
    let again = sync_source(&store, &pipeline, &after, t + 1).await.unwrap();
    assert_eq!((again.fetched, again.stored), (0, 0));

    // The channel goes: its source says so and waits.
    store.delete_channel(w.ws, channel.id).await.unwrap();
    let gone = store.source(w.ws, source.id).await.unwrap();
    assert!(sync_source(&store, &pipeline, &gone, t + 2).await.is_err());
    let gone = store.source(w.ws, source.id).await.unwrap();
    assert_eq!(gone.status, "failing");
    assert!(
        gone.reason.contains("no longer connected"),
        "{}",
        gone.reason
    );
}

dialoog_store::both_backends!(
    a_negative_post_about_the_brand_is_heard_once,
    a_channels_own_mentions_are_heard,
);
