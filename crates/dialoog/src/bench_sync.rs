//! `dialoog bench sync --connector NAME`: one sync of `items` inbound items
//! from a loopback server that speaks the network's wire format, through the
//! real connector, storage and health recording, into a fresh embedded
//! database. The servers answer from memory, so the figure is Dialoog's
//! own cost (HTTP client, parsing, storing) plus loopback.

use crate::bench::{peak_rss_bytes, round};
use axum::extract::Query;
use axum::http::header;
use axum::response::IntoResponse;
use dialoog_engine::{Cipher, Credentials, sync_channel};
use dialoog_text::eval::sample_texts;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

type Params = Query<HashMap<String, String>>;

fn escape(t: &str) -> String {
    t.replace('&', "&amp;").replace('<', "&lt;")
}

/// An RSS feed with every item.
fn rss(texts: &[String]) -> axum::Router {
    let body: String = texts
        .iter()
        .enumerate()
        .map(|(i, t)| format!("<item><guid>item-{i}</guid><title>Item {i}</title><link>https://example.nl/{i}</link><description>{}</description><author>klant{i}@example.nl (Klant {i})</author></item>", escape(t)))
        .collect();
    let feed = Arc::new(format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Bench</title><link>https://example.nl</link><description>d</description>{body}</channel></rss>"
    ));
    axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let feed = feed.clone();
            async move {
                (
                    [(header::CONTENT_TYPE, "application/rss+xml")],
                    (*feed).clone(),
                )
            }
        }),
    )
}

/// Mastodon's notifications, 40 a page, paged forward by `min_id`.
fn mastodon(texts: &[String]) -> axum::Router {
    let notes: Arc<Vec<Value>> = Arc::new(
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let id = (i + 1).to_string();
                json!({"id": id, "type": "mention", "created_at": "2026-12-01T10:00:00.000Z",
                    "account": {"id": format!("9{i}"), "acct": format!("klant{i}@social.example"), "username": format!("klant{i}"), "display_name": format!("Klant {i}"), "url": format!("https://social.example/@klant{i}")},
                    "status": {"id": format!("s{id}"), "created_at": "2026-12-01T10:00:00.000Z", "visibility": "public", "content": format!("<p><span class=\"h-card\"><a href=\"https://mastodon.example/@bench\">@<span>bench</span></a></span> {}</p>", escape(t)),
                        "url": format!("https://social.example/@klant{i}/{id}"), "account": {"id": format!("9{i}"), "acct": format!("klant{i}@social.example"), "username": format!("klant{i}"), "display_name": format!("Klant {i}"), "url": format!("https://social.example/@klant{i}")}, "media_attachments": []}})
            })
            .collect(),
    );
    axum::Router::new()
        .route(
            "/api/v1/accounts/verify_credentials",
            axum::routing::get(|| async { axum::Json(json!({"id": "1", "acct": "bench", "username": "bench", "url": "https://mastodon.example/@bench"})) }),
        )
        .route(
            "/api/v1/notifications",
            axum::routing::get(move |Query(q): Params| {
                let notes = notes.clone();
                async move {
                    let min: usize = q.get("min_id").and_then(|v| v.parse().ok()).unwrap_or(0);
                    let limit: usize = q.get("limit").and_then(|v| v.parse().ok()).unwrap_or(40);
                    // The oldest `limit` after `min_id`, newest first.
                    let mut page: Vec<Value> = notes.iter().skip(min).take(limit).cloned().collect();
                    page.reverse();
                    axum::Json(page)
                }
            }),
        )
}

/// Bluesky's notifications, 50 a page, newest first, paged back by cursor.
fn bluesky(texts: &[String]) -> axum::Router {
    let n = texts.len();
    let notes: Arc<Vec<Value>> = Arc::new(
        texts
            .iter()
            .enumerate()
            .rev()
            .map(|(i, t)| {
                json!({"uri": format!("at://did:plc:klant{i}/app.bsky.feed.post/3k{i:011}"), "cid": format!("bafy{i}"),
                    "author": {"did": format!("did:plc:klant{i}"), "handle": format!("klant{i}.bsky.social"), "displayName": format!("Klant {i}")},
                    "reason": if i % 2 == 0 { "mention" } else { "reply" },
                    "record": {"$type": "app.bsky.feed.post", "text": t, "createdAt": "2026-12-01T10:00:00.000Z"},
                    "isRead": false, "indexedAt": format!("2026-12-01T10:{:02}:{:02}.{:03}Z", i / 60_000 % 60, i / 1000 % 60, i % 1000)})
            })
            .collect(),
    );
    let session = || async {
        axum::Json(
            json!({"accessJwt": "a", "refreshJwt": "r", "did": "did:plc:bench", "handle": "bench.bsky.social"}),
        )
    };
    axum::Router::new()
        .route(
            "/xrpc/com.atproto.server.createSession",
            axum::routing::post(session),
        )
        .route(
            "/xrpc/app.bsky.notification.listNotifications",
            axum::routing::get(move |Query(q): Params| {
                let notes = notes.clone();
                async move {
                    let start: usize = q.get("cursor").and_then(|v| v.parse().ok()).unwrap_or(0);
                    let limit: usize = q.get("limit").and_then(|v| v.parse().ok()).unwrap_or(50);
                    let page: Vec<Value> = notes.iter().skip(start).take(limit).cloned().collect();
                    let mut body = json!({"notifications": page});
                    if start + limit < n {
                        body["cursor"] = json!((start + limit).to_string());
                    }
                    axum::Json(body)
                }
            }),
        )
}

