//! A mailbox as a channel, end to end against a real Dovecot: connected
//! through the API and the UI, mail fetched, failures with a reason.

use crate::browser::Browser;
use crate::harness::App;
use dialoog_networks::testing::{DovecotPeer, SmtpPeer};
use reqwest::StatusCode;
use serde_json::json;

fn mail(id: &str, from: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: webcare@example.test\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

async fn story(app: App, imap: DovecotPeer, smtp: SmtpPeer) {
    let owner = app.setup().await;
    let base = "/api/v1/workspaces/1/channels";
    let creds = |password: &str| {
        json!({"network": "email", "address": "webcare@example.test",
            "imap_url": format!("imap://127.0.0.1:{}?tls=none", imap.imap_port),
            "smtp_url": format!("smtp://127.0.0.1:{}?tls=none", smtp.port),
            "username": imap.user, "password": password})
    };
    let (s, v) = app
        .call("POST", base, Some(&owner), Some(creds("wrong")))
        .await;
    assert_eq!(s, StatusCode::BAD_GATEWAY, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("AUTHENTICATIONFAILED"),
        "{v}"
    );
    let (s, ch) = app
        .call("POST", base, Some(&owner), Some(creds(&imap.password)))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ch}");
    assert_eq!(
        (ch["name"].as_str(), ch["network"].as_str()),
        (Some("webcare@example.test"), Some("email"))
    );
    let id = ch["id"].as_i64().unwrap();
    let stored = app.db.store.channel(1, id).await.unwrap();
    assert!(!String::from_utf8_lossy(&stored.credentials).contains(&imap.password));

    imap.deliver(&mail(
        "a1@klant.example",
        "Sanne de Wit <sanne@klant.example>",
        "Bestelling 1042",
        "Waar blijft mijn taart?",
    ))
    .await;
    let sync = format!("{base}/{id}/sync");
    let (s, v) = app.call("POST", &sync, Some(&owner), None).await;
    assert_eq!((s, v), (StatusCode::OK, json!({"fetched": 1, "new": 1})));
    let (_, items) = app
        .call("GET", &format!("{base}/{id}/items"), Some(&owner), None)
        .await;
    assert_eq!(items[0]["kind"], "email");
    assert_eq!(items[0]["author_name"], "Sanne de Wit");
    assert_eq!(items[0]["text"], "Bestelling 1042\nWaar blijft mijn taart?");
    assert_eq!(imap.seen().await, 0, "nothing is marked read");
    let (_, v) = app.call("POST", &sync, Some(&owner), None).await;
    assert_eq!(v, json!({"fetched": 0, "new": 0}));
    // The same mailbox again: refused.
    let (s, v) = app
        .call("POST", base, Some(&owner), Some(creds(&imap.password)))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("channel_exists"))
    );
}

#[tokio::test]
async fn mailbox_channel_story_sqlite() {
    let Some(imap) = DovecotPeer::start().await else {
        return;
    };
    let Some(smtp) = SmtpPeer::start() else {
        return;
    };
    story(App::sqlite().await, imap, smtp).await;
}

#[tokio::test]
async fn mailbox_channel_story_postgres() {
    let Some(imap) = DovecotPeer::start().await else {
        return;
    };
    let Some(smtp) = SmtpPeer::start() else {
        return;
    };
    if let Some(app) = App::postgres().await {
        story(app, imap, smtp).await;
    }
}

#[tokio::test]
async fn connecting_a_mailbox_in_the_ui() {
    let Some(imap) = DovecotPeer::start().await else {
        return;
    };
    let app = App::sqlite().await;
    app.setup().await;
    let b = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let html = b.get(&app, "/w/1/channels").await.text().await.unwrap();
    assert!(html.contains("Een mailbox koppelen") && html.contains("Server voor inkomende mail"));
    let imap_url = format!("imaps%3A%2F%2F127.0.0.1%3A{}", imap.imaps_port);
    let form = format!(
        "address=webcare%40example.test&imap_url={imap_url}&smtp_url=smtps%3A%2F%2F127.0.0.1%3A9&username={}&password={}",
        imap.user, imap.password
    );
    // A self-signed certificate is not trusted: said plainly, nothing stored, the password not echoed.
    let r = b.post(&app, "/w/1/channels/email", &form).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Het netwerk zegt:") && html.contains("cannot be trusted"),
        "{html}"
    );
    assert!(html.contains("value=\"webcare@example.test\"") && !html.contains(&imap.password));
    assert!(app.db.store.channels(1).await.unwrap().is_empty());
    let r = b
        .post(
            &app,
            "/w/1/channels/email",
            "address=x&imap_url=&smtp_url=&password=",
        )
        .await;
    assert!(r.text().await.unwrap().contains("Vul een e-mailadres in"));
    let plain = format!(
        "address=webcare%40example.test&imap_url=imap%3A%2F%2F127.0.0.1%3A{}%3Ftls%3Dnone&smtp_url=smtp%3A%2F%2F127.0.0.1%3A9%3Ftls%3Dnone&username={}&password={}",
        imap.imap_port, imap.user, imap.password
    );
    let r = b.post(&app, "/w/1/channels/email", &plain).await;
    assert_eq!(r.headers()["location"], "/w/1/channels?done=channel_added");
    let html = b.get(&app, "/w/1/channels").await.text().await.unwrap();
    assert!(html.contains("webcare@example.test") && html.contains("(email)"));
}
