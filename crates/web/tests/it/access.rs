//! The access matrix: for every route and every role, another workspace's
//! data can be neither read nor changed, and inside one's own workspace each
//! role gets exactly what `Role::can` allows.

use crate::access_routes::{scoped_api, scoped_ui};
use crate::browser::Browser;
use crate::harness::App;
use dialoog_domain::Role;
use reqwest::StatusCode;
use serde_json::json;

struct World {
    app: App,
    /// Workspace A, where each role has a member; workspace B, where none does.
    a: i64,
    b: i64,
    /// The owner of B (a member there), and of A.
    b_owner: i64,
    owner_token: String,
    /// role → (token, user id, email), members of A only.
    people: Vec<(Role, String, i64, String)>,
    /// A feed to connect channels to, and a channel of B.
    feed: crate::feeds::FeedServer,
    b_channel: i64,
    /// A draft and a post in review in B.
    b_posts: (i64, i64),
    /// A recurring post in each workspace.
    a_series: i64,
    b_series: i64,
    /// A conversation in each workspace, and its author's contact and
    /// identity.
    a_conv: i64,
    b_conv: i64,
    a_contact: (i64, i64),
    b_contact: (i64, i64),
    /// A listening query and source in each workspace.
    a_listen: (i64, i64),
    b_listen: (i64, i64),
    /// The conversations' inbound items.
    a_item: i64,
    b_item: i64,
}

async fn world() -> World {
    let app = App::sqlite().await;
    let owner = app.setup().await;
    let a = app.workspace(&owner, "A").await;
    let b = app.workspace(&owner, "B").await;
    let mut people = vec![];
    for role in Role::ALL {
        let email = format!("{role}@a.nl");
        let (token, id) = app.member(&owner, a, &email, role.as_str()).await;
        people.push((role, token, id, email));
    }
    // B's owner is somebody no one in A is: the matrix users are strangers to B.
    let (_, b_owner) = app.member(&owner, b, "owner@b.nl", "owner").await;
    let feed =
        crate::feeds::FeedServer::start(crate::feeds::rss(&[("1", "Taart", "Lekker")])).await;
    let b_channel = channel(&app, &owner, b, &feed.url).await;
    // A planned draft in A, the calendar's move form's subject (post 1).
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/workspaces/{a}/posts"),
            Some(&owner),
            Some(json!({"text": "Kerstbrood", "draft": true, "scheduled_at": "2030-01-10T09:00:00Z"})),
        )
        .await;
    assert_eq!((s, v["id"].as_i64()), (StatusCode::CREATED, Some(1)), "{v}");
    let b_posts = review_posts(&app, b, b_channel).await;
    let a_series = crate::access_schedule::series(&app, a).await;
    let b_series = crate::access_schedule::series(&app, b).await;
    let a_feed = channel(&app, &owner, a, &feed.url).await;
    let a_conv = crate::access_inbox::conversation(&app, a, a_feed).await;
    let b_conv = crate::access_inbox::conversation(&app, b, b_channel).await;
    let a_contact = crate::access_inbox::contact(&app, a_conv).await;
    let b_contact = crate::access_inbox::contact(&app, b_conv).await;
    let a_listen = crate::access_listening::setup(&app, a, &feed.url).await;
    let b_listen = crate::access_listening::setup(&app, b, &feed.url).await;
    let a_item = crate::access_inbox::item(&app, a_conv).await;
    let b_item = crate::access_inbox::item(&app, b_conv).await;
    World {
        a_listen,
        b_listen,
        a_item,
        b_item,
        a_contact,
        b_contact,
        a_conv,
        b_conv,
        b_posts,
        app,
        a,
        b,
        b_owner,
        owner_token: owner,
        people,
        feed,
        b_channel,
        a_series,
        b_series,
    }
}

