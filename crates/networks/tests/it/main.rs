//! Connectors against loopback servers that speak each format for real.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use dialoog_networks::feed::FeedConnector;
use dialoog_networks::{Connector, ConnectorError};

mod bluesky;
mod bluesky_network;
mod bluesky_pds;
mod bluesky_peer;
mod email;
mod email_reply;
mod listen_jetstream;
mod listen_mastodon;
mod listen_wiki;
mod mastodon;
mod remote_image;
mod wordpress;
mod wordpress_site;

async fn serve(status: u16, content_type: &'static str, body: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/feed", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/feed",
        axum::routing::get(move || {
            let body = body.clone();
            async move {
                let mut r = (
                    StatusCode::from_u16(status).unwrap(),
                    [(header::CONTENT_TYPE, content_type)],
                    body,
                )
                    .into_response();
                r.headers_mut()
                    .insert(header::RETRY_AFTER, "90".parse().unwrap());
                r
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn atom_feeds() {
    let atom = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Forum Fietsen</title><id>urn:forum</id><updated>2026-11-24T10:00:00Z</updated>
<entry><id>urn:post:1</id><title>Nieuwe fiets</title><updated>2026-11-24T10:00:00Z</updated><author><name>Piet</name><uri>https://forum.example/u/piet</uri></author>
<link href="https://forum.example/p/1"/><content type="html">&lt;p&gt;Heel &lt;em&gt;blij&lt;/em&gt; mee&lt;/p&gt;</content></entry></feed>"#;
    let url = serve(200, "application/atom+xml", atom.into()).await;
    let c = FeedConnector::new(&url).unwrap();
    assert_eq!(c.check().await.unwrap(), "Forum Fietsen");
    let f = c.fetch("").await.unwrap();
    assert_eq!(f.items.len(), 1);
    let it = &f.items[0];
    assert_eq!(
        (it.external_id.as_str(), it.text.as_str()),
        ("urn:post:1", "Nieuwe fiets\nHeel blij mee")
    );
    assert_eq!(
        (it.author.name.as_str(), it.author.id.as_str()),
        ("Piet", "https://forum.example/u/piet")
    );
    assert_eq!(it.url.as_deref(), Some("https://forum.example/p/1"));
    assert_eq!(it.published_at, Some(1_795_514_400_000));
}

#[tokio::test]
async fn json_feeds() {
    let json = r#"{"version": "https://jsonfeed.org/version/1.1", "title": "Blog Bakkerij", "items": [
        {"id": "42", "content_text": "Nieuw: speculaas!", "url": "https://bakkerij.example/42", "date_published": "2026-11-24T09:00:00+01:00", "authors": [{"name": "Anna"}]},
        {"id": "43", "content_html": "<p>Open op zondag</p>"}]}"#;
    let url = serve(200, "application/feed+json", json.into()).await;
    let f = FeedConnector::new(&url).unwrap().fetch("").await.unwrap();
    let texts: Vec<&str> = f.items.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(texts, ["Nieuw: speculaas!", "Open op zondag"]);
    assert_eq!(f.items[0].author.name, "Anna");
    assert_eq!(
        f.items[1].author.name, "Blog Bakkerij",
        "no author: the feed speaks"
    );
}

#[tokio::test]
async fn rss_items_without_guid_are_known_by_their_link() {
    let rss = r#"<rss version="2.0"><channel><title>T</title><link>https://x.example</link><description>d</description>
<item><title>Een</title><link>https://x.example/een</link><author>sanne@x.example (Sanne de Wit)</author></item></channel></rss>"#;
    let url = serve(200, "application/rss+xml", rss.into()).await;
    let c = FeedConnector::new(&url).unwrap();
    let (a, b) = (c.fetch("").await.unwrap(), c.fetch("").await.unwrap());
    assert_eq!(
        a.items[0].external_id, b.items[0].external_id,
        "the same item keeps its id"
    );
    let author = &a.items[0].author;
    assert_eq!(
        (author.name.as_str(), author.id.as_str()),
        ("Sanne de Wit", "sanne@x.example")
    );
}

#[tokio::test]
async fn failures_are_classified() {
    let c = FeedConnector::new(&serve(429, "text/plain", "slow down".into()).await).unwrap();
    match c.fetch("").await {
        Err(ConnectorError::Transient {
            retry_after,
            reason,
        }) => {
            assert_eq!(retry_after.map(|d| d.as_secs()), Some(90));
            assert!(reason.contains("slow down"));
        }
        other => panic!("{other:?}"),
    }
    let c = FeedConnector::new(&serve(503, "text/html", "<html>down</html>".into()).await).unwrap();
    assert!(matches!(
        c.fetch("").await,
        Err(ConnectorError::Transient { .. })
    ));
    let c = FeedConnector::new(&serve(403, "text/plain", "forbidden".into()).await).unwrap();
    assert_eq!(
        c.fetch("").await.unwrap_err().channel_status(),
        "needs_reconnect"
    );
    let c =
        FeedConnector::new(&serve(200, "text/html", "<html><p>not a feed</p></html>".into()).await)
            .unwrap();
    assert!(
        matches!(c.fetch("").await, Err(ConnectorError::Permanent { ref reason }) if reason.contains("not an RSS, Atom or JSON feed"))
    );
    let huge = format!(
        "<rss><channel><title>x</title>{}</channel></rss>",
        "<item><title>x</title></item>".repeat(400_000)
    );
    let c = FeedConnector::new(&serve(200, "application/rss+xml", huge).await).unwrap();
    assert!(
        matches!(c.fetch("").await, Err(ConnectorError::Permanent { ref reason }) if reason.contains("larger than 10 MB"))
    );
    // Nobody listening.
    let c = FeedConnector::new("http://127.0.0.1:9/feed").unwrap();
    assert!(matches!(
        c.fetch("").await,
        Err(ConnectorError::Transient { .. })
    ));
    assert!(FeedConnector::new("javascript:alert(1)").is_err());
    assert!(FeedConnector::new("not a url").is_err());
}
