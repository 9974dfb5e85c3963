//! The Bluesky test server itself (a real PDS): what the connector's tests
//! rely on works, and what a bare PDS cannot answer is known.

use dialoog_networks::testing::BlueskyPeer;
use serde_json::json;
use std::time::Instant;

#[tokio::test]
async fn bluesky_peer_serves_a_real_pds() {
    let started = Instant::now();
    let Some(pds) = BlueskyPeer::start().await else {
        return;
    };
    eprintln!("PDS up in {:?} at {}", started.elapsed(), pds.url);

    let alice = pds.create_account("alice.test", "alice-password").await;
    let bob = pds.create_account("bob.test", "bob-password").await;
    assert!(alice.did.starts_with("did:plc:"), "{}", alice.did);
    assert_ne!(alice.did, bob.did);
    assert_eq!(alice.handle, "alice.test");

    // The DID document is in the local PLC directory.
    let doc: serde_json::Value = reqwest::get(format!("{}/{}", pds.plc_url, alice.did))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["alsoKnownAs"][0], "at://alice.test");

    // The connector signs in with an app password, as users do.
    let password = pds.app_password(&alice, "dialoog").await;
    assert_eq!(password.len(), 19, "xxxx-xxxx-xxxx-xxxx: {password}");
    let (status, session) = pds
        .procedure(
            None,
            "com.atproto.server.createSession",
            &json!({"identifier": "alice.test", "password": password}),
        )
        .await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["did"], alice.did.as_str());
    let app = pds.sign_in("alice.test", &password).await;
    let (status, wrong) = pds
        .procedure(
            None,
            "com.atproto.server.createSession",
            &json!({"identifier": "alice.test", "password": "wrong"}),
        )
        .await;
    assert_eq!(
        (status, wrong["error"].as_str()),
        (401, Some("AuthenticationRequired"))
    );

    // Posts and replies, read back as stored.
    let first = pds.post(&app, "Hallo Bluesky").await;
    assert!(
        first
            .0
            .starts_with(&format!("at://{}/app.bsky.feed.post/", alice.did)),
        "{first:?}"
    );
    let stored = pds.record(&first.0).await;
    assert_eq!(stored["text"], "Hallo Bluesky");
    assert_eq!(stored["$type"], "app.bsky.feed.post");
    let answer = pds.reply(&bob, "Dag Alice", &first, &first).await;
    let stored = pds.record(&answer.0).await;
    assert_eq!(stored["reply"]["root"]["uri"], first.0.as_str());
    assert_eq!(stored["reply"]["parent"]["cid"], first.1.as_str());

    // An image: a real PNG is taken, stored, and embedded.
    let blob = pds
        .upload_blob(&app, BlueskyPeer::PNG_1X1, "image/png")
        .await;
    assert_eq!(blob["mimeType"], "image/png");
    assert_eq!(blob["size"], BlueskyPeer::PNG_1X1.len());
    let cid = blob["ref"]["$link"].as_str().unwrap().to_owned();
    let (uri, _) = pds
        .create_record(
            &app,
            "app.bsky.feed.post",
            json!({
                "$type": "app.bsky.feed.post",
                "text": "Kijk #fietsen",
                "createdAt": "2026-12-01T10:00:00.000Z",
                "langs": ["nl"],
                "facets": [{"index": {"byteStart": 5, "byteEnd": 13},
                    "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "fietsen"}]}],
                "embed": {"$type": "app.bsky.embed.images",
                    "images": [{"alt": "een pixel", "image": blob}]},
            }),
        )
        .await;
    let stored = pds.record(&uri).await;
    assert_eq!(stored["langs"], json!(["nl"]));
    assert_eq!(stored["facets"][0]["features"][0]["tag"], "fietsen");
    assert_eq!(
        stored["embed"]["images"][0]["image"]["ref"]["$link"],
        cid.as_str()
    );
    assert_eq!(pds.blob(&alice.did, &cid).await, BlueskyPeer::PNG_1X1);
    let posts = pds.records(&alice.did, "app.bsky.feed.post").await;
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0]["uri"], uri.as_str(), "newest first");

    // The lexicon is checked for real.
    let (status, invalid) = pds
        .procedure(
            Some(&app.access_jwt),
            "com.atproto.repo.createRecord",
            &json!({"repo": alice.did, "collection": "app.bsky.feed.post",
                "record": {"$type": "app.bsky.feed.post", "text": 123, "createdAt": "2026-12-01T10:00:00.000Z"}}),
        )
        .await;
    assert_eq!(
        (status, invalid["error"].as_str()),
        (400, Some("InvalidRequest"))
    );

    // A missing record, as a retry after an unknown outcome looks it up.
    let gone = format!("at://{}/app.bsky.feed.post/3kaaaaaaaaaaa", alice.did);
    assert_eq!(pds.try_record(&gone).await, None);
    pds.delete_record(&app, &first.0).await;
    assert_eq!(pds.try_record(&first.0).await, None);

    // Sessions are refreshed; a revoked one is refused.
    let refreshed = pds.refresh(&app).await;
    // (Access tokens made in the same second are the same; refresh tokens carry a jti.)
    assert_ne!(refreshed.refresh_jwt, app.refresh_jwt);
    let (status, again) = pds
        .procedure(
            Some(&app.refresh_jwt),
            "com.atproto.server.refreshSession",
            &serde_json::Value::Null,
        )
        .await;
    assert_eq!(
        status, 200,
        "a used refresh token has 2 hours' grace: {again}"
    );
    let (status, _) = pds
        .query(
            Some(&refreshed.access_jwt),
            "com.atproto.server.getSession",
            &[],
        )
        .await;
    assert_eq!(status, 200);
    pds.revoke_app_password(&alice, "dialoog").await;
    let (status, revoked) = pds
        .procedure(
            Some(&refreshed.refresh_jwt),
            "com.atproto.server.refreshSession",
            &serde_json::Value::Null,
        )
        .await;
    assert_eq!(
        (status, revoked["error"].as_str()),
        (400, Some("ExpiredToken")),
        "{revoked}"
    );

    // Without an AppView there are no notifications or post views.
    for (nsid, params) in [
        (
            "app.bsky.notification.listNotifications",
            vec![("limit", "10")],
        ),
        ("app.bsky.feed.getPosts", vec![("uris", answer.0.as_str())]),
    ] {
        let (status, v) = pds.query(Some(&bob.access_jwt), nsid, &params).await;
        assert_eq!(status, 400, "{nsid}: {v}");
        assert_eq!(
            v,
            json!({"error": "InvalidRequest", "message": format!("No service configured for {nsid}")})
        );
    }

    // A taken-down account can no longer sign in.
    pds.take_down(&bob).await;
    let (status, down) = pds
        .procedure(
            None,
            "com.atproto.server.createSession",
            &json!({"identifier": "bob.test", "password": "bob-password"}),
        )
        .await;
    assert_eq!(
        (status, down["error"].as_str()),
        (401, Some("AccountTakedown"))
    );
    let (status, refused) = pds
        .query(Some(&bob.access_jwt), "com.atproto.server.getSession", &[])
        .await;
    assert_eq!(status, 400, "getSession when taken down: {refused}");
    let (status, refused) = pds
        .procedure(
            Some(&bob.access_jwt),
            "com.atproto.repo.createRecord",
            &json!({"repo": bob.did, "collection": "app.bsky.feed.post",
                "record": {"$type": "app.bsky.feed.post", "text": "nog één", "createdAt": "2026-12-01T10:00:00.000Z"}}),
        )
        .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (401, Some("AccountTakedown")),
        "{refused}"
    );

    eprintln!("all done in {:?}", started.elapsed());
}