pub async fn channel(app: &App, owner: &str, ws: i64, feed: &str) -> i64 {
    let body = json!({"network": "rss", "feed_url": feed});
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/workspaces/{ws}/channels"),
            Some(owner),
            Some(body),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

fn fill(path: &str, ws: i64, user: i64, channel: i64, post: (i64, i64)) -> String {
    path.replace("{ws}", &ws.to_string())
        .replace("{user_id}", &user.to_string())
        .replace("{channel}", &channel.to_string())
        .replace("{draft}", &post.0.to_string())
        .replace("{post}", &post.1.to_string())
        .replace("{planned}", "1")
}

/// A draft and a post in review (round 1) going to `channel`, made in the
/// store: the matrix's channels are feeds, which cannot publish.
pub async fn review_posts(app: &App, ws: i64, channel: i64) -> (i64, i64) {
    use dialoog_store::{Actor, NewPost, NewTarget};
    let s = &app.db.store;
    let mut ids = vec![];
    for state in ["draft", "in_review"] {
        let new = NewPost {
            workspace_id: ws,
            author_id: None,
            text: "Ter goedkeuring".into(),
            scheduled_at: Some(4_102_444_800_000),
            state: state.into(),
            targets: vec![NewTarget {
                channel_id: channel,
                network: "mastodon".into(),
                channel_name: "Bakkerij".into(),
                text: None,
                idempotency_key: format!("k{ws}{channel}{state}"),
            }],
        };
        let (post, _) = s.create_post(&new, 1).await.unwrap();
        if state == "in_review" {
            let who = Actor {
                user_id: None,
                name: "Test",
            };
            s.start_review(post.id, who, 1).await.unwrap();
        }
        ids.push(post.id);
    }
    (ids[0], ids[1])
}

/// The series of the workspace the path is filled for.
fn with_series(path: String, w: &World, ws: i64) -> String {
    let (id, conv, contact, listen, item) = if ws == w.a {
        (w.a_series, w.a_conv, w.a_contact, w.a_listen, w.a_item)
    } else {
        (w.b_series, w.b_conv, w.b_contact, w.b_listen, w.b_item)
    };
    path.replace("{series}", &id.to_string())
        .replace("{conv_item}", &item.to_string())
        .replace("{conv}", &conv.to_string())
        .replace("{contact}", &contact.0.to_string())
        .replace("{identity}", &contact.1.to_string())
        .replace("{query}", &listen.0.to_string())
        .replace("{source}", &listen.1.to_string())
}

async fn snapshot(w: &World) -> (String, usize, usize) {
    let s = &w.app.db.store;
    let ws = s
        .membership(w.b, w.b_owner)
        .await
        .unwrap()
        .unwrap()
        .workspace;
    (
        format!("{}|{}", ws.name, ws.timezone),
        s.members(w.b).await.unwrap().len(),
        s.audit_for_workspace(w.b, None, 1000).await.unwrap().len(),
    )
}

#[tokio::test]
async fn no_role_reaches_another_workspace() {
    let w = world().await;
    let before = snapshot(&w).await;
    for (role, token, _, email) in &w.people {
        for (method, path, _, body, _) in scoped_api(&w.feed.url) {
            let p = with_series(fill(path, w.b, w.b_owner, w.b_channel, w.b_posts), &w, w.b);
            let (s, v) = w.app.call(method, &p, Some(token), body).await;
            assert_eq!(
                s,
                StatusCode::NOT_FOUND,
                "API {method} {path} as {role} of A on B: {v}"
            );
        }
        let browser = Browser::signed_in(&w.app, email).await;
        for (method, path, _, form) in scoped_ui(&w.feed.url) {
            let p = with_series(fill(path, w.b, w.b_owner, w.b_channel, w.b_posts), &w, w.b);
            let r = if method == "GET" {
                browser.get(&w.app, &p).await
            } else {
                browser.post(&w.app, &p, &form).await
            };
            assert_eq!(
                r.status(),
                StatusCode::NOT_FOUND,
                "UI {method} {path} as {role} of A on B"
            );
            let html = r.text().await.unwrap();
            assert!(
                !html.contains("owner@b.nl") && !html.contains(">B<"),
                "UI {method} {path} leaked B"
            );
        }
        // A token of another person cannot be revoked either.
        let other = w.people.iter().find(|p| p.0 != *role).unwrap();
        let their = w.app.db.store.api_tokens(other.2).await.unwrap()[0].id;
        let (s, _) = w
            .app
            .call(
                "DELETE",
                &format!("/api/v1/auth/tokens/{their}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(w.app.db.store.api_tokens(other.2).await.unwrap().len(), 1);
    }
    assert_eq!(snapshot(&w).await, before, "workspace B changed");
    // The listing shows only A (and B for nobody in A).
    for (_, token, _, _) in &w.people {
        let (_, list) = w
            .app
            .call("GET", "/api/v1/workspaces", Some(token), None)
            .await;
        let ids: Vec<i64> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [w.a]);
    }
}

#[tokio::test]
async fn each_role_gets_what_it_may_in_its_own_workspace() {
    let w = world().await;
    // The target of member changes: a fresh client member of A per attempt.
    let mut n = 0;
    for (role, token, _, email) in &w.people {
        let browser = Browser::signed_in(&w.app, email).await;
        for (method, path, action, body, ok) in scoped_api(&w.feed.url) {
            n += 1;
            let (_, target) = w
                .app
                .member(&w.owner_token, w.a, &format!("target{n}@a.nl"), "client")
                .await;
            let ch = channel(&w.app, &w.owner_token, w.a, &w.feed.url).await;
            let posts = review_posts(&w.app, w.a, ch).await;
            let (s, v) = w
                .app
                .call(
                    method,
                    &with_series(fill(path, w.a, target, ch, posts), &w, w.a),
                    Some(token),
                    body,
                )
                .await;
            let expected = if role.can(action) {
                ok
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(s, expected, "API {method} {path} as {role}: {v}");
            w.app.db.store.remove_member(w.a, target).await.ok();
            // The approval setting may have been turned on: each route is
            // tried without it (approval has its own tests).
            w.app
                .db
                .store
                .set_approval_required(w.a, false, 0)
                .await
                .unwrap();
        }
        for (method, path, action, form) in scoped_ui(&w.feed.url) {
            n += 1;
            let (_, target) = w
                .app
                .member(&w.owner_token, w.a, &format!("target{n}@a.nl"), "client")
                .await;
            let ch = channel(&w.app, &w.owner_token, w.a, &w.feed.url).await;
            let posts = review_posts(&w.app, w.a, ch).await;
            let p = with_series(fill(path, w.a, target, ch, posts), &w, w.a);
            let r = if method == "GET" {
                browser.get(&w.app, &p).await
            } else {
                browser.post(&w.app, &p, &form).await
            };
            let allowed = role.can(action);
            let s = r.status();
            let checks_input = path.ends_with("/channels/email")
                || (method == "POST" && path.ends_with("/posts/import"));
            if allowed && checks_input {
                assert_eq!(
                    s,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "UI {method} {path} as {role}"
                );
            } else if allowed {
                assert!(
                    s == StatusCode::OK || s == StatusCode::SEE_OTHER,
                    "UI {method} {path} as {role}: {s}"
                );
            } else {
                assert_eq!(s, StatusCode::FORBIDDEN, "UI {method} {path} as {role}");
            }
            w.app.db.store.remove_member(w.a, target).await.ok();
            // The approval setting may have been turned on: each route is
            // tried without it (approval has its own tests).
            w.app
                .db
                .store
                .set_approval_required(w.a, false, 0)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn every_ui_form_refuses_a_missing_or_wrong_csrf_token() {
    let w = world().await;
    let owner_email = "anna@bakkerij.nl";
    let browser = Browser::signed_in(&w.app, owner_email).await;
    for (method, path) in dialoog_web::ui::ROUTES {
        if *method != "POST" {
            continue;
        }
        let p = fill(path, w.a, w.b_owner, 1, (1, 1))
            .replace("{id}", "1")
            .replace("{entry}", "1")
            .replace("{identity}", "1")
            .replace("{token}", "x")
            .replace("{code}", "x");
        for body in ["name=x", "name=x&_csrf=forged-token-value"] {
            let r = browser
                .http
                .post(format!("{}{p}", w.app.url))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "POST {path} with {body}");
            let html = r.text().await.unwrap();
            assert!(
                html.contains("Dit formulier is verlopen")
                    || html.contains("This form has expired"),
                "{path}"
            );
        }
    }
}
