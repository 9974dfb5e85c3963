//! The inbox end to end on Bluesky (a whole network: `@atproto/dev-env`)
//! and on e-mail (Dovecot and an SMTP server): what comes in becomes a
//! conversation, the answer typed in Dialoog goes back into the same
//! thread (Bluesky: the right root and parent; e-mail: In-Reply-To and
//! References), and the customer's next message joins the conversation.

use crate::harness::App;
use dialoog_networks::testing::{BlueskyNetwork, DovecotPeer, SmtpPeer};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PASSWORD: &str = "hunter2-lang-genoeg";

async fn conversations(app: &App, token: &str) -> Vec<Value> {
    let (s, v) = app
        .call(
            "GET",
            "/api/v1/workspaces/1/conversations?status=all",
            Some(token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["conversations"].as_array().unwrap().clone()
}

async fn reply(app: &App, token: &str, conv: i64, text: &str) -> Value {
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/workspaces/1/conversations/{conv}/replies"),
            Some(token),
            Some(json!({ "text": text })),
        )
        .await;
    assert_eq!(
        (s, &v["state"]),
        (StatusCode::CREATED, &json!("sent")),
        "{v}"
    );
    v
}

#[tokio::test]
async fn a_bluesky_reply_is_answered_in_its_thread() {
    let Some(net) = BlueskyNetwork::start().await else {
        return;
    };
    let bakkerij = net.create_account("bakkerij.test", PASSWORD).await;
    let klant = net.create_account("klant.test", PASSWORD).await;
    net.set_display_name(&klant, "Karel de Klant").await;
    let app_password = net.app_password(&bakkerij, "Dialoog").await;

    let app = App::sqlite().await;
    let owner = app.setup().await;
    let (s, ch) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/channels",
            Some(&owner),
            Some(json!({"network": "bluesky", "service_url": net.url,
                "identifier": "bakkerij.test", "app_password": app_password})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ch}");
    let sync = format!("/api/v1/workspaces/1/channels/{}/sync", ch["id"]);

    let post = net
        .post(&bakkerij, "Vandaag vers: speculaas en appeltaart!")
        .await;
    assert_eq!(net.indexed_post(&post.0).await["cid"], post.1.as_str());
    let complaint = net
        .reply(
            &klant,
            "Mijn bestelling is nog steeds niet bezorgd.",
            &post,
            &post,
        )
        .await;
    net.until_notified(&bakkerij, 1).await;
    let (s, v) = app.call("POST", &sync, Some(&owner), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let all = conversations(&app, &owner).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(
        (
            &all[0]["kind"],
            &all[0]["author_name"],
            &all[0]["sentiment"]
        ),
        (
            &json!("comment"),
            &json!("Karel de Klant"),
            &json!("negative")
        )
    );
    let conv = all[0]["id"].as_i64().unwrap();

    let answer = reply(&app, &owner, conv, "Sorry Karel, hij komt vandaag nog!").await;
    let mine_uri = answer["url"].as_str().map(str::to_owned);
    let under = |t: &Value, uri: &str| -> Vec<Value> {
        t["replies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["post"]["uri"] == uri)
            .cloned()
            .collect()
    };
    let thread = net
        .thread(&post.0, |t| {
            under(t, &complaint.0)
                .first()
                .is_some_and(|c| c["replies"].as_array().is_some_and(|r| !r.is_empty()))
        })
        .await;
    let theirs = &under(&thread, &complaint.0)[0];
    let mine = &theirs["replies"][0]["post"];
    assert_eq!(mine["author"]["did"], bakkerij.did.as_str(), "{mine_uri:?}");
    assert!(
        mine["record"]["text"]
            .as_str()
            .unwrap()
            .contains("Sorry Karel, hij komt vandaag nog!")
    );
    assert_eq!(mine["record"]["reply"]["root"]["uri"], post.0.as_str());
    assert_eq!(mine["record"]["reply"]["root"]["cid"], post.1.as_str());
    assert_eq!(
        mine["record"]["reply"]["parent"]["uri"],
        complaint.0.as_str()
    );
    assert_eq!(
        mine["record"]["reply"]["parent"]["cid"],
        complaint.1.as_str()
    );

    // Karel answers our answer: the same conversation.
    let ours = (
        mine["uri"].as_str().unwrap().to_owned(),
        mine["cid"].as_str().unwrap().to_owned(),
    );
    net.reply(&klant, "Top, dank jullie wel!", &post, &ours)
        .await;
    net.until_notified(&bakkerij, 2).await;
    app.call("POST", &sync, Some(&owner), None).await;
    let all = conversations(&app, &owner).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(
        (&all[0]["messages"], &all[0]["status"]),
        (&json!(2), &json!("open"))
    );
}

fn mail(headers: &str, body: &str) -> Vec<u8> {
    format!(
        "{headers}To: webcare@example.test\r\nDate: Tue, 01 Dec 2026 10:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn an_email_is_answered_in_its_thread() {
    let Some(imap) = DovecotPeer::start().await else {
        return;
    };
    let Some(smtp) = SmtpPeer::start() else {
        return;
    };
    let app = App::sqlite().await;
    let owner = app.setup().await;
    let (s, ch) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/channels",
            Some(&owner),
            Some(
                json!({"network": "email", "address": "webcare@example.test",
                "imap_url": format!("imap://127.0.0.1:{}?tls=none", imap.imap_port),
                "smtp_url": format!("smtp://127.0.0.1:{}?tls=none", smtp.port),
                "username": imap.user, "password": imap.password}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ch}");
    let sync = format!("/api/v1/workspaces/1/channels/{}/sync", ch["id"]);
    imap.deliver(&mail(
        "From: Sanne de Wit <sanne@klant.example>\r\nSubject: Bestelling 1042\r\nMessage-ID: <a1@klant.example>\r\n",
        "Waar blijft mijn taart? Ik wacht al een week.",
    ))
    .await;
    app.call("POST", &sync, Some(&owner), None).await;
    let all = conversations(&app, &owner).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(
        (&all[0]["kind"], &all[0]["author_name"]),
        (&json!("email"), &json!("Sanne de Wit"))
    );
    let conv = all[0]["id"].as_i64().unwrap();

    reply(
        &app,
        &owner,
        conv,
        "Beste Sanne,\n\nDe taart komt morgen.\n\nBakkerij De Vries",
    )
    .await;
    let sent = smtp.wait_for(1).await;
    assert_eq!(sent[0].to, ["sanne@klant.example"]);
    let raw = String::from_utf8_lossy(&sent[0].data).to_string();
    assert!(raw.contains("In-Reply-To: <a1@klant.example>"), "{raw}");
    assert!(raw.contains("References: <a1@klant.example>"), "{raw}");
    assert!(raw.contains("Subject: Re: Bestelling 1042"), "{raw}");
    let ours = raw
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .unwrap()
        .trim()
        .to_owned();

    // Sanne answers our answer: the same conversation.
    imap.deliver(&mail(
        &format!("From: Sanne de Wit <sanne@klant.example>\r\nSubject: Re: Re: Bestelling 1042\r\nMessage-ID: <a2@klant.example>\r\nIn-Reply-To: {ours}\r\nReferences: <a1@klant.example> {ours}\r\n"),
        "Dank je, tot morgen!",
    ))
    .await;
    app.call("POST", &sync, Some(&owner), None).await;
    let all = conversations(&app, &owner).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["messages"], 2);
    let (_, detail) = app
        .call(
            "GET",
            &format!("/api/v1/workspaces/1/conversations/{conv}"),
            Some(&owner),
            None,
        )
        .await;
    let dirs: Vec<&str> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["direction"].as_str().unwrap())
        .collect();
    assert_eq!(dirs.len(), 3, "{detail}");
    assert_eq!(dirs.iter().filter(|d| **d == "out").count(), 1);
}
