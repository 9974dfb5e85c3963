//! A post that failed or needs a look reaches its author by e-mail through
//! a real SMTP server (aiosmtpd): once, even with two processes mailing at
//! the same time, in the author's language, with the reason in plain words,
//! the network's own words and a link to the post.

use dialoog_engine::Cipher;
use dialoog_networks::testing::SmtpPeer;
use dialoog_store::{NewOwner, NewPost, NewTarget, Outcome, Store};
use dialoog_web::notify_mail::{MailLoopConfig, mail_once};
use dialoog_web::{AppState, Mailer, WebConfig};

pub const NOW: i64 = 1_790_000_000_000;

fn state(store: Store, smtp_port: u16) -> AppState {
    AppState::new(
        store,
        WebConfig {
            allow_loopback_media: false,
            public_url: "https://dialoog.bakkerij.example".into(),
            mailer: Some(
                Mailer::new(
                    &format!("smtp://127.0.0.1:{smtp_port}"),
                    "Dialoog <dialoog@bakkerij.example>",
                )
                .unwrap(),
            ),
        },
        Cipher::new([1; 32]),
    )
}

/// A post on `channel` whose one attempt ends with `outcome`.
pub async fn post_that_ends(
    store: &Store,
    ws: i64,
    channel: i64,
    text: &str,
    outcome: Outcome,
) -> i64 {
    let ch = store.channel(ws, channel).await.unwrap();
    let (post, _) = store
        .create_post(
            &NewPost {
                workspace_id: ws,
                author_id: Some(1),
                text: text.into(),
                scheduled_at: Some(NOW),
                state: "scheduled".into(),
                targets: vec![NewTarget {
                    channel_id: channel,
                    network: ch.network,
                    channel_name: ch.name,
                    text: None,
                    idempotency_key: format!("k-{text}"),
                }],
            },
            NOW,
        )
        .await
        .unwrap();
    let claim = store
        .claim_targets(NOW, NOW + 60_000, 10)
        .await
        .unwrap()
        .remove(0);
    assert!(
        store
            .finish_attempt(claim.target.id, claim.target.attempts, &outcome, NOW)
            .await
            .unwrap()
    );
    post.id
}

fn parsed(data: &[u8]) -> (String, String) {
    let m = mail_parser::MessageParser::default().parse(data).unwrap();
    (
        m.subject().unwrap_or_default().to_owned(),
        m.body_text(0).unwrap_or_default().replace("\r\n", "\n"),
    )
}

