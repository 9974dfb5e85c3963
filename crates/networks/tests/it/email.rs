//! The e-mail connector against a real Dovecot (IMAP, with STARTTLS and
//! IMAPS on a self-signed certificate): mail in, the cursor, logins and
//! connections. Replies over SMTP are in `email_reply.rs`.

use dialoog_networks::email::{EmailConfig, EmailConnector};
use dialoog_networks::testing::DovecotPeer;
use dialoog_networks::{Connector, ConnectorError, InboundItem, ItemKind};
use std::collections::HashSet;
use std::time::Duration;

pub fn config(peer: &DovecotPeer, imap_url: String, smtp_port: u16) -> EmailConfig {
    EmailConfig {
        imap_url,
        smtp_url: format!("smtp://127.0.0.1:{smtp_port}?tls=none"),
        username: peer.user.clone(),
        password: peer.password.clone(),
        address: "webcare@example.test".into(),
    }
}

/// IMAPS, trusting the peer's certificate; SMTP in the clear on loopback.
pub fn imaps(peer: &DovecotPeer, smtp_port: u16) -> EmailConnector {
    let url = format!("imaps://127.0.0.1:{}", peer.imaps_port);
    EmailConnector::new(config(peer, url, smtp_port))
        .unwrap()
        .with_root_certificate_pem(&peer.cert_pem)
        .unwrap()
}

pub fn mail(headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut s = String::new();
    for (k, v) in headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s.push_str(&body.replace('\n', "\r\n"));
    s.into_bytes()
}

fn simple(n: usize) -> Vec<u8> {
    mail(
        &[
            ("From", "klant@example.nl"),
            ("Subject", &format!("Vraag {n}")),
            ("Message-ID", &format!("<vraag-{n}@example.nl>")),
        ],
        "Hallo",
    )
}

fn by_id<'a>(items: &'a [InboundItem], id: &str) -> &'a InboundItem {
    items
        .iter()
        .find(|i| i.external_id == id)
        .unwrap_or_else(|| panic!("no {id} in {items:#?}"))
}

#[tokio::test]
async fn plain_mail_arrives_with_author_subject_and_thread() {
    let Some(peer) = DovecotPeer::start().await else {
        return;
    };
    let c = imaps(&peer, 9);
    assert_eq!(c.check().await.unwrap(), "webcare@example.test");
    let first = c.fetch("").await.unwrap();
    assert!(first.items.is_empty() && !first.more);

    peer.deliver(&mail(
        &[
            ("From", "\"Anna de Vries\" <Anna.deVries@Klant.NL>"),
            ("To", "webcare@example.test"),
            (
                "Subject",
                "=?utf-8?Q?Bestelling_nog_niet_binnen_=F0=9F=8E=82?=",
            ),
            ("Date", "Tue, 24 Nov 2026 10:00:00 +0100"),
            ("Message-ID", "<root-1@klant.nl>"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "quoted-printable"),
        ],
        "Mijn taart is niet bezorgd. Kunt u dat nagaan?\n=C3=89=C3=A9n vraag nog.",
    ))
    .await;
    let next = c.fetch(&first.cursor).await.unwrap();
    assert_eq!(next.items.len(), 1, "{:#?}", next.items);
    let it = &next.items[0];
    assert_eq!(it.kind, ItemKind::Email);
    assert_eq!(it.external_id, "root-1@klant.nl");
    assert_eq!(it.author.id, "anna.devries@klant.nl");
    assert_eq!(it.author.name, "Anna de Vries");
    assert_eq!(it.author.handle.as_deref(), Some("Anna.deVries@Klant.NL"));
    assert_eq!(
        it.text,
        "Bestelling nog niet binnen 🎂\nMijn taart is niet bezorgd. Kunt u dat nagaan?\nÉén vraag nog."
    );
    assert_eq!(it.published_at, Some(1_795_510_800_000));
    assert_eq!(it.thread_ref.as_deref(), Some("root-1@klant.nl"));
    assert_eq!(it.in_reply_to, None);
    assert_eq!(it.url, None);
    assert!(it.media.is_empty());

    // A reply in the thread (to our answer) belongs to the root.
    peer.deliver(&mail(
        &[
            ("From", "Anna.deVries@klant.nl"),
            ("Subject", "Re: Bestelling nog niet binnen"),
            ("Message-ID", "<reply-2@klant.nl>"),
            ("In-Reply-To", "<answer-1@example.test>"),
            (
                "References",
                "<root-1@klant.nl>\r\n <answer-1@example.test>",
            ),
        ],
        "Dank u, hij is er!",
    ))
    .await;
    // And a mail without a Message-ID is known by its place in the mailbox.
    peer.deliver(&mail(
        &[("From", "Piet <piet@klant.nl>")],
        "Geen onderwerp, geen id",
    ))
    .await;
    let third = c.fetch(&next.cursor).await.unwrap();
    assert_eq!(
        third.items.len(),
        2,
        "only the new ones: {:#?}",
        third.items
    );
    let r = by_id(&third.items, "reply-2@klant.nl");
    assert_eq!(r.thread_ref.as_deref(), Some("root-1@klant.nl"));
    assert_eq!(r.in_reply_to.as_deref(), Some("answer-1@example.test"));
    assert_eq!(
        r.author.name, "Anna.deVries@klant.nl",
        "no display name: the address"
    );
    let v = peer.uidvalidity().await;
    let anon = by_id(&third.items, &format!("uid:{v}:3"));
    assert_eq!(anon.text, "Geen onderwerp, geen id");
    assert_eq!(anon.thread_ref.as_deref(), Some(anon.external_id.as_str()));
    assert_eq!(anon.author.name, "Piet");

    // Nothing more, and nothing was marked read.
    let again = c.fetch(&third.cursor).await.unwrap();
    assert!(again.items.is_empty());
    assert_eq!(again.cursor, third.cursor);
    assert_eq!(peer.seen().await, 0, "fetching marks nothing read");
}

