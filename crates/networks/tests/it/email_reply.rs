//! Replies from the e-mail connector: threaded at a real SMTP server
//! (aiosmtpd), over STARTTLS with a login, kept in Dovecot's Sent folder,
//! and their failures.

use super::email::{config, imaps, mail};
use dialoog_networks::email::EmailConnector;
use dialoog_networks::testing::{DovecotPeer, SmtpOptions, SmtpPeer};
use dialoog_networks::{Connector, ConnectorError, ItemKind, ReplyTo};
use std::time::Duration;

fn header(raw: &[u8], name: &str) -> String {
    let m = mail_parser::MessageParser::default().parse(raw).unwrap();
    m.header_raw(name).unwrap_or_default().trim().to_owned()
}

async fn original(peer: &DovecotPeer) {
    peer.deliver(&mail(
        &[
            ("From", "Anna <anna@klant.nl>"),
            ("Reply-To", "Anna Klantenservice <antwoord@klant.nl>"),
            ("Subject", "Taart kwijt"),
            ("Message-ID", "<vraag-2@klant.nl>"),
            ("In-Reply-To", "<vraag-1@klant.nl>"),
            ("References", "<begin@klant.nl> <vraag-1@klant.nl>"),
        ],
        "Waar blijft mijn taart?",
    ))
    .await;
    peer.deliver(&mail(
        &[
            ("From", "Bert <bert@klant.nl>"),
            ("Subject", "Re: Openingstijden"),
            ("Message-ID", "<bert-1@klant.nl>"),
        ],
        "Tot hoe laat?",
    ))
    .await;
}

fn to(id: &str) -> ReplyTo {
    ReplyTo {
        external_id: id.into(),
        kind: Some(ItemKind::Email),
        ..ReplyTo::default()
    }
}

#[tokio::test]
async fn a_reply_arrives_threaded_at_the_smtp_server() {
    let Some(peer) = DovecotPeer::start().await else {
        return;
    };
    let Some(smtp) = SmtpPeer::start() else {
        return;
    };
    original(&peer).await;
    let c = imaps(&peer, smtp.port);
    let p = c
        .reply(
            &to("vraag-2@klant.nl"),
            "Hij is onderweg. Groet, Bakkerij",
            "key-1",
        )
        .await
        .unwrap();
    assert_eq!(p.url, None);
    assert!(
        p.remote_id.ends_with(".dialoog@example.test"),
        "{}",
        p.remote_id
    );
    let got = smtp.wait_for(1).await;
    assert_eq!(got[0].from, "webcare@example.test");
    assert_eq!(got[0].to, ["antwoord@klant.nl"], "Reply-To wins over From");
    let raw = &got[0].data;
    assert_eq!(
        header(raw, "To"),
        "\"Anna Klantenservice\" <antwoord@klant.nl>"
    );
    assert_eq!(header(raw, "From"), "webcare@example.test");
    assert_eq!(header(raw, "Subject"), "Re: Taart kwijt");
    assert_eq!(header(raw, "In-Reply-To"), "<vraag-2@klant.nl>");
    assert_eq!(
        header(raw, "References"),
        "<begin@klant.nl> <vraag-1@klant.nl> <vraag-2@klant.nl>"
    );
    assert_eq!(header(raw, "Message-ID"), format!("<{}>", p.remote_id));
    let m = mail_parser::MessageParser::default().parse(raw).unwrap();
    assert_eq!(
        m.body_text(0).unwrap().trim(),
        "Hij is onderweg. Groet, Bakkerij"
    );
    assert!(header(raw, "Content-Type").starts_with("text/plain"));

    // A resend with the same key carries the same Message-ID; no double "Re:".
    let again = c
        .reply(
            &to("vraag-2@klant.nl"),
            "Hij is onderweg. Groet, Bakkerij",
            "key-1",
        )
        .await
        .unwrap();
    assert_eq!(again.remote_id, p.remote_id);
    let bert = c
        .reply(&to("bert-1@klant.nl"), "Tot zes uur.", "key-2")
        .await
        .unwrap();
    assert_ne!(bert.remote_id, p.remote_id);
    let got = smtp.wait_for(3).await;
    assert_eq!(
        header(&got[1].data, "Message-ID"),
        format!("<{}>", p.remote_id)
    );
    assert_eq!(header(&got[2].data, "Subject"), "Re: Openingstijden");
    assert_eq!(got[2].to, ["bert@klant.nl"]);
    assert_eq!(header(&got[2].data, "References"), "<bert-1@klant.nl>");

    // A mail without a Message-ID is answered by its place in the mailbox.
    peer.deliver(&mail(
        &[("From", "piet@klant.nl"), ("Subject", "Hoi")],
        "Zonder id",
    ))
    .await;
    let f = c.fetch("").await.unwrap();
    assert_eq!(f.items.len(), 3, "the answers do not come back in");
    let anon = f.items[2].external_id.clone();
    assert!(anon.starts_with("uid:"), "{anon}");
    c.reply(&to(&anon), "Hoi Piet", "key-3").await.unwrap();
    let got = smtp.wait_for(4).await;
    assert_eq!(got[3].to, ["piet@klant.nl"]);
    assert_eq!(header(&got[3].data, "Subject"), "Re: Hoi");
    assert_eq!(header(&got[3].data, "In-Reply-To"), "");

    // A copy of each answer is kept in Sent.
    let sent = peer.messages("Sent").await;
    assert_eq!(sent.len(), 4);
    assert_eq!(
        header(&sent[2], "Message-ID"),
        format!("<{}>", bert.remote_id)
    );
}

