//! The Mastodon connector against a real Mastodon API server (mastodon-mock,
//! with its fault injection) and, for what that server cannot do, a
//! loopback fake.

use dialoog_networks::mastodon::{self, MastodonConnector};
use dialoog_networks::testing::MastodonPeer;
use dialoog_networks::{Connector, ConnectorError, Image, ItemKind, Outgoing, ReplyTo, Visibility};
use serde_json::json;
use std::time::Duration;

/// A real 1×1 GIF.
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

fn ada(peer: &MastodonPeer) -> MastodonConnector {
    MastodonConnector::new(&peer.url, "ada_token").unwrap()
}

#[tokio::test]
async fn mentions_replies_and_direct_messages_arrive_once_with_their_kind() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    let c = ada(&peer);
    assert_eq!(c.check().await.unwrap(), "@ada@localhost");

    // The first sync reads what is there already and remembers where it got.
    let first = c.fetch("").await.unwrap();
    assert!(!first.more);
    let seen = first.items.len();

    let ours = peer
        .post("ada_token", &[("status", "Nieuwe taarten vandaag!")])
        .await;
    let mention = peer
        .post(
            "grace_token",
            &[("status", "@ada waar is jullie winkel? 🍰")],
        )
        .await;
    let comment = peer
        .post(
            "grace_token",
            &[
                ("status", "@ada ziet er heerlijk uit"),
                ("in_reply_to_id", &ours),
            ],
        )
        .await;
    let dm = peer
        .post(
            "alan_token",
            &[
                ("status", "@ada mijn bestelling is niet aangekomen"),
                ("visibility", "direct"),
            ],
        )
        .await;

    let next = c.fetch(&first.cursor).await.unwrap();
    let by_id = |id: &str| next.items.iter().find(|i| i.external_id == id).unwrap();
    assert_eq!(next.items.len(), 3, "only the new ones: {:?}", next.items);
    let m = by_id(&mention);
    assert_eq!(m.kind, ItemKind::Mention);
    assert_eq!(m.text, "@ada waar is jullie winkel? 🍰");
    assert_eq!(m.author.name, "Grace Hopper");
    assert_eq!(m.author.handle.as_deref(), Some("@grace@localhost"));
    assert!(m.published_at.unwrap() > 1_700_000_000_000);
    assert!(m.url.as_deref().unwrap().contains(&mention));
    let r = by_id(&comment);
    assert_eq!(
        r.kind,
        ItemKind::Comment,
        "a reply to our post is a comment"
    );
    assert_eq!(r.in_reply_to.as_deref(), Some(ours.as_str()));
    assert_eq!(r.thread_ref.as_deref(), Some(ours.as_str()));
    let d = by_id(&dm);
    assert_eq!(d.kind, ItemKind::DirectMessage);
    assert_eq!(d.thread_ref.as_deref(), Some("dm:@alan@localhost"));

    // Nothing new: nothing comes, and the cursor stays where it was.
    let again = c.fetch(&next.cursor).await.unwrap();
    assert!(again.items.is_empty(), "{:?}", again.items);
    assert_eq!(again.cursor, next.cursor);
    assert!(seen < 200, "the first sync reads a bounded number");
}

#[tokio::test]
async fn many_mentions_are_read_page_by_page() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    let c = ada(&peer);
    let start = c.fetch("").await.unwrap();
    let mut ids = vec![];
    for i in 0..95 {
        ids.push(
            peer.post("katherine_token", &[("status", &format!("@ada vraag {i}"))])
                .await,
        );
    }
    let f = c.fetch(&start.cursor).await.unwrap();
    let got: Vec<&str> = f.items.iter().map(|i| i.external_id.as_str()).collect();
    for id in &ids {
        assert!(got.contains(&id.as_str()), "{id} missing");
    }
    assert_eq!(got.len(), 95, "three pages, each item once");
}