#[tokio::test]
async fn hostile_html_becomes_harmless_text_and_attachments_are_listed() {
    let Some(peer) = DovecotPeer::start().await else {
        return;
    };
    peer.deliver(&mail(
        &[
            ("From", "Boef <boef@evil.example>"),
            ("Subject", "Win een taart"),
            ("Message-ID", "<html-1@evil.example>"),
            ("Content-Type", "text/html; charset=utf-8"),
        ],
        r#"<html><head><style>body{display:none}</style><script>alert('xss')</script></head>
<body onload="steal()"><p>Klik <a href="javascript:alert(1)" onclick="steal()">hier</a> &amp; win!</p>
<img src=x onerror="alert(2)"><iframe src="https://evil.example"></iframe><p>Groet</p></body></html>"#,
    ))
    .await;
    peer.deliver(&mail(
        &[
            ("From", "Jan <jan@klant.nl>"),
            ("Subject", "Factuur"),
            ("Message-ID", "<att-1@klant.nl>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "multipart/mixed; boundary=\"grens\""),
        ],
        "--grens\nContent-Type: multipart/alternative; boundary=\"alt\"\n\n--alt\nContent-Type: text/plain; charset=utf-8\n\nZie de bijlage.\n--alt\nContent-Type: text/html\n\n<p>Zie de <b>bijlage</b>.</p>\n--alt--\n--grens\nContent-Type: application/pdf; name=\"factuur.pdf\"\nContent-Disposition: attachment; filename=\"factuur.pdf\"\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQKJcfsj6IKMSAwIG9iago8PD4+CmVuZG9iagp0cmFpbGVyCjw8Pj4KJSVFT0YK\n--grens--\n",
    ))
    .await;
    let f = imaps(&peer, 9).fetch("").await.unwrap();
    let html = by_id(&f.items, "html-1@evil.example");
    assert_eq!(html.text, "Win een taart\nKlik hier & win!\nGroet");
    for bad in [
        "<",
        "script",
        "alert",
        "javascript",
        "onload",
        "onclick",
        "steal",
        "display",
    ] {
        assert!(!html.text.contains(bad), "{bad} survived: {}", html.text);
    }
    let att = by_id(&f.items, "att-1@klant.nl");
    assert_eq!(
        att.text, "Factuur\nZie de bijlage.",
        "the plain part, not the HTML"
    );
    assert_eq!(att.media.len(), 1, "{:?}", att.media);
    assert_eq!(att.media[0].kind, "application/pdf");
    assert_eq!(att.media[0].alt, "factuur.pdf");
    let v = peer.uidvalidity().await;
    assert!(
        att.media[0].url.starts_with(&format!("imap:{v}/2/")),
        "{}",
        att.media[0].url
    );
}

