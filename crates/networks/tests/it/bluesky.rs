//! The Bluesky connector against a loopback fake of the XRPC methods a bare
//! PDS cannot answer without an AppView (notifications, post views), and the
//! failures no real server produces on demand: expired sessions, rate
//! limits, garbage. (Publishing against a real PDS: `bluesky_pds.rs`.)

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use dialoog_networks::bluesky::BlueskyConnector;
use dialoog_networks::{Connector, ConnectorError, ItemKind};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Fake {
    /// Newest first, as the AppView lists them.
    notifications: Vec<Value>,
    /// The access token currently valid.
    access: String,
    sessions: usize,
    refreshes: usize,
    /// Answers to give instead, once each, by method.
    faults: HashMap<String, (u16, HeaderMap, String)>,
}

type Shared = Arc<Mutex<Fake>>;

fn notification(n: usize, reason: &str, text: &str, reply_to: Option<&str>) -> Value {
    let mut record = json!({"$type": "app.bsky.feed.post", "text": text, "createdAt": format!("2026-12-01T10:{:02}:00.000Z", n % 60)});
    if let Some(parent) = reply_to {
        record["reply"] = json!({"root": {"uri": parent, "cid": "bafyroot"}, "parent": {"uri": parent, "cid": "bafyroot"}});
    }
    json!({
        "uri": format!("at://did:plc:klant{n}/app.bsky.feed.post/3kp{n:010}"),
        "cid": format!("bafy{n}"),
        "author": {"did": format!("did:plc:klant{n}"), "handle": format!("klant{n}.bsky.social"), "displayName": format!("Klant {n}")},
        "reason": reason,
        "record": record,
        "isRead": false,
        "indexedAt": format!("2026-12-01T10:00:{:02}.{:03}Z", n / 1000, n % 1000),
    })
}

fn fault(s: &Shared, method: &str) -> Option<Response> {
    let (status, headers, body) = s.lock().unwrap().faults.remove(method)?;
    Some((StatusCode::from_u16(status).unwrap(), headers, body).into_response())
}

fn authorised(s: &Shared, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let sent = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if sent == format!("Bearer {}", s.lock().unwrap().access) {
        return Ok(());
    }
    let expired = json!({"error": "ExpiredToken", "message": "Token has expired"});
    Err(Box::new(
        (StatusCode::BAD_REQUEST, Json(expired)).into_response(),
    ))
}

async fn create_session(State(s): State<Shared>, Json(body): Json<Value>) -> Response {
    if let Some(r) = fault(&s, "createSession") {
        return r;
    }
    if body["password"] != "abcd-efgh-ijkl-mnop" {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "AuthenticationRequired", "message": "Invalid identifier or password"}))).into_response();
    }
    let mut f = s.lock().unwrap();
    f.sessions += 1;
    f.access = format!("access-{}", f.sessions);
    Json(json!({"accessJwt": f.access, "refreshJwt": "refresh-1", "did": "did:plc:bakkerij", "handle": "bakkerij.bsky.social"})).into_response()
}

async fn refresh_session(State(s): State<Shared>, headers: HeaderMap) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer refresh-1") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "InvalidToken"})),
        )
            .into_response();
    }
    let mut f = s.lock().unwrap();
    f.refreshes += 1;
    f.access = format!("refreshed-{}", f.refreshes);
    Json(json!({"accessJwt": f.access, "refreshJwt": "refresh-1", "did": "did:plc:bakkerij", "handle": "bakkerij.bsky.social"})).into_response()
}

async fn list_notifications(
    State(s): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = fault(&s, "listNotifications") {
        return r;
    }
    if let Err(r) = authorised(&s, &headers) {
        return *r;
    }
    let f = s.lock().unwrap();
    let limit: usize = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(50)
        .min(100);
    let start: usize = q.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = f
        .notifications
        .iter()
        .skip(start)
        .take(limit)
        .cloned()
        .collect();
    let mut body = json!({"notifications": page});
    if start + limit < f.notifications.len() {
        body["cursor"] = json!((start + limit).to_string());
    }
    Json(body).into_response()
}

async fn get_posts(State(s): State<Shared>, headers: HeaderMap) -> Response {
    if let Err(r) = authorised(&s, &headers) {
        return *r;
    }
    Json(json!({"posts": [{"uri": "at://did:plc:bakkerij/app.bsky.feed.post/3kx", "cid": "bafyx", "likeCount": 12, "repostCount": 3, "replyCount": 2, "quoteCount": 1}]})).into_response()
}