/// WordPress's comments, 100 a page, with `X-WP-TotalPages`.
fn wordpress(texts: &[String]) -> axum::Router {
    let comments: Arc<Vec<Value>> = Arc::new(
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                json!({"id": i + 1, "post": 40 + i % 7, "parent": 0, "author": 0, "author_name": format!("Klant {i}"), "author_email": format!("klant{i}@example.nl"),
                    "date_gmt": format!("2026-12-01T10:{:02}:{:02}", i / 60 % 60, i % 60), "content": {"rendered": format!("<p>{}</p>", escape(t))}, "link": format!("https://blog.example/?p=40#comment-{}", i + 1)})
            })
            .collect(),
    );
    axum::Router::new().route(
        "/",
        axum::routing::get(move |Query(q): Params| {
            let comments = comments.clone();
            async move {
                let per: usize = q.get("per_page").and_then(|v| v.parse().ok()).unwrap_or(10);
                let page: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
                let pages = comments.len().div_ceil(per).max(1);
                let out: Vec<Value> = comments
                    .iter()
                    .skip((page - 1) * per)
                    .take(per)
                    .cloned()
                    .collect();
                let mut r = axum::Json(out).into_response();
                if let Ok(v) = pages.to_string().parse() {
                    r.headers_mut().insert("x-wp-totalpages", v);
                }
                r
            }
        }),
    )
}

/// Runs the benchmark for one connector.
pub async fn run(connector: &str, items: usize) -> anyhow::Result<Value> {
    let texts = sample_texts(items, 11);
    let app = match connector {
        "rss" => rss(&texts),
        "mastodon" => mastodon(&texts),
        "bluesky" => bluesky(&texts),
        "wordpress" => wordpress(&texts),
        other => anyhow::bail!(
            "unknown connector {other:?}; available: rss, mastodon, bluesky, wordpress"
        ),
    };
    drop(texts);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    // Each channel resumes from a cursor older than every item, so one
    // sync reads them all (a first sync reads only the newest few pages).
    let (creds, cursor) = match connector {
        "rss" => (
            Credentials::Rss {
                feed_url: format!("{base}/"),
            },
            String::new(),
        ),
        "mastodon" => (
            Credentials::Mastodon {
                instance_url: base,
                access_token: "bench".into(),
            },
            r#"{"newest":"0","me":"1"}"#.to_owned(),
        ),
        "bluesky" => (
            Credentials::Bluesky {
                service_url: base,
                identifier: "bench.bsky.social".into(),
                app_password: "bench".into(),
            },
            r#"{"seen_at":"2000-01-01T00:00:00.000Z"}"#.to_owned(),
        ),
        _ => (
            Credentials::WordPress {
                site_url: format!("{base}/"),
                username: "bench".into(),
                app_password: "bench".into(),
            },
            String::new(),
        ),
    };

    let dir = std::env::temp_dir().join(format!("dialoog-bench-sync-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store =
        dialoog_store::Store::connect(&format!("sqlite://{}/dialoog.db", dir.display())).await?;
    store.migrate().await?;
    let owner = dialoog_store::NewOwner {
        organisation: "Bench",
        name: "Bench",
        email: "bench@example.nl",
        password_hash: "-",
        locale: "nl",
        timezone: "UTC",
    };
    let (_, ws) = store.setup(&owner, 0).await?;
    let cipher = Cipher::new([9; 32]);
    let sealed = cipher.seal(&serde_json::to_vec(&creds)?)?;
    let ch = store
        .create_channel(ws.id, connector, "Bench", &sealed, 0)
        .await?;
    let record = dialoog_store::SyncRecord {
        status: "ok",
        reason: "",
        cursor: Some(&cursor),
        now: 0,
        next_sync_at: None,
    };
    store.record_sync(ch.id, &record).await?;
    // Syncs until everything is in: a sync reads at most its network's page
    // budget (about 1,000 items) and the poller comes back at once for more.
    let start = Instant::now();
    let mut new = 0;
    let mut syncs = 0;
    while new < items as u64 && syncs < 1000 {
        let ch = store.channel(ws.id, ch.id).await?;
        let outcome = sync_channel(&store, &cipher, &ch, 1).await?;
        syncs += 1;
        if outcome.new == 0 {
            break;
        }
        new += outcome.new;
    }
    let seconds = start.elapsed().as_secs_f64();
    let stored = store.items(ch.id, i64::MAX).await?.len();
    store.close().await;
    std::fs::remove_dir_all(&dir).ok();
    anyhow::ensure!(
        stored == items && new as usize == items,
        "stored {stored} of {items}"
    );
    Ok(json!({
        "what": "sync",
        "connector": connector,
        "items": items,
        "syncs": syncs,
        "seconds": round(seconds),
        "items_per_second": (items as f64 / seconds).round(),
        "peak_rss_bytes": peak_rss_bytes(),
    }))
}