#[tokio::test]
async fn the_cursor_brings_only_new_mail_in_bounded_batches() {
    let Some(peer) = DovecotPeer::start().await else {
        return;
    };
    let c = imaps(&peer, 9);
    peer.deliver_all(&(0..205).map(simple).collect::<Vec<_>>())
        .await;
    // A first sync takes the newest 200 only.
    let first = c.fetch("").await.unwrap();
    assert_eq!(first.items.len(), 200);
    assert!(!first.more);
    assert_eq!(first.items[0].external_id, "vraag-5@example.nl");
    assert_eq!(first.items[199].external_id, "vraag-204@example.nl");

    peer.deliver_all(&(205..208).map(simple).collect::<Vec<_>>())
        .await;
    let second = c.fetch(&first.cursor).await.unwrap();
    let ids: Vec<&str> = second
        .items
        .iter()
        .map(|i| i.external_id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "vraag-205@example.nl",
            "vraag-206@example.nl",
            "vraag-207@example.nl"
        ]
    );

    // More than one sync's worth: 500 now, the rest next time.
    peer.deliver_all(&(208..728).map(simple).collect::<Vec<_>>())
        .await;
    let third = c.fetch(&second.cursor).await.unwrap();
    assert_eq!(third.items.len(), 500);
    assert!(third.more);
    let fourth = c.fetch(&third.cursor).await.unwrap();
    assert_eq!(fourth.items.len(), 20);
    assert!(!fourth.more);
    assert_eq!(fourth.items[19].external_id, "vraag-727@example.nl");
    let all: HashSet<&str> = third
        .items
        .iter()
        .chain(&fourth.items)
        .map(|i| i.external_id.as_str())
        .collect();
    assert_eq!(all.len(), 520, "nothing twice, nothing skipped");
}

#[tokio::test]
async fn a_new_uidvalidity_starts_over_without_doubles() {
    let Some(peer) = DovecotPeer::start().await else {
        return;
    };
    let c = imaps(&peer, 9);
    peer.deliver_all(&(0..3).map(simple).collect::<Vec<_>>())
        .await;
    let first = c.fetch("").await.unwrap();
    assert_eq!(first.items.len(), 3);
    let before = peer.uidvalidity().await;

    peer.recreate_inbox();
    peer.deliver(&simple(3)).await;
    let after = peer.uidvalidity().await;
    assert_ne!(before, after, "the mailbox was numbered afresh");

    let second = c.fetch(&first.cursor).await.unwrap();
    assert_eq!(second.items.len(), 4, "everything again, from UID 1");
    // Storage keeps one per external id: only the new mail is new.
    let stored: HashSet<String> = first.items.iter().map(|i| i.external_id.clone()).collect();
    let new: Vec<&str> = second
        .items
        .iter()
        .map(|i| i.external_id.as_str())
        .filter(|id| !stored.contains(*id))
        .collect();
    assert_eq!(new, ["vraag-3@example.nl"]);
    assert!(second.cursor.contains(&after.to_string()));
    let third = c.fetch(&second.cursor).await.unwrap();
    assert!(third.items.is_empty());
}

fn peak_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap()
}

#[tokio::test]
async fn a_huge_mail_is_kept_with_a_note_without_being_downloaded() {
    let Some(peer) = DovecotPeer::start().await else {
        return;
    };
    {
        let line = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n";
        let body = format!(
            "--b\nContent-Type: text/plain\n\nZie bijlage\n--b\nContent-Type: video/mp4; name=\"taart.mp4\"\nContent-Transfer-Encoding: base64\n\n{}--b--\n",
            line.repeat(11 * (1 << 20) / line.len())
        );
        peer.deliver(&mail(
            &[
                ("From", "Groot <groot@klant.nl>"),
                ("Subject", "Filmpje van de taart"),
                ("Message-ID", "<groot-1@klant.nl>"),
                ("Content-Type", "multipart/mixed; boundary=b"),
            ],
            &body,
        ))
        .await;
    }
    peer.deliver(&simple(1)).await;
    // Measure the peak from here (Linux: writing 5 resets VmHWM).
    let resettable = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let start = peak_kb();
    let f = imaps(&peer, 9).fetch("").await.unwrap();
    let grown_kb = peak_kb().saturating_sub(start);
    assert_eq!(f.items.len(), 2);
    let big = by_id(&f.items, "groot-1@klant.nl");
    assert!(
        big.text
            .starts_with("Filmpje van de taart\n(This e-mail is 11.")
            && big.text.contains("too large for Dialoog to fetch"),
        "{}",
        big.text
    );
    assert_eq!(big.author.name, "Groot");
    assert!(big.media.is_empty());
    assert_eq!(by_id(&f.items, "vraag-1@example.nl").text, "Vraag 1\nHallo");
    if resettable {
        assert!(grown_kb < 8 * 1024, "the fetch took {grown_kb} kB");
    }
    assert_eq!(
        peer.messages("INBOX").await.len(),
        2,
        "it stays in the mailbox"
    );
}