async fn start(fake: Fake) -> (String, Shared) {
    let shared: Shared = Arc::new(Mutex::new(fake));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route(
            "/xrpc/com.atproto.server.createSession",
            axum::routing::post(create_session),
        )
        .route(
            "/xrpc/com.atproto.server.refreshSession",
            axum::routing::post(refresh_session),
        )
        .route(
            "/xrpc/app.bsky.notification.listNotifications",
            axum::routing::get(list_notifications),
        )
        .route(
            "/xrpc/app.bsky.feed.getPosts",
            axum::routing::get(get_posts),
        )
        .with_state(shared.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, shared)
}

fn connector(url: &str) -> BlueskyConnector {
    BlueskyConnector::new(url, "bakkerij.bsky.social", "abcd-efgh-ijkl-mnop").unwrap()
}

#[tokio::test]
async fn mentions_replies_and_quotes_arrive_from_the_notifications() {
    let (url, fake) = start(Fake::default()).await;
    {
        let mut f = fake.lock().unwrap();
        f.notifications = vec![
            notification(3, "quote", "Kijk wat @bakkerij.bsky.social zegt", None),
            notification(2, "like", "", None),
            notification(
                1,
                "reply",
                "Waarom is mijn bestelling zo laat? Slechte service",
                Some("at://did:plc:bakkerij/app.bsky.feed.post/3kours"),
            ),
        ];
    }
    let c = connector(&url);
    assert_eq!(c.check().await.unwrap(), "@bakkerij.bsky.social");
    let first = c.fetch("").await.unwrap();
    let kinds: Vec<ItemKind> = first.items.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        [ItemKind::Comment, ItemKind::Mention],
        "likes are no items; oldest first"
    );
    let reply = &first.items[0];
    assert_eq!(
        reply.external_id,
        "at://did:plc:klant1/app.bsky.feed.post/3kp0000000001"
    );
    assert_eq!(
        reply.thread_ref.as_deref(),
        Some("at://did:plc:bakkerij/app.bsky.feed.post/3kours")
    );
    assert_eq!(
        reply.in_reply_to.as_deref(),
        Some("at://did:plc:bakkerij/app.bsky.feed.post/3kours")
    );
    assert_eq!(reply.author.id, "did:plc:klant1");
    assert_eq!(reply.author.name, "Klant 1");
    assert_eq!(reply.author.handle.as_deref(), Some("@klant1.bsky.social"));
    assert_eq!(
        reply.url.as_deref(),
        Some("https://bsky.app/profile/klant1.bsky.social/post/3kp0000000001")
    );
    assert!(reply.published_at.is_some());

    // Only what is new since: a new mention on top.
    let again = c.fetch(&first.cursor).await.unwrap();
    assert!(again.items.is_empty(), "{:?}", again.items);
    fake.lock().unwrap().notifications.insert(
        0,
        notification(4, "mention", "@bakkerij.bsky.social open op zondag?", None),
    );
    let next = c.fetch(&again.cursor).await.unwrap();
    assert_eq!(next.items.len(), 1);
    assert_eq!(next.items[0].text, "@bakkerij.bsky.social open op zondag?");
    assert_eq!(next.items[0].kind, ItemKind::Mention);
    // A reply that names us comes as a mention; it answers our post, so it is a comment.
    fake.lock().unwrap().notifications.insert(
        0,
        notification(
            5,
            "mention",
            "@bakkerij.bsky.social waar blijft mijn taart?",
            Some("at://did:plc:bakkerij/app.bsky.feed.post/3kours"),
        ),
    );
    let last = c.fetch(&next.cursor).await.unwrap();
    assert_eq!(last.items.len(), 1, "{:?}", last.items);
    assert_eq!(last.items[0].kind, ItemKind::Comment);
    assert_eq!(
        fake.lock().unwrap().sessions,
        1,
        "one sign-in for all of it"
    );
}