#[tokio::test]
async fn replies_over_starttls_with_a_login_and_their_failures() {
    let Some(peer) = DovecotPeer::start().await else {
        return;
    };
    let (cert, key) = peer.cert_files();
    let secure = SmtpOptions {
        tls: Some((cert.clone(), key.clone())),
        login: Some((peer.user.clone(), peer.password.clone())),
        fault: None,
    };
    let Some(smtp) = SmtpPeer::start_with(secure.clone()) else {
        return;
    };
    original(&peer).await;
    let connector = |port: u16| {
        let mut cfg = config(&peer, format!("imap://127.0.0.1:{}", peer.imap_port), port);
        cfg.smtp_url = format!("smtp://127.0.0.1:{port}");
        EmailConnector::new(cfg)
            .unwrap()
            .with_root_certificate_pem(&peer.cert_pem)
            .unwrap()
            .with_timeout(Duration::from_secs(3))
    };
    let p = connector(smtp.port)
        .reply(&to("vraag-2@klant.nl"), "Over STARTTLS", "k")
        .await
        .unwrap();
    let got = smtp.wait_for(1).await;
    assert_eq!(
        header(&got[0].data, "Message-ID"),
        format!("<{}>", p.remote_id)
    );

    // The original is gone: say so.
    match connector(smtp.port)
        .reply(&to("verdwenen@klant.nl"), "Hallo?", "k2")
        .await
    {
        Err(ConnectorError::Permanent { reason }) => {
            assert!(reason.contains("no longer in the mailbox"), "{reason}");
        }
        other => panic!("{other:?}"),
    }

    let with = |o: SmtpOptions| SmtpPeer::start_with(o).unwrap();
    // Another password at the SMTP server: reconnect.
    let other = with(SmtpOptions {
        login: Some((peer.user.clone(), "anders".into())),
        ..secure.clone()
    });
    assert!(matches!(
        connector(other.port)
            .reply(&to("vraag-2@klant.nl"), "x", "k3")
            .await,
        Err(ConnectorError::Authorization { .. })
    ));
    // 4xx: try again later; 5xx: not at all, in the server's words.
    let busy = with(SmtpOptions {
        fault: Some("451 4.3.0 Probeer het later nog eens".into()),
        ..secure.clone()
    });
    match connector(busy.port)
        .reply(&to("vraag-2@klant.nl"), "x", "k4")
        .await
    {
        Err(ConnectorError::Transient { reason, .. }) => {
            assert!(reason.contains("Probeer het later"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let refused = with(SmtpOptions {
        fault: Some("550 5.7.1 Geen berichten van dit adres".into()),
        ..secure.clone()
    });
    match connector(refused.port)
        .reply(&to("vraag-2@klant.nl"), "x", "k5")
        .await
    {
        Err(ConnectorError::Permanent { reason }) => {
            assert!(reason.contains("Geen berichten van dit adres"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // No answer after the message was sent: it may or may not have gone.
    let silent = with(SmtpOptions {
        fault: Some("hang".into()),
        ..secure.clone()
    });
    assert!(matches!(
        connector(silent.port)
            .reply(&to("vraag-2@klant.nl"), "x", "k6")
            .await,
        Err(ConnectorError::OutcomeUnknown { .. })
    ));
    // Nobody listening: nothing was sent.
    let port = dialoog_networks::testing::free_port();
    assert!(matches!(
        connector(port)
            .reply(&to("vraag-2@klant.nl"), "x", "k7")
            .await,
        Err(ConnectorError::Transient { .. })
    ));
    // Only the one good answer was kept in Sent.
    assert_eq!(peer.messages("Sent").await.len(), 1);
}
