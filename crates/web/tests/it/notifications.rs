//! Notifications in the app and the API: a post that did not go out is
//! there with the network's reason, in the person's language and their
//! workspace's timezone; the unread count is on every page; marking read;
//! nobody sees another's, nor those of a workspace they left.

use crate::browser::Browser;
use crate::harness::App;
use crate::notify_mail::{NOW, post_that_ends};
use dialoog_store::Outcome;
use reqwest::StatusCode;
use serde_json::Value;

async fn list(app: &App, token: &str, lang: &str) -> Value {
    let r = app
        .http
        .get(format!("{}/api/v1/notifications", app.url))
        .bearer_auth(token)
        .header("accept-language", lang)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn html(b: &Browser, app: &App, path: &str) -> String {
    let r = b.get(app, path).await;
    assert_eq!(r.status(), StatusCode::OK, "GET {path}");
    r.text().await.unwrap()
}

async fn story(app: App) {
    let owner = app.setup().await;
    let (eva, eva_id) = app.member(&owner, 1, "eva@bakkerij.nl", "editor").await;
    let store = &app.db.store;
    let masto = store
        .create_channel(1, "mastodon", "@bakkerij", b"x", NOW)
        .await
        .unwrap()
        .id;
    // Anna's post is refused by the network.
    let post = post_that_ends(
        store,
        1,
        masto,
        "Verse croissants vanaf zeven uur",
        Outcome::Failed {
            code: "rejected".into(),
            error: "Validation failed: Text character limit of 500 exceeded".into(),
        },
    )
    .await;

    // The API: in English by default, with the reason as a code and in words.
    let v = list(&app, &owner, "en").await;
    assert_eq!(v["unread"], 1, "{v}");
    let n = &v["notifications"][0];
    assert_eq!(n["kind"], "post_failed");
    assert_eq!(n["title"], "Not published on @bakkerij");
    assert_eq!(n["reason_code"], "rejected");
    assert_eq!(n["reason"], "The network refused the post.");
    assert_eq!(
        n["network_error"],
        "Validation failed: Text character limit of 500 exceeded"
    );
    assert_eq!(n["post_id"], post);
    assert_eq!(n["url"], format!("/w/1/posts#post-{post}"));
    assert_eq!(n["read"], false);
    let v = list(&app, &owner, "nl").await;
    assert_eq!(
        v["notifications"][0]["title"],
        "Niet gepubliceerd op @bakkerij"
    );
    // Eva, in the same workspace, sees nothing of it.
    let v = list(&app, &eva, "en").await;
    assert_eq!(
        (
            v["unread"].as_i64(),
            v["notifications"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0)),
        "{v}"
    );

    // The pages: the count on every page, in words too; the list in
    // Dutch, at Amsterdam's wall time (14:13 UTC is 16:13 there).
    let anna = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    for path in ["/w/1", "/account", "/workspaces", "/w/1/calendar"] {
        let page = html(&anna, &app, path).await;
        assert!(
            page.contains(r#"<span class="badge">1<span class="sr"> ongelezen</span></span>"#),
            "{path}: {page}"
        );
    }
    let page = html(&anna, &app, "/notifications").await;
    assert!(page.contains("Niet gepubliceerd op @bakkerij"), "{page}");
    assert!(page.contains("Het netwerk heeft het bericht geweigerd."));
    assert!(
        page.contains("Het netwerk zei: Validation failed: Text character limit of 500 exceeded")
    );
    assert!(page.contains("Verse croissants vanaf zeven uur"));
    assert!(page.contains("16:13"), "{page}");
    assert!(page.contains(&format!(r#"href="/w/1/posts#post-{post}""#)));
    assert!(page.contains(r#"<strong class="badge">Nieuw</strong>"#));
    let eva_browser = Browser::signed_in(&app, "eva@bakkerij.nl").await;
    let theirs = html(&eva_browser, &app, "/notifications").await;
    assert!(!theirs.contains("Niet gepubliceerd") && !theirs.contains("croissants"));
    assert!(theirs.contains("Je hebt geen meldingen."));
    assert!(!theirs.contains(r#"class="badge""#));

    // Eva marking hers read leaves Anna's unread.
    let r = eva_browser.post(&app, "/notifications/read", "").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(list(&app, &owner, "en").await["unread"], 1);
    // Without the form's token nothing is marked.
    let r = anna
        .http
        .post(format!("{}/notifications/read", app.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("_csrf=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Dit formulier is verlopen")
    );
    assert_eq!(list(&app, &owner, "en").await["unread"], 1);
    // Anna marks all read.
    let r = anna.post(&app, "/notifications/read", "").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        "/notifications?done=notifications_read"
    );
    let page = html(&anna, &app, "/notifications?done=notifications_read").await;
    assert!(page.contains("Alle meldingen zijn als gelezen gemarkeerd."));
    assert!(page.contains("Niet gepubliceerd op @bakkerij"));
    assert!(!page.contains(r#"class="badge""#), "{page}");
    let v = list(&app, &owner, "en").await;
    assert_eq!(
        (v["unread"].as_i64(), &v["notifications"][0]["read"]),
        (Some(0), &Value::Bool(true))
    );

    // A comment for Eva: hers to see, until she leaves the workspace.
    store
        .notify(eva_id, 1, "post_commented", post, "Anna", NOW + 1)
        .await
        .unwrap();
    let v = list(&app, &eva, "nl").await;
    assert_eq!(v["unread"], 1, "{v}");
    assert_eq!(
        v["notifications"][0]["title"],
        "Anna heeft op je bericht gereageerd"
    );
    assert_eq!(v["notifications"][0]["reason"], Value::Null);
    assert_eq!(
        list(&app, &owner, "en").await["notifications"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (s, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/workspaces/1/members/{eva_id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let v = list(&app, &eva, "en").await;
    assert_eq!(
        (
            v["unread"].as_i64(),
            v["notifications"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0)),
        "{v}"
    );
    let theirs = html(&eva_browser, &app, "/workspaces").await;
    assert!(!theirs.contains(r#"class="badge""#));

    // The API's own checks: marking read, a bad limit, no token.
    store
        .notify(1, 1, "post_approved", post, "Eva", NOW + 2)
        .await
        .unwrap();
    assert_eq!(list(&app, &owner, "en").await["unread"], 1);
    let (s, _) = app
        .call("POST", "/api/v1/notifications/read", Some(&owner), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let v = list(&app, &owner, "en").await;
    assert_eq!(v["unread"], 0);
    assert_eq!(v["notifications"][0]["title"], "Eva approved your post");
    let (s, v) = app
        .call(
            "GET",
            "/api/v1/notifications?limit=veel",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_body")),
        "{v}"
    );
    let (s, v) = app
        .call("GET", "/api/v1/notifications?limit=1", Some(&owner), None)
        .await;
    assert_eq!(
        (s, v["notifications"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(1))
    );
    for (method, path) in [
        ("GET", "/api/v1/notifications"),
        ("POST", "/api/v1/notifications/read"),
    ] {
        let (s, v) = app.call(method, path, None, None).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
        );
    }
    // The page, signed out, sends to sign in.
    let r = app
        .http
        .get(format!("{}/notifications", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/sign-in");
}

#[tokio::test]
async fn sqlite_a_failed_post_is_a_notification_for_its_author_only() {
    story(App::sqlite().await).await;
}

#[tokio::test]
async fn postgres_a_failed_post_is_a_notification_for_its_author_only() {
    if let Some(app) = App::postgres().await {
        story(app).await;
    }
}

/// The access matrix's rows for the person's own routes: every role sees
/// exactly its own notifications, never those of a workspace it is not in,
/// and marking read touches only its own.
#[tokio::test]
async fn every_role_sees_only_its_own_notifications() {
    use dialoog_domain::Role;
    let app = App::sqlite().await;
    let owner = app.setup().await;
    let a = app.workspace(&owner, "A").await;
    let b = app.workspace(&owner, "B").await;
    let (_, b_owner) = app.member(&owner, b, "owner@b.nl", "owner").await;
    let store = &app.db.store;
    store
        .notify(b_owner, b, "post_failed", 99, "Geheim kanaal", NOW)
        .await
        .unwrap();
    let mut people = vec![];
    for role in Role::ALL {
        let email = format!("{role}@a.nl");
        let (token, id) = app.member(&owner, a, &email, role.as_str()).await;
        store
            .notify(id, a, "post_commented", 1, &format!("Over {role}"), NOW)
            .await
            .unwrap();
        // One in B, where this person is not a member (any more).
        store
            .notify(id, b, "post_failed", 99, "Geheim kanaal", NOW)
            .await
            .unwrap();
        people.push((role, token, email));
    }
    for (role, token, email) in &people {
        let v = list(&app, token, "nl").await;
        let got = v["notifications"].as_array().unwrap();
        assert_eq!(
            (v["unread"].as_i64(), got.len()),
            (Some(1), 1),
            "{role}: {v}"
        );
        assert_eq!(got[0]["workspace_id"], a, "{role}");
        assert_eq!(got[0]["detail"], format!("Over {role}"), "{role}");
        let browser = Browser::signed_in(&app, email).await;
        let page = html(&browser, &app, "/notifications").await;
        assert!(
            page.contains(&format!("Over {role} heeft op je bericht gereageerd")),
            "{role}"
        );
        assert!(
            !page.contains("Geheim kanaal") && !page.contains(">B<"),
            "{role}"
        );
        let r = browser.post(&app, "/notifications/read", "").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{role}");
        assert_eq!(list(&app, token, "nl").await["unread"], 0, "{role}");
    }
    // B's owner still has theirs unread.
    let b_token = {
        let (s, v) = app
            .call(
                "POST",
                "/api/v1/auth/tokens",
                None,
                Some(serde_json::json!({"email": "owner@b.nl", "password": crate::harness::PASSWORD, "name": "t"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["token"].as_str().unwrap().to_owned()
    };
    let v = list(&app, &b_token, "nl").await;
    assert_eq!(v["unread"], 1, "{v}");
    assert_eq!(
        v["notifications"][0]["title"],
        "Niet gepubliceerd op Geheim kanaal"
    );
}

/// The e-mail words a review decision as the app does, not as a failure.
#[test]
fn a_decision_is_mailed_in_the_apps_words() {
    use dialoog_store::{MailNotice, Notification};
    let notice = |kind: &str, locale: &str| MailNotice {
        notification: Notification {
            id: 1,
            user_id: 2,
            workspace_id: 3,
            kind: kind.into(),
            subject_id: 4,
            detail: "Eva".into(),
            created_at: NOW,
            read_at: None,
            mailed_at: None,
        },
        email: "anna@bakkerij.nl".into(),
        name: "Anna".into(),
        locale: locale.into(),
        post_text: "Verse croissants".into(),
        error_code: String::new(),
        error: String::new(),
    };
    let url = "https://dialoog.bakkerij.example";
    let (subject, body) = dialoog_web::notify_mail::message(&notice("post_approved", "nl"), url);
    assert_eq!(subject, "Eva heeft je bericht goedgekeurd");
    assert!(body.contains("Verse croissants"), "{body}");
    assert!(body.contains("https://dialoog.bakkerij.example/w/3/posts#post-4"));
    assert!(
        !body.contains("niet gepubliceerd") && !body.contains("Waarom"),
        "{body}"
    );
    let (subject, _) = dialoog_web::notify_mail::message(&notice("post_rejected", "en"), url);
    assert_eq!(subject, "Eva sent your post back");
    let (subject, body) = dialoog_web::notify_mail::message(&notice("post_failed", "en"), url);
    assert_eq!(subject, "Not published on Eva");
    assert!(
        body.contains("Why: The network did not take the post."),
        "{body}"
    );
}