#[tokio::test]
async fn logins_and_connections_fail_clearly_and_both_tls_modes_work() {
    let Some(peer) = DovecotPeer::start().await else {
        return;
    };
    // STARTTLS on the IMAP port.
    let starttls = EmailConnector::new(config(
        &peer,
        format!("imap://127.0.0.1:{}", peer.imap_port),
        9,
    ))
    .unwrap()
    .with_root_certificate_pem(&peer.cert_pem)
    .unwrap();
    assert_eq!(starttls.check().await.unwrap(), "webcare@example.test");
    // Plain, on loopback only.
    let plain = EmailConnector::new(config(
        &peer,
        format!("imap://127.0.0.1:{}?tls=none", peer.imap_port),
        9,
    ))
    .unwrap();
    assert!(plain.check().await.is_ok());
    // IMAPS.
    assert!(imaps(&peer, 9).check().await.is_ok());

    // A wrong password: reconnect, in the server's words.
    let mut wrong = config(&peer, format!("imaps://127.0.0.1:{}", peer.imaps_port), 9);
    wrong.password = "fout".into();
    let wrong = EmailConnector::new(wrong)
        .unwrap()
        .with_root_certificate_pem(&peer.cert_pem)
        .unwrap();
    match wrong.check().await {
        Err(e @ ConnectorError::Authorization { .. }) => {
            assert!(e.to_string().contains("Authentication failed"), "{e}");
            assert_eq!(e.channel_status(), "needs_reconnect");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        wrong.fetch("").await,
        Err(ConnectorError::Authorization { .. })
    ));

    // A certificate nobody vouches for.
    let untrusted = EmailConnector::new(config(
        &peer,
        format!("imaps://127.0.0.1:{}", peer.imaps_port),
        9,
    ))
    .unwrap();
    match untrusted.check().await {
        Err(ConnectorError::Permanent { reason }) => {
            assert!(reason.contains("cannot be trusted"), "{reason}");
            assert!(reason.contains("self-signed"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // The same over STARTTLS.
    let untrusted = EmailConnector::new(config(
        &peer,
        format!("imap://127.0.0.1:{}", peer.imap_port),
        9,
    ))
    .unwrap();
    assert!(matches!(
        untrusted.check().await,
        Err(ConnectorError::Permanent { .. })
    ));
    // TLS spoken to a plain port.
    let confused = EmailConnector::new(config(
        &peer,
        format!("imaps://127.0.0.1:{}", peer.imap_port),
        9,
    ))
    .unwrap()
    .with_root_certificate_pem(&peer.cert_pem)
    .unwrap()
    .with_timeout(Duration::from_secs(5));
    assert!(confused.check().await.is_err());

    // Nobody listening.
    let port = dialoog_networks::testing::free_port();
    let gone = EmailConnector::new(config(&peer, format!("imaps://127.0.0.1:{port}"), 9)).unwrap();
    assert!(matches!(
        gone.fetch("").await,
        Err(ConnectorError::Transient { .. })
    ));

    // Settings a person could get wrong.
    let mut bad = config(&peer, "imap://imap.example.nl?tls=none".into(), 9);
    assert!(matches!(
        EmailConnector::new(bad.clone()),
        Err(ConnectorError::Permanent { reason }) if reason.contains("only to this machine")
    ));
    bad.imap_url = "imaps://imap.example.nl".into();
    bad.address = "webcare".into();
    assert!(EmailConnector::new(bad).is_err());
}

#[test]
fn rules_are_declared() {
    let c = EmailConnector::new(EmailConfig {
        imap_url: "imap.example.nl".into(),
        smtp_url: "smtp.example.nl".into(),
        username: "u".into(),
        password: "p".into(),
        address: "webcare@example.nl".into(),
    })
    .unwrap();
    let r = c.rules();
    assert!(!r.can_publish && !r.idempotent_publish);
    assert_eq!(r.can_reply_to, [ItemKind::Email]);
    assert_eq!(r.max_length, None);
    assert_eq!(r.max_images, 0);
    assert_eq!(r.poll_interval, Duration::from_secs(120));
}