async fn failures_are_mailed_once_in_the_authors_language(db_url: String, store: Store) {
    let Some(smtp) = SmtpPeer::start() else {
        return;
    };
    let (eva, ws) = store
        .setup(
            &NewOwner {
                organisation: "Bakkerij De Vries",
                name: "Eva",
                email: "eva@bakkerij.example",
                password_hash: "x",
                locale: "nl",
                timezone: "Europe/Amsterdam",
            },
            NOW,
        )
        .await
        .unwrap();
    let masto = store
        .create_channel(ws.id, "mastodon", "@bakkerij", b"x", NOW)
        .await
        .unwrap()
        .id;
    let blog = store
        .create_channel(ws.id, "wordpress", "Blog", b"x", NOW)
        .await
        .unwrap()
        .id;
    let failed = post_that_ends(
        &store,
        ws.id,
        masto,
        "Verse croissants vanaf zeven uur",
        Outcome::Failed {
            code: "rejected".into(),
            error: "Validation failed: Text character limit of 500 exceeded".into(),
        },
    )
    .await;
    // Twelve more, so two mailers share the work.
    for n in 0..12 {
        post_that_ends(
            &store,
            ws.id,
            masto,
            &format!("Aanbieding {n}"),
            Outcome::Failed {
                code: "rejected".into(),
                error: String::new(),
            },
        )
        .await;
    }
    // Two processes (two pools on one database) mail at the same time,
    // a few at a time, until nothing is left.
    let other = Store::connect(&db_url).await.unwrap();
    let config = MailLoopConfig {
        batch: 3,
        ..MailLoopConfig::default()
    };
    let drain = |st: AppState| async move {
        let mut sent = 0;
        for _ in 0..20 {
            let (n, failed) = mail_once(&st, &config, NOW + 1000).await;
            assert!(!failed);
            sent += n;
            if n == 0 {
                break;
            }
        }
        sent
    };
    let (a, b) = tokio::join!(
        drain(state(store.clone(), smtp.port)),
        drain(state(other.clone(), smtp.port))
    );
    assert_eq!(a + b, 13, "every notification once ({a} + {b})");
    smtp.wait_for(13).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(smtp.received().len(), 13, "none twice");

    // Eva now reads English: the next one comes in English.
    store.set_user_locale(eva.id, "en").await.unwrap();
    let unsure = post_that_ends(
        &store,
        ws.id,
        blog,
        "New opening hours",
        Outcome::Unconfirmed {
            code: "interrupted".into(),
            error: String::new(),
        },
    )
    .await;

    assert_eq!(
        mail_once(&state(store.clone(), smtp.port), &config, NOW + 2000).await,
        (1, false)
    );
    let mails = smtp.wait_for(14).await;
    let told = store.notifications(eva.id, 100).await.unwrap();
    assert!(told.iter().all(|n| n.mailed_at.is_some()));
    assert!(mails.iter().all(|m| m.to == ["eva@bakkerij.example"]));

    let texts: Vec<(String, String)> = mails.iter().map(|m| parsed(&m.data)).collect();
    let (subject, body) = texts
        .iter()
        .find(|(_, b)| b.contains("Verse croissants"))
        .unwrap();
    assert_eq!(subject, "Niet gepubliceerd op @bakkerij");
    assert!(body.starts_with("Hallo Eva,"), "{body}");
    assert!(
        body.contains("Waarom: Het netwerk heeft het bericht geweigerd."),
        "{body}"
    );
    assert!(
        body.contains("Het netwerk zei: Validation failed: Text character limit of 500 exceeded"),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "https://dialoog.bakkerij.example/w/{}/posts#post-{failed}",
            ws.id
        )),
        "{body}"
    );
    let (subject, body) = texts
        .iter()
        .find(|(_, b)| b.contains("New opening hours"))
        .unwrap();
    assert_eq!(subject, "Please check your post on Blog");
    assert!(
        body.contains("Dialoog cannot tell whether your post reached Blog"),
        "{body}"
    );
    assert!(body.contains("Publishing was interrupted"), "{body}");
    assert!(body.contains(&format!("#post-{unsure}")), "{body}");

    // Nothing is left to mail, and a later look sends nothing again.
    assert_eq!(
        mail_once(&state(store.clone(), smtp.port), &config, NOW + 5000).await,
        (0, false)
    );
    other.close().await;
}

#[tokio::test]
async fn sqlite_failures_are_mailed_once_in_the_authors_language() {
    let db = dialoog_store::testing::TestDb::sqlite().await;
    failures_are_mailed_once_in_the_authors_language(db.url.clone(), db.store.clone()).await;
}

#[tokio::test]
async fn postgres_failures_are_mailed_once_in_the_authors_language() {
    let Some(db) = dialoog_store::testing::TestDb::postgres().await else {
        return;
    };
    failures_are_mailed_once_in_the_authors_language(db.url.clone(), db.store.clone()).await;
}

/// An SMTP server that refuses for now: the notification is kept and
/// mailed once it accepts again.
#[tokio::test]
async fn a_refusing_mail_server_loses_no_notification() {
    let Some(down) = SmtpPeer::start_with(dialoog_networks::testing::SmtpOptions {
        fault: Some("451 Try again later".into()),
        ..Default::default()
    }) else {
        return;
    };
    let db = dialoog_store::testing::TestDb::sqlite().await;
    let store = db.store.clone();
    let (_, ws) = store
        .setup(
            &NewOwner {
                organisation: "B",
                name: "Eva",
                email: "eva@bakkerij.example",
                password_hash: "x",
                locale: "en",
                timezone: "UTC",
            },
            NOW,
        )
        .await
        .unwrap();
    let ch = store
        .create_channel(ws.id, "mastodon", "@bakkerij", b"x", NOW)
        .await
        .unwrap()
        .id;
    post_that_ends(
        &store,
        ws.id,
        ch,
        "Closed on Monday",
        Outcome::Failed {
            code: "retries_exhausted".into(),
            error: "429".into(),
        },
    )
    .await;
    let config = MailLoopConfig::default();
    assert_eq!(
        mail_once(&state(store.clone(), down.port), &config, NOW + 10).await,
        (0, true)
    );
    assert!(
        store.notifications(1, 10).await.unwrap()[0]
            .mailed_at
            .is_none()
    );
    let Some(up) = SmtpPeer::start() else { return };
    assert_eq!(
        mail_once(&state(store.clone(), up.port), &config, NOW + 20).await,
        (1, false)
    );
    let (subject, body) = parsed(&up.wait_for(1).await[0].data);
    assert_eq!(subject, "Not published on @bakkerij");
    assert!(body.contains("The network kept refusing for now"), "{body}");
}