#[tokio::test]
async fn publishing_with_an_image_alt_text_language_and_idempotency() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    let c = ada(&peer);
    let post = Outgoing {
        text: "Vers brood, elke ochtend om 7 uur #bakkerij".into(),
        images: vec![Image {
            bytes: GIF.to_vec(),
            mime: "image/gif".into(),
            alt: "Een mand met vers brood".into(),
        }],
        language: Some("nl".into()),
        visibility: Visibility::Unlisted,
        idempotency_key: "post-17-channel-3".into(),
        ..Outgoing::default()
    };
    let a = c.publish(&post).await.unwrap();
    // The same key again (a retry after a lost answer): the same post.
    let b = c.publish(&post).await.unwrap();
    assert_eq!(a, b);
    assert!(a.url.as_deref().unwrap().contains(&a.remote_id));
    let s = peer
        .call(
            "ada_token",
            "GET",
            &format!("/api/v1/statuses/{}", a.remote_id),
            &[],
        )
        .await;
    assert_eq!(s["language"], "nl");
    assert_eq!(s["visibility"], "unlisted");
    assert_eq!(
        s["media_attachments"][0]["description"],
        "Een mand met vers brood"
    );
    assert!(s["content"].as_str().unwrap().contains("Vers brood"));

    // Figures: grace favourites and boosts it, and answers it.
    peer.call(
        "grace_token",
        "POST",
        &format!("/api/v1/statuses/{}/favourite", a.remote_id),
        &[],
    )
    .await;
    peer.call(
        "grace_token",
        "POST",
        &format!("/api/v1/statuses/{}/reblog", a.remote_id),
        &[],
    )
    .await;
    peer.post(
        "grace_token",
        &[("status", "@ada lekker!"), ("in_reply_to_id", &a.remote_id)],
    )
    .await;
    let m = c.metrics(&a.remote_id).await.unwrap();
    assert_eq!((m.likes, m.shares, m.replies), (1, 1, 1));

    // Too many images is said before anything is sent.
    let five = Outgoing {
        images: vec![post.images[0].clone(); 5],
        idempotency_key: "five".into(),
        ..post.clone()
    };
    assert!(
        matches!(c.publish(&five).await, Err(ConnectorError::Permanent { ref reason }) if reason.contains("at most 4 images"))
    );
}

#[tokio::test]
async fn replies_go_back_to_the_thread_and_address_their_reader() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    let c = ada(&peer);
    let start = c.fetch("").await.unwrap();
    peer.post(
        "grace_token",
        &[("status", "@ada is de winkel open op zondag?")],
    )
    .await;
    peer.post(
        "alan_token",
        &[("status", "@ada privé vraag"), ("visibility", "direct")],
    )
    .await;
    let f = c.fetch(&start.cursor).await.unwrap();
    for item in &f.items {
        let to = ReplyTo {
            external_id: item.external_id.clone(),
            kind: Some(item.kind),
            author_handle: item.author.handle.clone(),
            thread_ref: item.thread_ref.clone(),
        };
        let key = format!("reply-{}", item.external_id);
        let sent = c.reply(&to, "Ja, van 10 tot 16 uur!", &key).await.unwrap();
        let s = peer
            .call(
                "ada_token",
                "GET",
                &format!("/api/v1/statuses/{}", sent.remote_id),
                &[],
            )
            .await;
        assert_eq!(s["in_reply_to_id"], item.external_id.as_str());
        let reader = item
            .author
            .handle
            .as_deref()
            .unwrap()
            .split('@')
            .nth(1)
            .unwrap();
        assert_eq!(s["mentions"][0]["username"], reader, "{s}");
        let expected = if item.kind == ItemKind::DirectMessage {
            "direct"
        } else {
            "public"
        };
        assert_eq!(s["visibility"], expected);
    }
    assert_eq!(f.items.len(), 2);

    // A post deleted before the answer: said plainly, nothing sent.
    let gone = peer
        .post("grace_token", &[("status", "@ada laat maar")])
        .await;
    peer.call(
        "grace_token",
        "DELETE",
        &format!("/api/v1/statuses/{gone}"),
        &[],
    )
    .await;
    let to = ReplyTo {
        external_id: gone,
        ..ReplyTo::default()
    };
    let e = c.reply(&to, "Jammer!", "reply-gone").await.unwrap_err();
    assert!(e.to_string().contains("no longer exists"), "{e}");
}

