//! Customers waiting past the answer target: told once per wait, to the
//! owners and managers while nobody is assigned, to the assignee once
//! someone is; snoozed, resolved and answered-in-time conversations are
//! not told; the notification leads to the conversation.

use crate::browser::Browser;
use crate::harness::App;
use dialoog_store::{GeneratedConversation, GeneratedItem, InboxSettings, Store};
use dialoog_web::{AppState, WebConfig};

const MIN: i64 = 60_000;

fn state(app: &App) -> AppState {
    AppState::new(
        app.db.store.clone(),
        WebConfig {
            allow_loopback_media: true,
            public_url: app.url.clone(),
            mailer: None,
        },
        dialoog_engine::Cipher::new([7; 32]),
    )
}

fn waiting(
    channel: i64,
    who: &str,
    since: i64,
    status: &str,
    snoozed: Option<i64>,
) -> GeneratedConversation {
    GeneratedConversation {
        channel_id: channel,
        kind: "mention".into(),
        author_id: who.into(),
        author_name: who.into(),
        author_handle: None,
        status: status.into(),
        assignee_id: None,
        snoozed_until: snoozed,
        lang: Some("nl".into()),
        sentiment: Some("negative".into()),
        tags: vec![],
        items: vec![GeneratedItem {
            text: "Waar blijft mijn bestelling?".into(),
            at: since,
        }],
    }
}

async fn overdue(app: App) {
    let owner = app.setup().await;
    let ws = app.workspace(&owner, "Bakkerij").await;
    let (_, agent) = app.member(&owner, ws, "agent@bakkerij.nl", "agent").await;
    let store: &Store = &app.db.store;
    let now = dialoog_engine::dispatcher::now_ms();
    // Always open, answer within 30 minutes.
    store
        .set_inbox_settings(
            ws,
            &InboxSettings {
                hours: dialoog_domain::sla::BusinessHours::always().to_text(),
                first_response_minutes: 30,
                resolution_minutes: 600,
            },
            now,
        )
        .await
        .unwrap();
    let ch = store
        .create_channel(ws, "mastodon", "Bakkerij", b"sealed", now)
        .await
        .unwrap();
    store
        .fill_generated_inbox(
            ws,
            &[
                waiting(ch.id, "Piet", now - 45 * MIN, "open", None),
                waiting(ch.id, "Kees", now - 10 * MIN, "open", None),
                waiting(ch.id, "Sanne", now - 90 * MIN, "open", Some(now + 60 * MIN)),
                waiting(ch.id, "Joop", now - 90 * MIN, "resolved", None),
            ],
            now,
        )
        .await
        .unwrap();
    let s = state(&app);
    assert_eq!(
        dialoog_web::overdue::check_once(&s, now).await,
        1,
        "only Piet waits too long"
    );
    assert_eq!(
        dialoog_web::overdue::check_once(&s, now + MIN).await,
        0,
        "once per wait"
    );
    let owner_user = store
        .user_by_email("anna@bakkerij.nl")
        .await
        .unwrap()
        .unwrap();
    let told = store.notifications(owner_user.id, 10).await.unwrap();
    assert_eq!(told.len(), 1);
    assert_eq!(
        (told[0].kind.as_str(), told[0].detail.as_str()),
        ("inbox_overdue", "Piet")
    );
    assert!(
        store.notifications(agent, 10).await.unwrap().is_empty(),
        "agents assign nothing"
    );

    // Kees, assigned to the agent, goes past the target later: the agent is told.
    let kees = store
        .waiting_untold(ws, now, now, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.author_name == "Kees")
        .unwrap();
    store
        .assign_conversation(ws, kees.id, Some(agent), now)
        .await
        .unwrap();
    assert_eq!(
        dialoog_web::overdue::check_once(&s, now + 25 * MIN).await,
        1
    );
    let told = store.notifications(agent, 10).await.unwrap();
    assert_eq!((told.len(), told[0].subject_id), (1, kees.id));
    assert_eq!(
        store.notifications(owner_user.id, 10).await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn overdue_waits_are_told_once_sqlite() {
    let app = App::sqlite().await;
    overdue(app).await;
}

#[tokio::test]
async fn overdue_waits_are_told_once_postgres() {
    if let Some(app) = App::postgres().await {
        overdue(app).await;
    }
}

#[tokio::test]
async fn the_notification_leads_to_the_conversation() {
    let app = App::sqlite().await;
    let owner = app.setup().await;
    let ws = app.workspace(&owner, "Bakkerij").await;
    let store = &app.db.store;
    let now = dialoog_engine::dispatcher::now_ms();
    let ch = store
        .create_channel(ws, "mastodon", "Bakkerij", b"sealed", now)
        .await
        .unwrap();
    // The default levels: office hours, an hour. Three days of waiting is
    // past that whatever the weekday.
    store
        .fill_generated_inbox(
            ws,
            &[waiting(
                ch.id,
                "Piet",
                now - 3 * 24 * 60 * MIN,
                "open",
                None,
            )],
            now,
        )
        .await
        .unwrap();
    assert_eq!(dialoog_web::overdue::check_once(&state(&app), now).await, 1);
    let id = store.waiting_untold(ws, now, now, 10).await.unwrap();
    assert!(id.is_empty(), "told");
    let b = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let html = b.get(&app, "/notifications").await.text().await.unwrap();
    assert!(
        html.contains("Piet wacht langer dan het doel op een antwoord"),
        "{html}"
    );
    assert!(
        html.contains("Open het gesprek") && html.contains(&format!("href=\"/w/{ws}/inbox/")),
        "{html}"
    );
    let (_, v) = app
        .call("GET", "/api/v1/notifications", Some(&owner), None)
        .await;
    assert_eq!(v["notifications"][0]["kind"], "inbox_overdue");
    assert!(v["notifications"][0]["conversation_id"].is_i64(), "{v}");
}
