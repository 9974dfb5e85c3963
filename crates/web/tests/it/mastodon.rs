//! Mastodon channels end to end against the real Mastodon test server:
//! connected through the API with a token and through the UI's sign-in at
//! the instance, synced, and failing with a reason.

use crate::browser::Browser;
use crate::harness::App;
use dialoog_networks::testing::MastodonPeer;
use reqwest::StatusCode;
use serde_json::json;

async fn story(app: App, peer: MastodonPeer) {
    let owner = app.setup().await;
    let base = "/api/v1/workspaces/1/channels";
    // A wrong token is refused before anything is stored.
    let (s, v) = app
        .call(
            "POST",
            base,
            Some(&owner),
            Some(json!({"network": "mastodon", "instance_url": peer.url, "access_token": "wrong"})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("network_error")),
        "{v}"
    );
    let (s, v) = app
        .call(
            "POST",
            base,
            Some(&owner),
            Some(json!({"network": "mastodon", "instance_url": peer.url})),
        )
        .await;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("access_token")),
        "{v}"
    );
    assert!(app.db.store.channels(1).await.unwrap().is_empty());

    let (s, ch) = app
        .call(
            "POST",
            base,
            Some(&owner),
            Some(json!({"network": "mastodon", "instance_url": peer.url, "access_token": "ada_token"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ch}");
    assert_eq!(ch["name"], "@ada@localhost");
    assert_eq!(ch["network"], "mastodon");
    let id = ch["id"].as_i64().unwrap();
    let stored = app.db.store.channel(1, id).await.unwrap();
    assert!(
        !String::from_utf8_lossy(&stored.credentials).contains("ada_token"),
        "sealed at rest"
    );

    let sync = format!("{base}/{id}/sync");
    let (s, _) = app.call("POST", &sync, Some(&owner), None).await;
    assert_eq!(s, StatusCode::OK);
    peer.post(
        "grace_token",
        &[("status", "@ada jullie appeltaart is de beste van Utrecht!")],
    )
    .await;
    let (s, v) = app.call("POST", &sync, Some(&owner), None).await;
    assert_eq!((s, v), (StatusCode::OK, json!({"fetched": 1, "new": 1})));
    let (_, items) = app
        .call("GET", &format!("{base}/{id}/items"), Some(&owner), None)
        .await;
    assert_eq!(items[0]["kind"], "mention");
    assert_eq!(items[0]["author_name"], "Grace Hopper");
    assert_eq!(
        items[0]["text"],
        "@ada jullie appeltaart is de beste van Utrecht!"
    );
    // Fetched again: nothing twice.
    let (_, v) = app.call("POST", &sync, Some(&owner), None).await;
    assert_eq!(v, json!({"fetched": 0, "new": 0}));

    // The server slows us down: failing with the reason, nothing lost, and
    // the poller waits at least as long as the server asked.
    peer.fault(json!({"match": {"path": "/api/v1/notifications"}, "effect": {"type": "ratelimit"}, "count": 1}))
        .await;
    let (s, v) = app.call("POST", &sync, Some(&owner), None).await;
    assert_eq!(s, StatusCode::BAD_GATEWAY);
    assert!(v["detail"].as_str().unwrap().contains("429"), "{v}");
    let ch = app.db.store.channel(1, id).await.unwrap();
    assert_eq!(ch.status, "failing");
    let wait = ch.next_sync_at.unwrap() - ch.last_sync_at.unwrap();
    assert!(wait >= 300_000, "Retry-After honoured: {wait} ms");
    assert_eq!(app.db.store.items(id, 10).await.unwrap().len(), 1);
    let (s, _) = app.call("POST", &sync, Some(&owner), None).await;
    assert_eq!(s, StatusCode::OK, "a person may still fetch now");
}

#[tokio::test]
async fn mastodon_channel_story_sqlite() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    story(App::sqlite().await, peer).await;
}

#[tokio::test]
async fn mastodon_channel_story_postgres() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    if let Some(app) = App::postgres().await {
        story(app, peer).await;
    }
}