#[tokio::test]
async fn failures_at_the_server_are_classified_and_lose_no_position() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    let c = ada(&peer);
    let start = c.fetch("").await.unwrap();
    peer.post("grace_token", &[("status", "@ada hallo")]).await;
    let notifications = json!({"path": "/api/v1/notifications", "methods": ["GET"]});

    peer.fault(json!({"match": notifications, "effect": {"type": "ratelimit"}, "count": 1}))
        .await;
    match c.fetch(&start.cursor).await {
        Err(ConnectorError::Transient {
            retry_after,
            reason,
        }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(300)));
            assert!(reason.contains("429"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    peer.fault(
        json!({"match": notifications, "effect": {"type": "status", "status": 503}, "count": 1}),
    )
    .await;
    assert!(matches!(
        c.fetch(&start.cursor).await,
        Err(ConnectorError::Transient { .. })
    ));
    peer.fault(json!({"match": notifications, "effect": {"type": "malformed"}, "count": 1}))
        .await;
    assert!(
        matches!(c.fetch(&start.cursor).await, Err(ConnectorError::Transient { ref reason, .. }) if reason.contains("could not be read"))
    );
    // After the faults, the same cursor gives the mention.
    let f = c.fetch(&start.cursor).await.unwrap();
    assert_eq!(f.items.len(), 1);

    // A gateway error on publishing: the post may exist, so it is not a
    // plain failure; a rate limit is.
    let statuses = json!({"path": "/api/v1/statuses", "methods": ["POST"]});
    peer.fault(json!({"match": statuses, "effect": {"type": "status", "status": 502}, "count": 1}))
        .await;
    let post = Outgoing {
        text: "Hallo".into(),
        idempotency_key: "k-502".into(),
        ..Outgoing::default()
    };
    assert!(matches!(
        c.publish(&post).await,
        Err(ConnectorError::OutcomeUnknown { .. })
    ));
    peer.fault(json!({"match": statuses, "effect": {"type": "ratelimit"}, "count": 1}))
        .await;
    assert!(matches!(
        c.publish(&post).await,
        Err(ConnectorError::Transient { .. })
    ));
    // With the same key, the retry publishes once.
    let a = c.publish(&post).await.unwrap();
    assert_eq!(c.publish(&post).await.unwrap(), a);

    // A revoked or wrong token asks for a reconnect.
    let bad = MastodonConnector::new(&peer.url, "revoked_token").unwrap();
    let e = bad.fetch("").await.unwrap_err();
    assert_eq!(e.channel_status(), "needs_reconnect", "{e}");
    assert!(e.to_string().contains("authenticated user"), "{e}");
}

#[tokio::test]
async fn the_oauth_code_flow() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    let redirect = "http://127.0.0.1:9/w/1/channels/mastodon/callback";
    let app = mastodon::register_app(&peer.url, redirect, "http://127.0.0.1:9")
        .await
        .unwrap();
    let url = mastodon::authorize_url(&app, redirect, "st4te").unwrap();
    assert!(
        url.as_str()
            .starts_with(&format!("{}/oauth/authorize?response_type=code", peer.url))
    );
    // The person picks their account on the instance's page.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .post(format!("{}/oauth/authorize", peer.url))
        .form(&[
            ("username", "ada"),
            ("client_id", app.client_id.as_str()),
            ("redirect_uri", redirect),
            ("state", "st4te"),
            ("scope", mastodon::SCOPES),
            ("response_type", "code"),
        ])
        .send()
        .await
        .unwrap();
    let back = reqwest::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let q = |k: &str| {
        back.query_pairs()
            .find(|(n, _)| n == k)
            .unwrap()
            .1
            .into_owned()
    };
    assert_eq!(q("state"), "st4te");
    let token = mastodon::exchange_code(&app, &q("code"), redirect)
        .await
        .unwrap();
    let c = MastodonConnector::new(&peer.url, &token).unwrap();
    assert_eq!(c.check().await.unwrap(), "@ada@localhost");
    // A code cannot be guessed.
    assert!(
        mastodon::exchange_code(&app, "made-up", redirect)
            .await
            .is_err()
    );
}

/// A loopback server that answers every request with `body`, or never.
async fn fake(status: u16, content_type: &'static str, body: &'static str, hang: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(move || async move {
        if hang {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        (
            axum::http::StatusCode::from_u16(status).unwrap(),
            [(axum::http::header::CONTENT_TYPE, content_type)],
            body,
        )
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn garbage_from_a_server_is_a_clear_reason() {
    let html = fake(
        200,
        "text/html",
        "<!doctype html><html><body>Welkom</body></html>",
        false,
    )
    .await;
    let e = MastodonConnector::new(&html, "t")
        .unwrap()
        .check()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("web page instead of data"), "{e}");
    let half = fake(200, "application/json", r#"{"id": "1", "acct": "#, false).await;
    let e = MastodonConnector::new(&half, "t")
        .unwrap()
        .fetch("")
        .await
        .unwrap_err();
    assert!(matches!(e, ConnectorError::Transient { .. }), "{e}");
    let wrong = fake(200, "application/json", r#"[{"id": 5}]"#, false).await;
    let e = MastodonConnector::new(&wrong, "t")
        .unwrap()
        .fetch(r#"{"me":"1","newest":"1"}"#)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("could not be read"), "{e}");

    // A publish that gets no answer may have happened: never a plain retry.
    let silent = fake(200, "application/json", "{}", true).await;
    let c = MastodonConnector::new(&silent, "t")
        .unwrap()
        .with_timeout(Duration::from_millis(300));
    let post = Outgoing {
        text: "Hallo".into(),
        idempotency_key: "k".into(),
        ..Outgoing::default()
    };
    assert!(matches!(
        c.publish(&post).await,
        Err(ConnectorError::OutcomeUnknown { .. })
    ));
    // Nobody listening: nothing was sent.
    let c = MastodonConnector::new("http://127.0.0.1:9", "t").unwrap();
    assert!(matches!(
        c.publish(&post).await,
        Err(ConnectorError::Transient { .. })
    ));

    assert!(MastodonConnector::new("javascript:alert(1)", "t").is_err());
    assert!(MastodonConnector::new(&html, "two words").is_err());
}
