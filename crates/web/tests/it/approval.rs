//! Approval end to end through the API: an editor's post waits in review
//! (and the dispatcher never takes it), a manager approves or sends it back
//! with a reason, and every step is in the audit log. On SQLite and
//! PostgreSQL, with the Mastodon test server as the channel.

use crate::harness::App;
use dialoog_engine::Cipher;
use dialoog_engine::dispatcher::{DispatcherConfig, dispatch_once, now_ms};
use dialoog_networks::testing::MastodonPeer;
use reqwest::StatusCode;
use serde_json::{Value, json};
pub struct Team {
    pub owner: String,
    pub editor: String,
    pub editor_id: i64,
    pub manager: String,
    pub manager2: String,
    pub client: String,
    pub channel: i64,
}

pub async fn team(app: &App, peer: &MastodonPeer) -> Team {
    let owner = app.setup().await;
    let (editor, editor_id) = app.member(&owner, 1, "editor@bakkerij.nl", "editor").await;
    let (manager, _) = app
        .member(&owner, 1, "manager@bakkerij.nl", "manager")
        .await;
    let (manager2, _) = app.member(&owner, 1, "bram@bakkerij.nl", "manager").await;
    let (client, _) = app.member(&owner, 1, "klant@bakkerij.nl", "client").await;
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/channels",
            Some(&owner),
            Some(json!({"network": "mastodon", "instance_url": peer.url, "access_token": "ada_token"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    Team {
        owner,
        editor,
        editor_id,
        manager,
        manager2,
        client,
        channel: v["id"].as_i64().unwrap(),
    }
}

pub const POSTS: &str = "/api/v1/workspaces/1/posts";

pub fn states(v: &Value) -> Vec<String> {
    v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap().to_owned())
        .collect()
}

pub fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

pub async fn compose(app: &App, token: &str, ch: i64, text: &str, at: Option<i64>) -> (i64, Value) {
    let mut body = json!({"text": text, "targets": [{"channel_id": ch}]});
    if let Some(at) = at {
        body["scheduled_at"] = rfc3339(at).into();
    }
    let (s, v) = app.call("POST", POSTS, Some(token), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    (v["id"].as_i64().unwrap(), v)
}

pub async fn audit_actions(app: &App) -> Vec<(Option<i64>, String, String)> {
    app.db
        .store
        .audit_for_workspace(1, None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.user_id, e.action, e.detail))
        .collect()
}

async fn approve_story(app: App, peer: MastodonPeer) {
    let t = team(&app, &peer).await;
    let setting = "/api/v1/workspaces/1/approval";
    let (_, v) = app.call("GET", setting, Some(&t.editor), None).await;
    assert_eq!(v["required"], false, "off unless set");
    let (s, _) = app
        .call(
            "PUT",
            setting,
            Some(&t.editor),
            Some(json!({"required": true})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "editors do not change settings");
    let (s, v) = app
        .call(
            "PUT",
            setting,
            Some(&t.owner),
            Some(json!({"required": "ja"})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"))
    );
    let (s, _) = app
        .call(
            "PUT",
            setting,
            Some(&t.owner),
            Some(json!({"required": true})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, v) = app.call("GET", setting, Some(&t.client), None).await;
    assert_eq!(v["required"], true);

    // The editor plans a post in ten minutes: it waits in review, and the
    // dispatcher does not take it even when it is due.
    let at = now_ms() + 600_000;
    let (id, v) = compose(
        &app,
        &t.editor,
        t.channel,
        "Vers brood vanaf zeven uur",
        Some(at),
    )
    .await;
    assert_eq!(states(&v), ["in_review"]);
    let store = &app.db.store;
    let cipher = Cipher::new([7; 32]);
    let config = DispatcherConfig::default();
    assert!(
        dispatch_once(store, &cipher, &config, at + 1000)
            .await
            .is_empty()
    );
    assert!(
        store
            .claim_targets(at + 1000, at + 60_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // The owner's own post skips review.
    let (own, v) = compose(
        &app,
        &t.owner,
        t.channel,
        "Eigen bericht",
        Some(at + 3_600_000),
    )
    .await;
    assert_eq!(states(&v), ["scheduled"]);
    // A client member approves but does not compose; an editor does not approve.
    let (s, v) = app
        .call(
            "POST",
            POSTS,
            Some(&t.client),
            Some(json!({"text": "Van de klant", "draft": true})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let approve = format!("{POSTS}/{id}/approve");
    let (s, _) = app.call("POST", &approve, Some(&t.editor), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, queue) = app
        .call(
            "GET",
            &format!("{POSTS}?state=in_review"),
            Some(&t.manager),
            None,
        )
        .await;
    let queued: Vec<i64> = queue
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(queued, [id], "the review queue");

    // Two managers approve at once: one wins, the other is told plainly.
    let (a, b) = tokio::join!(
        app.call("POST", &approve, Some(&t.manager), None),
        app.call("POST", &approve, Some(&t.manager2), None)
    );
    let mut codes = [a.0, b.0];
    codes.sort();
    assert_eq!(codes, [StatusCode::OK, StatusCode::CONFLICT], "{a:?} {b:?}");
    let lost = if a.0 == StatusCode::CONFLICT {
        &a.1
    } else {
        &b.1
    };
    assert_eq!(lost["code"], "not_in_review");
    assert!(
        lost["detail"]
            .as_str()
            .unwrap()
            .contains("someone else decided"),
        "{lost}"
    );
    let (_, v) = app
        .call("GET", &format!("{POSTS}/{id}"), Some(&t.editor), None)
        .await;
    assert_eq!(states(&v), ["scheduled"]);
    assert_eq!(v["targets"][0]["due_at"], rfc3339(at), "at its own time");
    let (_, r) = app
        .call(
            "GET",
            &format!("{POSTS}/{id}/review"),
            Some(&t.editor),
            None,
        )
        .await;
    assert_eq!(
        (r["status"].as_str(), r["round"].as_i64()),
        (Some("approved"), Some(1))
    );

    // Now the dispatcher takes it and it goes out.
    let done = dispatch_once(store, &cipher, &config, at + 1000).await;
    assert_eq!(done.len(), 1, "{done:?}");
    let (_, v) = app
        .call("GET", &format!("{POSTS}/{id}"), Some(&t.editor), None)
        .await;
    assert_eq!(states(&v), ["published"], "{v}");
    // A published post is not approved again, nor sent back.
    let (s, v) = app.call("POST", &approve, Some(&t.manager), None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_in_review"))
    );
    let (s, _) = app
        .call(
            "POST",
            &format!("{POSTS}/{id}/reject"),
            Some(&t.manager),
            Some(json!({"comment": "Toch niet"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Neither is the owner's post, which never was in review.
    let (s, _) = app
        .call(
            "POST",
            &format!("{POSTS}/{own}/approve"),
            Some(&t.manager),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);

    // The author heard, and the audit log has every step with its person.
    let told = store.notifications(t.editor_id, 10).await.unwrap();
    assert!(
        told.iter()
            .any(|n| n.kind == "post_approved" && n.subject_id == id),
        "{told:?}"
    );
    let log = audit_actions(&app).await;
    for action in [
        "workspace.approval_changed",
        "post.created",
        "post.submitted",
        "post.approved",
    ] {
        assert!(
            log.iter().any(|(who, a, d)| a == action
                && who.is_some()
                && (a.starts_with("workspace") || d.contains(&format!("\"post\":{id}")))),
            "{action} missing: {log:?}"
        );
    }
}

async fn send_back_story(app: App, peer: MastodonPeer) {
    let t = team(&app, &peer).await;
    app.call(
        "PUT",
        "/api/v1/workspaces/1/approval",
        Some(&t.owner),
        Some(json!({"required": true})),
    )
    .await;
    // "Now" waits in review too.
    let (id, v) = compose(&app, &t.editor, t.channel, "Taart van de week: appel", None).await;
    assert_eq!(states(&v), ["in_review"]);
    let reject = format!("{POSTS}/{id}/reject");
    let (s, v) = app
        .call(
            "POST",
            &reject,
            Some(&t.manager),
            Some(json!({"comment": "  "})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "a reason is required");
    assert_eq!(v["errors"][0]["field"], "comment");
    let (s, v) = app
        .call(
            "POST",
            &reject,
            Some(&t.client),
            Some(json!({"comment": "Het is peer, geen appel"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(states(&v), ["draft"]);
    let comments = format!("{POSTS}/{id}/comments");
    let (_, thread) = app.call("GET", &comments, Some(&t.editor), None).await;
    let last = thread.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["kind"].as_str(), last["text"].as_str()),
        (Some("rejected"), Some("Het is peer, geen appel"))
    );
    let told = app.db.store.notifications(t.editor_id, 10).await.unwrap();
    assert!(
        told.iter()
            .any(|n| n.kind == "post_rejected" && n.detail == "klant@bakkerij.nl")
    );

    // The editor answers, then submits again; an empty comment is refused.
    let (s, v) = app
        .call(
            "POST",
            &comments,
            Some(&t.editor),
            Some(json!({"text": ""})),
        )
        .await;
    assert_eq!(
        (s, v["errors"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("required"))
    );
    let (s, _) = app
        .call(
            "POST",
            &comments,
            Some(&t.editor),
            Some(json!({"text": "Klopt, aangepast"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let submit = format!("{POSTS}/{id}/submit");
    let (s, v) = app.call("POST", &submit, Some(&t.editor), None).await;
    assert_eq!(
        (s, states(&v)),
        (StatusCode::OK, vec!["in_review".to_owned()])
    );
    let (s, v) = app.call("POST", &submit, Some(&t.editor), None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_a_draft"))
    );
    // Approved, its time has passed: it goes now.
    let (s, v) = app
        .call(
            "POST",
            &format!("{POSTS}/{id}/approve"),
            Some(&t.manager),
            None,
        )
        .await;
    assert_eq!(
        (s, states(&v)),
        (StatusCode::OK, vec!["scheduled".to_owned()])
    );
    let due = app.db.store.post(1, id).await.unwrap().1[0].due_at.unwrap();
    assert!((now_ms() - due).abs() < 60_000, "due now");
    // Moved by the editor, the approved post goes back to review (round 3);
    // moved by a manager, it stays as it is.
    let later = rfc3339(now_ms() + 86_400_000);
    let (s, v) = app
        .call(
            "PATCH",
            &format!("{POSTS}/{id}"),
            Some(&t.editor),
            Some(json!({"scheduled_at": later})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(states(&v), ["in_review"]);
    let (_, r) = app
        .call(
            "GET",
            &format!("{POSTS}/{id}/review"),
            Some(&t.editor),
            None,
        )
        .await;
    assert_eq!(
        (r["status"].as_str(), r["round"].as_i64()),
        (Some("open"), Some(3))
    );
    app.call(
        "POST",
        &format!("{POSTS}/{id}/approve"),
        Some(&t.manager),
        None,
    )
    .await;
    let (_, v) = app
        .call(
            "PATCH",
            &format!("{POSTS}/{id}"),
            Some(&t.manager),
            Some(json!({"scheduled_at": later})),
        )
        .await;
    assert_eq!(states(&v), ["scheduled"]);
    let (_, thread) = app.call("GET", &comments, Some(&t.client), None).await;
    let kinds: Vec<&str> = thread
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "submitted",
            "rejected",
            "comment",
            "submitted",
            "approved",
            "reopened",
            "approved"
        ]
    );
    let log = audit_actions(&app).await;
    for action in ["post.rejected", "post.commented"] {
        assert!(log.iter().any(|(_, a, _)| a == action), "{action}: {log:?}");
    }
    // The editor's change of time is an edit that sends it back to review.
    assert!(
        log.iter()
            .any(|(_, a, d)| a == "post.edited" && d.contains("\"to_review\":true")),
        "{log:?}"
    );
}

#[tokio::test]
async fn editor_submits_manager_approves_dispatcher_publishes_sqlite() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    approve_story(App::sqlite().await, peer).await;
}

#[tokio::test]
async fn editor_submits_manager_approves_dispatcher_publishes_postgres() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    if let Some(app) = App::postgres().await {
        approve_story(app, peer).await;
    }
}

#[tokio::test]
async fn sent_back_with_a_reason_and_back_in_review_after_a_change_sqlite() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    send_back_story(App::sqlite().await, peer).await;
}

#[tokio::test]
async fn sent_back_with_a_reason_and_back_in_review_after_a_change_postgres() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    if let Some(app) = App::postgres().await {
        send_back_story(app, peer).await;
    }
}

/// Where approval is required of an editor, nothing of theirs goes out
/// unreviewed by another road: an import waits as drafts, a recurring post
/// is refused (its occurrences would go out without a review), and a
/// manager's import and series go ahead.
async fn other_roads_story(app: App, peer: MastodonPeer) {
    let t = team(&app, &peer).await;
    let (s, _) = app
        .call(
            "PUT",
            "/api/v1/workspaces/1/approval",
            Some(&t.manager),
            Some(json!({"required": true})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let csv = format!(
        "date,time,channels,text\n2099-06-01,09:00,{},Kerstbrood\n",
        t.channel
    );
    let (s, v) = crate::import::send(&app, &t.editor, csv.clone().into_bytes(), "en").await;
    assert_eq!(
        (s, v["imported"].as_i64()),
        (StatusCode::CREATED, Some(1)),
        "{v}"
    );
    let (_, list) = app.call("GET", POSTS, Some(&t.editor), None).await;
    assert_eq!(
        states(&list[0]),
        ["draft"],
        "the editor's import waits: {list}"
    );

    let start = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(48))
        .strftime("%Y-%m-%d")
        .to_string();
    let series = json!({"text": "Elke dag", "channels": [t.channel], "repeat": "weekly",
        "weekdays": [1, 2, 3, 4, 5, 6, 7], "time": "09:00", "start_date": start, "count": 3});
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/series",
            Some(&t.editor),
            Some(series.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["code"], "series_needs_approver");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("owner or manager"),
        "{v}"
    );
    assert!(app.db.store.series_list(1).await.unwrap().is_empty());

    let (s, v) = crate::import::send(&app, &t.manager, csv.into_bytes(), "en").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, list) = app.call("GET", POSTS, Some(&t.manager), None).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|p| states(p) == ["scheduled"]),
        "the manager's import is scheduled: {list}"
    );
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/series",
            Some(&t.manager),
            Some(series),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

#[tokio::test]
async fn approval_holds_for_imports_and_series_sqlite() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    other_roads_story(App::sqlite().await, peer).await;
}

#[tokio::test]
async fn approval_holds_for_imports_and_series_postgres() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    if let Some(app) = App::postgres().await {
        other_roads_story(app, peer).await;
    }
}
