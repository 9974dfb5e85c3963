//! Approval by a client: through a secret link without an account (used,
//! expired and forged links get a clear page in Dutch and English), and as
//! a member on the posts page, where each role sees its own buttons.

use crate::approval::{POSTS, audit_actions, compose, states, team};
use crate::browser::{Browser, csrf_in};
use crate::harness::App;
use dialoog_networks::testing::MastodonPeer;
use reqwest::StatusCode;
use serde_json::json;
/// An anonymous browser in one language.
async fn visitor(lang: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("accept-language", lang.parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn client_link_story(app: App, peer: MastodonPeer) {
    let t = team(&app, &peer).await;
    app.call(
        "PUT",
        "/api/v1/workspaces/1/approval",
        Some(&t.owner),
        Some(json!({"required": true})),
    )
    .await;
    // 1 June 2099, 07:00 UTC is 09:00 in Amsterdam.
    let at = 4_083_980_400_000;
    let (id, _) = compose(&app, &t.editor, t.channel, "Zomerbrood is terug", Some(at)).await;
    let (s, _) = app
        .call(
            "POST",
            &format!("{POSTS}/{id}/client-link"),
            Some(&t.editor),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "editors do not hand out approval");
    let (s, v) = app
        .call(
            "POST",
            &format!("{POSTS}/{id}/client-link"),
            Some(&t.manager),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let url = v["url"].as_str().unwrap().to_owned();
    let token = url.rsplit('/').next().unwrap().to_owned();
    assert_eq!(token.len(), 43, "256 random bits");
    assert!(
        app.db.store.approval_link(&token).await.unwrap().is_none(),
        "only the hash is stored"
    );

    let nl = visitor("nl").await;
    let html = nl.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("Zomerbrood is terug")
            && html.contains("1 jun. 2099 09:00")
            && html.contains("Europe/Amsterdam")
            && html.contains("Goedkeuren"),
        "{html}"
    );
    let csrf = csrf_in(&html);
    // A comment, then a forged form, then the approval.
    let r = nl
        .post(format!("{url}/comment"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("name", "Joke de Vries"),
            ("text", "Mooi, maar zet er de prijs bij"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("je opmerking is doorgegeven")
    );
    let r = nl
        .post(format!("{url}/approve"))
        .form(&[("_csrf", "vervalst"), ("name", "Joke")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = nl
        .post(format!("{url}/approve"))
        .form(&[("_csrf", csrf.as_str()), ("name", "Joke de Vries")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("het bericht is goedgekeurd")
    );
    let (_, v) = app
        .call("GET", &format!("{POSTS}/{id}"), Some(&t.editor), None)
        .await;
    assert_eq!(states(&v), ["scheduled"]);
    let (_, thread) = app
        .call(
            "GET",
            &format!("{POSTS}/{id}/comments"),
            Some(&t.editor),
            None,
        )
        .await;
    let by_client: Vec<(&str, &str)> = thread
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["user_id"].is_null())
        .map(|c| {
            (
                c["kind"].as_str().unwrap(),
                c["author_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_client,
        [("comment", "Joke de Vries"), ("approved", "Joke de Vries")]
    );
    let log = audit_actions(&app).await;
    assert!(
        log.iter().any(|(who, a, d)| a == "post.approved"
            && who.is_none()
            && d.contains("client_link")
            && d.contains("Joke de Vries")),
        "{log:?}"
    );
    assert!(log.iter().any(|(_, a, _)| a == "post.client_link_created"));

    // Used: a clear page in both languages.
    let r = nl.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("al gebruikt"));
    let en = visitor("en").await;
    let r = en.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("has been used already"));
    // Forged.
    let forged = format!("{}/review/{}", app.url, "A".repeat(43));
    let r = nl.get(&forged).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Deze goedkeuringslink bestaat niet")
    );
    let r = en.get(&forged).send().await.unwrap();
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("This approval link does not exist")
    );
    // Expired: its post left review (sent back) before the client looked;
    // posting the old form changes nothing.
    let (other, _) = compose(&app, &t.editor, t.channel, "Kerststol bestellen", Some(at)).await;
    let (_, v) = app
        .call(
            "POST",
            &format!("{POSTS}/{other}/client-link"),
            Some(&t.client),
            None,
        )
        .await;
    let url2 = v["url"].as_str().unwrap().to_owned();
    let html = en.get(&url2).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_in(&html);
    app.call(
        "POST",
        &format!("{POSTS}/{other}/reject"),
        Some(&t.manager),
        Some(json!({"comment": "Te vroeg"})),
    )
    .await;
    let r = en
        .post(format!("{url2}/approve"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("This approval link has expired")
    );
    let r = nl.get(&url2).send().await.unwrap();
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Deze goedkeuringslink is verlopen")
    );
    let (_, v) = app
        .call("GET", &format!("{POSTS}/{other}"), Some(&t.editor), None)
        .await;
    assert_eq!(states(&v), ["draft"]);
}

#[tokio::test]
async fn a_client_approves_through_a_link_without_an_account_sqlite() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    client_link_story(App::sqlite().await, peer).await;
}

#[tokio::test]
async fn a_client_approves_through_a_link_without_an_account_postgres() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    if let Some(app) = App::postgres().await {
        client_link_story(app, peer).await;
    }
}

/// The posts page as each role sees it: the queue, the buttons, the thread.
#[tokio::test]
async fn the_posts_page_shows_the_review_to_each_role() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    let app = App::sqlite().await;
    let t = team(&app, &peer).await;
    let manager = Browser::signed_in(&app, "manager@bakkerij.nl").await;
    let html = manager
        .get(&app, "/w/1/settings")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Berichten hebben goedkeuring nodig")
            && !html.contains("value=\"on\" checked")
    );
    let r = manager
        .post(&app, "/w/1/settings/approval", "required=on")
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.db.store.approval_required(1).await.unwrap());

    let editor = Browser::signed_in(&app, "editor@bakkerij.nl").await;
    let r = editor
        .post(
            &app,
            "/w/1/posts",
            &format!(
                "text=Croissants+in+de+aanbieding&channel={}&when=now",
                t.channel
            ),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = app.db.store.recent_posts(1, None, 1).await.unwrap()[0].0.id;
    let html = editor.get(&app, "/w/1/posts").await.text().await.unwrap();
    assert!(html.contains("je bericht wacht op een eigenaar, manager of klant"));
    let html = manager.get(&app, "/w/1/posts").await.text().await.unwrap();
    assert!(
        !html.contains("je bericht wacht op een eigenaar"),
        "a manager's own post goes out"
    );
    let html = editor.get(&app, "/w/1/posts").await.text().await.unwrap();
    assert!(
        html.contains("Wacht op goedkeuring") && !html.contains(&format!("/posts/{id}/approve"))
    );

    let html = manager
        .get(&app, "/w/1/posts?show=review")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Te beoordelen (1)") && html.contains("Croissants in de aanbieding"),
        "{html}"
    );
    assert!(html.contains(&format!("action=\"/w/1/posts/{id}/approve\"")));
    // Sending back without a reason says so; with one, the thread shows it.
    let r = manager
        .post(&app, &format!("/w/1/posts/{id}/reject"), "round=1&comment=")
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Dit veld is verplicht."));
    let r = manager
        .post(
            &app,
            &format!("/w/1/posts/{id}/reject"),
            "round=1&comment=Prijs+ontbreekt",
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = editor.get(&app, "/w/1/posts").await.text().await.unwrap();
    assert!(
        html.contains("Prijs ontbreekt")
            && html.contains("stuurde het terug")
            && html.contains("Ter goedkeuring aanbieden")
    );
    let r = editor
        .post(&app, &format!("/w/1/posts/{id}/submit"), "")
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // An approval of round 1 no longer fits round 2.
    let r = manager
        .post(&app, &format!("/w/1/posts/{id}/approve"), "round=1")
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("wacht niet (meer) op goedkeuring")
    );

    // A client member sees Approve and the link, but cannot compose.
    let client = Browser::signed_in(&app, "klant@bakkerij.nl").await;
    let html = client.get(&app, "/w/1/posts").await.text().await.unwrap();
    assert!(
        html.contains(&format!("action=\"/w/1/posts/{id}/approve\""))
            && !html.contains("action=\"/w/1/posts\"")
    );
    let r = client
        .post(&app, "/w/1/posts", "text=Hallo&when=draft")
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = client
        .post(&app, &format!("/w/1/posts/{id}/client-link"), "")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!("value=\"{}/review/", app.url)),
        "{html}"
    );
    // Ready to copy: by hand, or with the button the script adds.
    assert!(
        html.contains("readonly data-copy=\"Kopiëren\"")
            && html.contains("src=\"/static/copy.js\"")
    );
    let r = client.get(&app, "/static/copy.js").await;
    assert_eq!(
        r.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(r.text().await.unwrap().contains("navigator.clipboard"));
    let r = client
        .post(&app, &format!("/w/1/posts/{id}/approve"), "round=2")
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, v) = app
        .call("GET", &format!("{POSTS}/{id}"), Some(&t.editor), None)
        .await;
    assert_eq!(states(&v), ["scheduled"]);
}