#[tokio::test]
async fn many_notifications_are_read_page_by_page() {
    let (url, fake) = start(Fake::default()).await;
    let c = connector(&url);
    let start = c.fetch("").await.unwrap();
    fake.lock().unwrap().notifications = (1..=230)
        .rev()
        .map(|n| notification(n, "mention", &format!("vraag {n}"), None))
        .collect();
    let f = c.fetch(&start.cursor).await.unwrap();
    assert_eq!(f.items.len(), 230);
    assert_eq!(f.items[0].text, "vraag 1", "oldest first");
    assert!(!f.more);
    assert!(c.fetch(&f.cursor).await.unwrap().items.is_empty());

    // More than one sync's budget (1,000): the rest follows at the next
    // sync, and nothing between is skipped.
    let mut all: Vec<Value> = (231..=1330)
        .rev()
        .map(|n| notification(n, "mention", &format!("vraag {n}"), None))
        .collect();
    all.append(&mut fake.lock().unwrap().notifications);
    fake.lock().unwrap().notifications = all;
    let a = c.fetch(&f.cursor).await.unwrap();
    assert!(a.more);
    assert_eq!(a.items.len(), 1000);
    fake.lock()
        .unwrap()
        .notifications
        .insert(0, notification(1331, "mention", "nog eentje", None));
    let b = c.fetch(&a.cursor).await.unwrap();
    assert!(!b.more);
    let c2 = c.fetch(&b.cursor).await.unwrap();
    let mut got: Vec<String> = a
        .items
        .iter()
        .chain(&b.items)
        .chain(&c2.items)
        .map(|i| i.text.clone())
        .collect();
    got.sort();
    got.dedup();
    assert_eq!(
        got.len(),
        1101,
        "vraag 231..=1330 and the new one, each once"
    );
}

#[tokio::test]
async fn an_expired_session_is_refreshed_once_and_failures_are_classified() {
    let (url, fake) = start(Fake::default()).await;
    let c = connector(&url);
    c.check().await.unwrap();
    // The access token expires: refreshed, and the call goes through.
    fake.lock().unwrap().access = "something-else".into();
    let m = c
        .metrics("at://did:plc:bakkerij/app.bsky.feed.post/3kx")
        .await
        .unwrap();
    assert_eq!((m.likes, m.shares, m.replies, m.quotes), (12, 3, 2, 1));
    assert_eq!(fake.lock().unwrap().refreshes, 1);

    let mut limited = HeaderMap::new();
    limited.insert("ratelimit-remaining", "0".parse().unwrap());
    let reset = jiff::Timestamp::now().as_second() + 120;
    limited.insert("ratelimit-reset", reset.to_string().parse().unwrap());
    fake.lock().unwrap().faults.insert(
        "listNotifications".into(),
        (
            429,
            limited,
            r#"{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}"#.into(),
        ),
    );
    match c.fetch("").await {
        Err(ConnectorError::Transient {
            retry_after: Some(d),
            reason,
        }) => {
            assert!((100..=121).contains(&d.as_secs()), "{d:?}");
            assert!(reason.contains("Rate Limit Exceeded"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    fake.lock().unwrap().faults.insert(
        "listNotifications".into(),
        (200, HeaderMap::new(), "<html>onderhoud</html>".into()),
    );
    assert!(
        matches!(c.fetch("").await, Err(ConnectorError::Transient { ref reason, .. }) if reason.contains("web page"))
    );
    fake.lock().unwrap().faults.insert(
        "listNotifications".into(),
        (
            200,
            HeaderMap::new(),
            r#"{"notifications": [{"uri": 5"#.into(),
        ),
    );
    assert!(
        matches!(c.fetch("").await, Err(ConnectorError::Transient { ref reason, .. }) if reason.contains("could not be read"))
    );
    fake.lock().unwrap().faults.insert(
        "listNotifications".into(),
        (502, HeaderMap::new(), String::new()),
    );
    assert!(matches!(
        c.fetch("").await,
        Err(ConnectorError::Transient { .. })
    ));

    // A revoked app password: reconnect.
    let wrong = BlueskyConnector::new(&url, "iemand.bsky.social", "wrong-pass-word-xxxx").unwrap();
    let e = wrong.check().await.unwrap_err();
    assert_eq!(e.channel_status(), "needs_reconnect");
    assert!(
        e.to_string().contains("Invalid identifier or password"),
        "{e}"
    );

    // Bad input never gets as far as the network.
    assert!(BlueskyConnector::new("ftp://x", "a", "b").is_err());
    assert!(BlueskyConnector::new(&url, "", "b").is_err());
    assert!(BlueskyConnector::new(&url, "a", "").is_err());
    assert!(c.metrics("https://bsky.app/x").await.is_err());
}
