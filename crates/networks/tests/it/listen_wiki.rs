//! MediaWiki recent changes against a loopback fake of `api.php`
//! (`list=recentchanges`, `formatversion=2`, continuation by
//! `rccontinue`), and a feed that never ends.

use axum::extract::{Query, State};
use axum::response::IntoResponse;
use dialoog_networks::ConnectorError;
use dialoog_networks::listen::{Poller, SourceInput, SourceKind, SourceSettings};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Wiki {
    /// (rcid, timestamp, title, user, comment, revid, old_revid, new page)
    changes: Arc<Mutex<Vec<Value>>>,
    requests: Arc<Mutex<Vec<HashMap<String, String>>>>,
    refuse: Arc<Mutex<Option<(&'static str, &'static str)>>>,
}

impl Wiki {
    fn add(&self, n: usize) {
        let mut c = self.changes.lock().unwrap();
        for _ in 0..n {
            let rcid = c.len() as u64 + 1000;
            // Several changes per second, as on a busy wiki.
            let secs = rcid / 3;
            let ts = jiff::Timestamp::from_second(1_795_000_000 + secs as i64).unwrap();
            let new = rcid.is_multiple_of(7);
            c.push(json!({
                "type": if new { "new" } else { "edit" },
                "ns": 0, "title": format!("Bakkerij {rcid}"), "pageid": rcid,
                "revid": rcid * 10, "old_revid": if new { 0 } else { rcid * 10 - 3 },
                "rcid": rcid, "user": if rcid.is_multiple_of(5) { "192.0.2.7".to_owned() } else { format!("Editor{}", rcid % 4) },
                "anon": rcid.is_multiple_of(5),
                "oldlen": 100, "newlen": 120, "minor": false, "bot": false,
                "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "comment": if rcid.is_multiple_of(2) { "openingstijden bijgewerkt" } else { "" },
            }));
        }
    }
}

async fn api(State(w): State<Wiki>, Query(q): Query<HashMap<String, String>>) -> impl IntoResponse {
    w.requests.lock().unwrap().push(q.clone());
    if let Some((code, info)) = *w.refuse.lock().unwrap() {
        return axum::Json(json!({"error": {"code": code, "info": info}}));
    }
    assert_eq!(q.get("action").map(String::as_str), Some("query"));
    assert_eq!(q.get("list").map(String::as_str), Some("recentchanges"));
    assert_eq!(q.get("formatversion").map(String::as_str), Some("2"));
    assert_eq!(
        q.get("rcprop").map(String::as_str),
        Some("title|ids|sizes|flags|user|timestamp|comment")
    );
    assert_eq!(q.get("rctype").map(String::as_str), Some("edit|new"));
    let limit: usize = q["rclimit"].parse().unwrap();
    let all = w.changes.lock().unwrap().clone();
    let key = |c: &Value| {
        (
            c["timestamp"].as_str().unwrap().to_owned(),
            c["rcid"].as_u64().unwrap(),
        )
    };
    let newer = q.get("rcdir").map(String::as_str) == Some("newer");
    let mut list: Vec<Value> = if newer {
        // Oldest first, from rcstart, or from the continuation point.
        let from = match q.get("rccontinue") {
            Some(c) => {
                let (ts, id) = c.split_once('|').unwrap();
                (ts.to_owned(), id.parse::<u64>().unwrap())
            }
            None => (q["rcstart"].clone(), 0),
        };
        all.into_iter().filter(|c| key(c) >= from).collect()
    } else {
        all.into_iter().rev().collect()
    };
    let cont = (list.len() > limit).then(|| {
        let (ts, id) = key(&list[limit]);
        format!("{ts}|{id}")
    });
    list.truncate(limit);
    let mut answer = json!({"batchcomplete": true, "query": {"recentchanges": list}});
    if let Some(c) = cont {
        answer["continue"] = json!({"rccontinue": c, "continue": "-||"});
    }
    axum::Json(answer)
}

async fn start(w: Wiki) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/w/api.php", axum::routing::get(api))
        .with_state(w);
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

fn wiki_source(base: &str) -> Poller {
    let settings = SourceSettings::parse(
        SourceKind::MediaWiki,
        &SourceInput {
            url: format!("{base}/wiki/Hoofdpagina"),
            ..SourceInput::default()
        },
    )
    .unwrap();
    Poller::new(&settings, None).unwrap().unwrap()
}

