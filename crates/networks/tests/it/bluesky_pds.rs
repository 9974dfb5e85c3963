//! The Bluesky connector against a real PDS (`@atproto/pds`, started per
//! test): sign-in with an app password, posts with facets, languages and
//! images with alt text, idempotent retries, replies with root and parent.

use dialoog_networks::bluesky::BlueskyConnector;
use dialoog_networks::testing::BlueskyPeer;
use dialoog_networks::{Connector, ConnectorError, Image, Outgoing, ReplyTo};

#[tokio::test]
async fn publishing_to_a_real_pds() {
    let Some(peer) = BlueskyPeer::start().await else {
        return;
    };
    let bakkerij = peer
        .create_account("bakkerij.test", "hunter2-lang-genoeg")
        .await;
    let anna = peer
        .create_account("anna.test", "hunter2-lang-genoeg")
        .await;
    let app_password = peer.app_password(&bakkerij, "Dialoog").await;
    let c = BlueskyConnector::new(&peer.url, "bakkerij.test", &app_password).unwrap();
    assert_eq!(c.check().await.unwrap(), "@bakkerij.test");

    let text =
        "Vers brood ☕🥐 voor @anna.test en @niemand.test #bakkerij https://bakkerij.example/menu";
    let post = Outgoing {
        text: text.into(),
        images: vec![Image {
            bytes: BlueskyPeer::PNG_1X1.to_vec(),
            mime: "image/png".into(),
            alt: "Een mand brood".into(),
        }],
        language: Some("nl".into()),
        idempotency_key: "post-1-channel-2".into(),
        created_at: Some(1_796_119_200_000),
        ..Outgoing::default()
    };
    let a = c.publish(&post).await.unwrap();
    assert!(
        a.remote_id
            .starts_with(&format!("at://{}/app.bsky.feed.post/", bakkerij.did))
    );
    assert_eq!(
        a.url
            .as_deref()
            .map(|u| u.starts_with("https://bsky.app/profile/bakkerij.test/post/")),
        Some(true)
    );
    // The same publish again (a retry after a lost answer): the same post, not a second.
    let b = c.publish(&post).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(
        peer.records(&bakkerij.did, "app.bsky.feed.post")
            .await
            .len(),
        1
    );

    let r = peer.record(&a.remote_id).await;
    assert_eq!(r["text"], text);
    assert_eq!(r["langs"][0], "nl");
    assert_eq!(r["createdAt"], "2026-12-01T10:00:00.000Z");
    assert_eq!(r["embed"]["images"][0]["alt"], "Een mand brood");
    let facets = r["facets"].as_array().unwrap();
    let by_type = |t: &str| {
        facets
            .iter()
            .find(|f| f["features"][0]["$type"] == t)
            .unwrap()
            .clone()
    };
    let slice = |f: &serde_json::Value| {
        let (s, e) = (
            f["index"]["byteStart"].as_u64().unwrap() as usize,
            f["index"]["byteEnd"].as_u64().unwrap() as usize,
        );
        text.as_bytes()[s..e].to_vec()
    };
    let mention = by_type("app.bsky.richtext.facet#mention");
    assert_eq!(mention["features"][0]["did"], anna.did.as_str());
    assert_eq!(slice(&mention), b"@anna.test");
    assert_eq!(slice(&by_type("app.bsky.richtext.facet#tag")), b"#bakkerij");
    assert_eq!(
        slice(&by_type("app.bsky.richtext.facet#link")),
        b"https://bakkerij.example/menu"
    );
    assert_eq!(facets.len(), 3, "an unknown handle stays text");

    // Anna answers; the answer to her keeps the thread's root.
    let root = (
        a.remote_id.clone(),
        peer.records(&bakkerij.did, "app.bsky.feed.post").await[0]["cid"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    let hers = peer
        .reply(&anna, "Lekker! Ook glutenvrij?", &root, &root)
        .await;
    let to = ReplyTo {
        external_id: hers.0.clone(),
        ..ReplyTo::default()
    };
    let answer = c.reply(&to, "Ja, op zaterdag!", "reply-1").await.unwrap();
    let ar = peer.record(&answer.remote_id).await;
    assert_eq!(ar["reply"]["root"]["uri"], root.0.as_str());
    assert_eq!(ar["reply"]["parent"]["uri"], hers.0.as_str());
    assert_eq!(ar["reply"]["parent"]["cid"], hers.1.as_str());
    // A post deleted before the answer: said plainly.
    peer.delete_record(&anna, &hers.0).await;
    let e = c.reply(&to, "Nog een keer", "reply-2").await.unwrap_err();
    assert!(e.to_string().contains("no longer exists"), "{e}");

    // Over the limit, before anything is sent.
    let long = Outgoing {
        text: "🥐".repeat(301),
        idempotency_key: "long".into(),
        ..Outgoing::default()
    };
    assert!(
        matches!(c.publish(&long).await, Err(ConnectorError::Permanent { ref reason }) if reason.contains("301") && reason.contains("300"))
    );

    // A revoked app password: the next sign-in asks for a reconnect.
    peer.revoke_app_password(&bakkerij, "Dialoog").await;
    let fresh = BlueskyConnector::new(&peer.url, "bakkerij.test", &app_password).unwrap();
    assert_eq!(
        fresh.check().await.unwrap_err().channel_status(),
        "needs_reconnect"
    );
}
