//! Posts through the API, published by the dispatcher to the real Mastodon
//! test server: checked before storing (length as Mastodon counts it, times
//! in the past, unknown channels), published once even when the network
//! fails for a while or loses its answer, and readable with the network's
//! address.

use crate::harness::App;
use dialoog_engine::Cipher;
use dialoog_engine::dispatcher::{DispatcherConfig, dispatch_once, now_ms};
use dialoog_networks::testing::MastodonPeer;
use reqwest::StatusCode;
use serde_json::json;

async fn story(app: App, peer: MastodonPeer) {
    let owner = app.setup().await;
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/channels",
            Some(&owner),
            Some(json!({"network": "mastodon", "instance_url": peer.url, "access_token": "ada_token"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let ch = v["id"].as_i64().unwrap();
    let posts = "/api/v1/workspaces/1/posts";

    // Checked before anything is stored, in the user's words. A long link
    // counts as 23 on Mastodon; 501 letters do not fit.
    let long = "a".repeat(501);
    let (s, v) = app
        .call(
            "POST",
            posts,
            Some(&owner),
            Some(json!({"text": long, "targets": [{"channel_id": ch}]})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0]["code"], "too_long_for_channel");
    let msg = v["errors"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains("501") && msg.contains("500") && msg.contains("@ada"),
        "{msg}"
    );
    let (s, v) = app
        .call(
            "POST",
            posts,
            Some(&owner),
            Some(json!({"text": "x", "targets": [{"channel_id": 999}], "scheduled_at": "2020-01-01T09:00:00Z"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let codes: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["time_in_past", "channel_unknown"]);
    let (s, _) = app
        .call(
            "POST",
            posts,
            Some(&owner),
            Some(json!({"text": "x", "targets": [{"channel_id": ch}], "scheduled_at": "morgen"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, list) = app.call("GET", posts, Some(&owner), None).await;
    assert_eq!(list.as_array().unwrap().len(), 0, "nothing stored");

    // Now, with a link: the network first says it is busy (429), then loses
    // its answer (502): the post still appears once.
    // (The test server counts a link at its full length, unlike Mastodon,
    // so this one is short enough for both.)
    let text = format!(
        "{} https://bakkerij.example/{}",
        "a".repeat(400),
        "b".repeat(40)
    );
    let (s, v) = app
        .call(
            "POST",
            posts,
            Some(&owner),
            Some(json!({"text": text, "targets": [{"channel_id": ch}]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["targets"][0]["state"], "scheduled");
    let statuses = json!({"path": "/api/v1/statuses", "methods": ["POST"]});
    peer.fault(json!({"match": statuses, "effect": {"type": "ratelimit"}, "count": 1}))
        .await;
    peer.fault(json!({"match": statuses, "effect": {"type": "status", "status": 502}, "count": 1}))
        .await;
    let store = &app.db.store;
    let cipher = Cipher::new([7; 32]);
    let config = DispatcherConfig::default();
    let mut t = now_ms();
    for _ in 0..4 {
        dispatch_once(store, &cipher, &config, t).await;
        let (_, v) = app
            .call("GET", &format!("{posts}/{id}"), Some(&owner), None)
            .await;
        if v["targets"][0]["state"] == "published" {
            break;
        }
        assert_eq!(v["targets"][0]["state"], "scheduled", "{v}");
        // Step to its next time.
        t = store.post(1, id).await.unwrap().1[0].due_at.unwrap();
    }
    let (_, v) = app
        .call("GET", &format!("{posts}/{id}"), Some(&owner), None)
        .await;
    let target = &v["targets"][0];
    assert_eq!(target["state"], "published", "{v}");
    let remote = target["remote_id"].as_str().unwrap();
    assert!(target["remote_url"].as_str().unwrap().contains(remote));
    let me = peer
        .call(
            "ada_token",
            "GET",
            "/api/v1/accounts/verify_credentials",
            &[],
        )
        .await;
    let me = me["id"].as_str().unwrap();
    let timeline = peer
        .call(
            "ada_token",
            "GET",
            &format!("/api/v1/accounts/{me}/statuses"),
            &[],
        )
        .await;
    let ours: Vec<&serde_json::Value> = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["content"]
                .as_str()
                .unwrap_or("")
                .contains("bakkerij.example")
        })
        .collect();
    assert_eq!(ours.len(), 1, "published exactly once: {timeline}");

    // A later post is in the plan between its dates, and can be deleted
    // before it goes.
    let (s, v) = app
        .call(
            "POST",
            posts,
            Some(&owner),
            Some(json!({"text": "Morgen vers", "targets": [{"channel_id": ch}], "scheduled_at": "2099-03-29T09:00:00+02:00"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let later = v["id"].as_i64().unwrap();
    assert_eq!(v["scheduled_at"], "2099-03-29T07:00:00Z");
    let (_, plan) = app
        .call(
            "GET",
            &format!("{posts}?from=2099-03-01T00:00:00Z&to=2099-04-01T00:00:00Z"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(plan.as_array().unwrap().len(), 1);
    assert_eq!(plan[0]["id"], later);
    // Moved to another time (02:30 on the October change, given with its
    // offset, is the first of the two); a time in the past is refused.
    let (s, v) = app
        .call(
            "PATCH",
            &format!("{posts}/{later}"),
            Some(&owner),
            Some(json!({"scheduled_at": "2099-10-25T02:30:00+02:00"})),
        )
        .await;
    assert_eq!(
        (s, v["scheduled_at"].as_str()),
        (StatusCode::OK, Some("2099-10-25T00:30:00Z")),
        "{v}"
    );
    let (s, v) = app
        .call(
            "PATCH",
            &format!("{posts}/{later}"),
            Some(&owner),
            Some(json!({"scheduled_at": "2001-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(
        (s, v["errors"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("time_in_past"))
    );
    // The published post cannot be moved, and only unconfirmed targets are
    // settled.
    let (s, v) = app
        .call(
            "PATCH",
            &format!("{posts}/{id}"),
            Some(&owner),
            Some(json!({"scheduled_at": "2099-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("post_sent"))
    );
    let published = store.post(1, id).await.unwrap().1[0].id;
    let (s, _) = app
        .call(
            "POST",
            &format!("{posts}/{id}/targets/{published}/settle"),
            Some(&owner),
            Some(json!({"found": true})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .call("DELETE", &format!("{posts}/{later}"), Some(&owner), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app
        .call("GET", &format!("{posts}/{later}"), Some(&owner), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn posts_go_out_once_to_mastodon_sqlite() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    story(App::sqlite().await, peer).await;
}

#[tokio::test]
async fn posts_go_out_once_to_mastodon_postgres() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    if let Some(app) = App::postgres().await {
        story(app, peer).await;
    }
}
