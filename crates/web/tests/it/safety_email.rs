//! A hostile e-mail through the whole way in: delivered to a real Dovecot,
//! fetched by a sync, threaded, and shown. Its HTML (script, event
//! handlers, `javascript:` links hidden behind an entity, styles that
//! would cover the page) must arrive as text, and the right-to-left
//! override in the sender's name must not arrive at all.

use crate::harness::App;
use crate::safety::{HOSTILE, pages};
use base64::Engine as _;
use dialoog_networks::testing::{DovecotPeer, SmtpPeer};
use reqwest::StatusCode;
use serde_json::json;

fn hostile_mail() -> Vec<u8> {
    let name = base64::engine::general_purpose::STANDARD
        .encode("Evil\u{202E}gnp.exe\u{200B} <script>alert(1)</script>");
    let html = format!(
        "<html><head><title>Titel</title><style>body{{display:none}}</style></head>\
         <body onload=\"alert(1)\"><p style=\"position:fixed;top:0;left:0;width:100%;height:100%;background:red\">Hallo, mijn taart</p>\
         <a href=\"jav&#x09;ascript:alert(1)\">klik</a> <a href=\"javascript:alert(2)\">hier</a>\
         <img src=x onerror=alert(3)><script>alert(4)</script><!-- <script>alert(5)</script> -->\
         &quot;&gt;&lt;img src=x onerror=alert(1)&gt; {}</body></html>",
        "&lt;script&gt;alert(1)&lt;/script&gt;"
    );
    format!(
        "From: =?utf-8?B?{name}?= <evil@klant.example>\r\nTo: webcare@example.test\r\n\
         Subject: <script>alert(1)</script> Bestelling\r\nMessage-ID: <hostile@klant.example>\r\n\
         Date: Tue, 01 Dec 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
    )
    .into_bytes()
}

async fn story(app: App, imap: DovecotPeer, smtp: SmtpPeer) {
    let owner = app.setup().await;
    let base = "/api/v1/workspaces/1/channels";
    let creds = json!({"network": "email", "address": "webcare@example.test",
        "imap_url": format!("imap://127.0.0.1:{}?tls=none", imap.imap_port),
        "smtp_url": format!("smtp://127.0.0.1:{}?tls=none", smtp.port),
        "username": imap.user, "password": imap.password});
    let (s, ch) = app.call("POST", base, Some(&owner), Some(creds)).await;
    assert_eq!(s, StatusCode::CREATED, "{ch}");
    let id = ch["id"].as_i64().unwrap();
    imap.deliver(&hostile_mail()).await;
    let (s, v) = app
        .call("POST", &format!("{base}/{id}/sync"), Some(&owner), None)
        .await;
    assert_eq!((s, v), (StatusCode::OK, json!({"fetched": 1, "new": 1})));

    let s = &app.db.store;
    let conv = s
        .conversations(1, &dialoog_store::InboxFilter::default(), i64::MAX, 10)
        .await
        .unwrap()[0]
        .id;
    let item = &s.conversation_items(conv).await.unwrap()[0].item;
    assert_eq!(item.author_name, "Evilgnp.exe <script>alert(1)</script>");
    let text = &item.text;
    assert!(
        text.starts_with("<script>alert(1)</script> Bestelling\nHallo, mijn taart"),
        "{text}"
    );
    for gone in [
        "Titel",
        "display:none",
        "position:fixed",
        "alert(4)",
        "alert(5)",
        "javascript",
        "onload",
    ] {
        assert!(!text.contains(gone), "{gone} in {text}");
    }
    assert!(text.contains("klik hier"), "{text}");

    for (page, html) in pages(&app, conv).await {
        assert!(
            !html.contains('\u{202E}') && !html.contains('\u{200B}'),
            "{page}"
        );
        assert!(html.contains("Evilgnp.exe"), "{page}");
        for raw in HOSTILE {
            assert!(!html.contains(raw), "{page}");
        }
    }
}

#[tokio::test]
async fn a_hostile_email_arrives_as_text_sqlite() {
    let Some(imap) = DovecotPeer::start().await else {
        return;
    };
    let Some(smtp) = SmtpPeer::start() else {
        return;
    };
    story(App::sqlite().await, imap, smtp).await;
}

#[tokio::test]
async fn a_hostile_email_arrives_as_text_postgres() {
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