#[tokio::test]
async fn recent_changes_arrive_once_through_continuation() {
    let w = Wiki::default();
    w.add(3);
    let base = start(w.clone()).await;
    let p = wiki_source(&base);

    // The first poll takes only what is there now, oldest first.
    let first = p.poll("").await.unwrap();
    let ids: Vec<&str> = first
        .heard
        .iter()
        .map(|h| h.item.external_id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "127.0.0.1/rc/1000",
            "127.0.0.1/rc/1001",
            "127.0.0.1/rc/1002"
        ]
    );
    let h = &first.heard[0];
    assert_eq!(h.item.text, "Bakkerij 1000\nopeningstijden bijgewerkt");
    assert_eq!(
        h.item.author.name, "192.0.2.7",
        "anonymous edits by address"
    );
    assert_eq!(
        h.item.url.as_deref(),
        Some(format!("{base}/w/index.php?diff=10000&oldid=9997").as_str())
    );
    assert_eq!(
        first.heard[1].item.text, "Bakkerij 1001",
        "no summary: the title"
    );
    assert_eq!(first.heard[1].item.author.name, "Editor1");
    assert!(h.item.published_at.unwrap() > 1_795_000_000_000);

    // A burst: 1,200 changes come in three requests, each once.
    w.add(1200);
    let next = p.poll(&first.cursor).await.unwrap();
    assert!(!next.more);
    assert_eq!(next.heard.len(), 1200);
    let unique: HashSet<&str> = next
        .heard
        .iter()
        .map(|h| h.item.external_id.as_str())
        .collect();
    assert_eq!(unique.len(), 1200);
    assert_eq!(next.heard[0].item.external_id, "127.0.0.1/rc/1003");
    let new_page = next
        .heard
        .iter()
        .find(|h| h.item.external_id == "127.0.0.1/rc/1008")
        .unwrap();
    assert_eq!(
        new_page.item.url.as_deref(),
        Some(format!("{base}/w/index.php?oldid=10080").as_str()),
        "a new page links to its first version"
    );
    {
        let reqs = w.requests.lock().unwrap();
        let later: Vec<_> = reqs.iter().skip(1).collect();
        assert_eq!(later.len(), 3);
        assert!(later.iter().all(|r| r["rcdir"] == "newer"));
        assert!(later[1].contains_key("rccontinue"));
    }

    // Nothing new: nothing comes, the cursor stays.
    let again = p.poll(&next.cursor).await.unwrap();
    assert!(again.heard.is_empty());
    assert_eq!(again.cursor, next.cursor);

    // More than one poll's budget: the rest follows, and `more` says so.
    w.add(5200);
    let big = p.poll(&again.cursor).await.unwrap();
    assert!(big.more);
    // Ten requests of 500; the first starts at the last change delivered.
    assert_eq!(big.heard.len(), 4999);
    let rest = p.poll(&big.cursor).await.unwrap();
    assert!(!rest.more);
    assert_eq!(
        rest.heard.len(),
        201,
        "the next poll resumes where it stopped"
    );
    let all: HashSet<&str> = big
        .heard
        .iter()
        .chain(&rest.heard)
        .map(|h| h.item.external_id.as_str())
        .collect();
    assert_eq!(all.len(), 5200);
    assert_eq!(
        rest.heard.last().unwrap().item.external_id,
        format!("127.0.0.1/rc/{}", 1000 + 3 + 1200 + 5200 - 1)
    );

    // A wiki that asks us to wait; one that refuses.
    *w.refuse.lock().unwrap() = Some(("maxlag", "Waiting for a database server"));
    assert!(matches!(
        p.poll(&rest.cursor).await,
        Err(ConnectorError::Transient {
            retry_after: Some(_),
            ..
        })
    ));
    *w.refuse.lock().unwrap() = Some(("badvalue", "Unrecognized value"));
    assert!(matches!(
        p.poll(&rest.cursor).await,
        Err(ConnectorError::Permanent { .. })
    ));
}

#[tokio::test]
async fn an_address_that_is_no_wiki_is_said_so() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/w/api.php",
        axum::routing::get(|| async { axum::response::Html("<html>Welkom</html>") }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let err = wiki_source(&base).poll("").await.unwrap_err();
    assert!(err.reason().contains("web page"), "{err:?}");
}

#[tokio::test]
async fn a_feed_that_never_ends_stops_at_the_cap() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/feed", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/feed",
        axum::routing::get(|| async {
            // No length, and items for ever.
            let head = futures_util::stream::once(async {
                Ok::<_, std::io::Error>(axum::body::Bytes::from_static(
                    b"<rss version=\"2.0\"><channel><title>Eindeloos</title>",
                ))
            });
            let items = futures_util::stream::repeat_with(|| {
                Ok(axum::body::Bytes::from_static(
                    b"<item><title>nog een</title><link>https://x.example/1</link></item>",
                ))
            });
            (
                [(axum::http::header::CONTENT_TYPE, "application/rss+xml")],
                axum::body::Body::from_stream(futures_util::StreamExt::chain(head, items)),
            )
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let settings = SourceSettings::parse(
        SourceKind::Rss,
        &SourceInput {
            url,
            ..SourceInput::default()
        },
    )
    .unwrap();
    let p = Poller::new(&settings, None).unwrap().unwrap();
    let err = tokio::time::timeout(std::time::Duration::from_secs(60), p.poll(""))
        .await
        .expect("it stops by itself")
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Permanent { reason } if reason == "the answer is larger than 10 MB"),
        "{err:?}"
    );
}