fn query(url: &reqwest::Url, key: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn connecting_mastodon_by_signing_in_at_the_instance() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    let app = App::sqlite().await;
    let owner = app.setup().await;
    let b = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let html = b.get(&app, "/w/1/channels").await.text().await.unwrap();
    assert!(html.contains("Een Mastodon-account koppelen") && html.contains("Mastodon-server"));

    let r = b
        .post(&app, "/w/1/channels/mastodon", "instance_url=")
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Dit veld is verplicht."));
    let r = b
        .post(
            &app,
            "/w/1/channels/mastodon",
            "instance_url=http%3A%2F%2F127.0.0.1%3A9",
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Het netwerk zegt:") && html.contains("127.0.0.1:9"),
        "the typed address stays: {html}"
    );

    // To the instance, where the person grants access…
    let form = format!(
        "instance_url={}",
        peer.url.replace(':', "%3A").replace('/', "%2F")
    );
    let r = b.post(&app, "/w/1/channels/mastodon", &form).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    // A page saying where the person goes, with the link to go there.
    let host = peer.url.trim_start_matches("http://");
    assert!(html.contains(&format!("Verder naar {host}")), "{html}");
    let href = html
        .split("class=\"button primary\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let to = reqwest::Url::parse(&href).unwrap();
    assert!(
        to.as_str()
            .starts_with(&format!("{}/oauth/authorize", peer.url)),
        "{to}"
    );
    let redirect = query(&to, "redirect_uri");
    assert_eq!(
        redirect,
        format!("{}/w/1/channels/mastodon/callback", app.url)
    );
    assert_eq!(query(&to, "scope"), "read write");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let granted = http
        .post(format!("{}/oauth/authorize", peer.url))
        .form(&[
            ("username", "ada"),
            ("client_id", query(&to, "client_id").as_str()),
            ("redirect_uri", redirect.as_str()),
            ("state", query(&to, "state").as_str()),
            ("scope", "read write"),
            ("response_type", "code"),
        ])
        .send()
        .await
        .unwrap();
    let back = reqwest::Url::parse(granted.headers()["location"].to_str().unwrap()).unwrap();
    assert!(back.as_str().starts_with(&redirect));

    // …and back: a state that was tampered with connects nothing.
    let path_and_query =
        |u: &reqwest::Url| format!("{}?{}", u.path(), u.query().unwrap_or_default());
    let mut forged = back.clone();
    forged
        .query_pairs_mut()
        .clear()
        .append_pair("code", &query(&back, "code"))
        .append_pair("state", "AAAA");
    let r = b.get(&app, &path_and_query(&forged)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Het aanmelden bij het netwerk is verlopen of niet hier begonnen."),
        "{html}"
    );
    // Nor can another member finish Anna's sign-in.
    app.member(&owner, 1, "piet@bakkerij.nl", "manager").await;
    let piet = Browser::signed_in(&app, "piet@bakkerij.nl").await;
    let r = piet.get(&app, &path_and_query(&back)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.db.store.channels(1).await.unwrap().is_empty());
    // Refused at the instance: said plainly.
    let r = b
        .get(&app, "/w/1/channels/mastodon/callback?error=access_denied")
        .await;
    assert_eq!(
        r.headers()["location"],
        "/w/1/channels?done=mastodon_refused"
    );
    let html = b
        .get(&app, "/w/1/channels?done=mastodon_refused")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("er is geen toestemming gegeven"));

    let r = b.get(&app, &path_and_query(&back)).await;
    assert_eq!(r.headers()["location"], "/w/1/channels?done=channel_added");
    let html = b
        .get(&app, "/w/1/channels?done=channel_added")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("@ada@localhost") && html.contains("(mastodon)"),
        "{html}"
    );
    // Coming back twice connects the account once.
    let r = b.get(&app, &path_and_query(&back)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Dit account is al aan deze werkruimte gekoppeld.")
    );
    assert_eq!(app.db.store.channels(1).await.unwrap().len(), 1);
    let (_, log) = app
        .call("GET", "/api/v1/workspaces/1/audit", Some(&owner), None)
        .await;
    assert_eq!(log[0]["action"], "channel.connected");
}
