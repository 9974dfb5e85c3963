//! The access matrix's rows for the inbox, for the API and the pages. The
//! matrix's channels are feeds, which cannot answer: a reply that is
//! allowed reaches that check (409), and nothing is sent anywhere.

use crate::harness::App;
use dialoog_domain::Action;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// API rows: method, path, what it needs, a body, the answer when allowed.
pub fn api() -> Vec<(
    &'static str,
    &'static str,
    Action,
    Option<Value>,
    StatusCode,
)> {
    vec![
        (
            "GET",
            "/api/v1/workspaces/{ws}/conversations?status=all",
            Action::ViewInbox,
            None,
            StatusCode::OK,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/conversations/{conv}",
            Action::ViewInbox,
            None,
            StatusCode::OK,
        ),
        (
            "PATCH",
            "/api/v1/workspaces/{ws}/conversations/{conv}",
            Action::AnswerInbox,
            Some(json!({"add_tags": ["vraag"]})),
            StatusCode::OK,
        ),
        (
            "POST",
            "/api/v1/workspaces/{ws}/conversations/{conv}/replies",
            Action::AnswerInbox,
            Some(json!({"text": "Dank je!"})),
            StatusCode::CONFLICT,
        ),
        (
            // Nothing failed, so nothing can be sent again.
            "POST",
            "/api/v1/workspaces/{ws}/conversations/{conv}/replies/1/retry",
            Action::AnswerInbox,
            None,
            StatusCode::CONFLICT,
        ),
        (
            "POST",
            "/api/v1/workspaces/{ws}/conversations/{conv}/notes",
            Action::AnswerInbox,
            Some(json!({"text": "Klant belt morgen terug."})),
            StatusCode::CREATED,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/inbox/settings",
            Action::ViewInbox,
            None,
            StatusCode::OK,
        ),
        (
            "PUT",
            "/api/v1/workspaces/{ws}/inbox/settings",
            Action::EditSettings,
            Some(
                json!({"hours": [{"weekday": 1, "open": "09:00", "close": "17:00"}],
                "first_response_minutes": 60, "resolution_minutes": 480}),
            ),
            StatusCode::OK,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/inbox/figures",
            Action::ViewInbox,
            None,
            StatusCode::OK,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/contacts",
            Action::ViewInbox,
            None,
            StatusCode::OK,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/contacts/{contact}",
            Action::ViewInbox,
            None,
            StatusCode::OK,
        ),
        (
            "PATCH",
            "/api/v1/workspaces/{ws}/contacts/{contact}",
            Action::AnswerInbox,
            Some(json!({"note": "Belt vaak"})),
            StatusCode::OK,
        ),
        (
            // An unknown contact: the answer says so.
            "POST",
            "/api/v1/workspaces/{ws}/contacts/{contact}/merge",
            Action::AnswerInbox,
            Some(json!({"other_id": 0})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            // Its only account cannot be split off.
            "POST",
            "/api/v1/workspaces/{ws}/contacts/{contact}/identities/{identity}/split",
            Action::AnswerInbox,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ]
}

/// UI rows: method, path, what it needs, a form body.
pub fn ui() -> Vec<(&'static str, &'static str, Action, String)> {
    let rows: Vec<(&'static str, &'static str, Action, &'static str)> = vec![
        ("GET", "/w/{ws}/inbox", Action::ViewInbox, ""),
        ("GET", "/w/{ws}/inbox/events", Action::ViewInbox, ""),
        ("GET", "/w/{ws}/inbox/settings", Action::EditSettings, ""),
        (
            "POST",
            "/w/{ws}/inbox/settings",
            Action::EditSettings,
            "open1=09%3A00&close1=17%3A00&response=60&resolution=8",
        ),
        ("GET", "/w/{ws}/inbox/figures", Action::ViewInbox, ""),
        ("GET", "/w/{ws}/contacts", Action::ViewInbox, ""),
        ("GET", "/w/{ws}/contacts/{contact}", Action::ViewInbox, ""),
        (
            "POST",
            "/w/{ws}/contacts/{contact}/note",
            Action::AnswerInbox,
            "note=Belt+vaak",
        ),
        (
            "POST",
            "/w/{ws}/contacts/{contact}/tags",
            Action::AnswerInbox,
            "tag=vip",
        ),
        (
            "POST",
            "/w/{ws}/contacts/{contact}/merge",
            Action::AnswerInbox,
            "other=0",
        ),
        (
            "POST",
            "/w/{ws}/contacts/{contact}/identities/{identity}/split",
            Action::AnswerInbox,
            "",
        ),
        ("GET", "/w/{ws}/inbox/{conv}", Action::ViewInbox, ""),
        (
            "POST",
            "/w/{ws}/inbox/{conv}/reply",
            Action::AnswerInbox,
            "text=Dank+je&key=k",
        ),
        (
            "POST",
            "/w/{ws}/inbox/{conv}/replies/1/retry",
            Action::AnswerInbox,
            "",
        ),
        (
            "POST",
            "/w/{ws}/inbox/{conv}/note",
            Action::AnswerInbox,
            "text=Notitie",
        ),
        (
            "POST",
            "/w/{ws}/inbox/{conv}/status",
            Action::AnswerInbox,
            "status=pending",
        ),
        (
            "POST",
            "/w/{ws}/inbox/{conv}/assign",
            Action::AnswerInbox,
            "assignee=",
        ),
        (
            "POST",
            "/w/{ws}/inbox/{conv}/snooze",
            Action::AnswerInbox,
            "until=1h",
        ),
        (
            "POST",
            "/w/{ws}/inbox/{conv}/tags",
            Action::AnswerInbox,
            "tag=vraag",
        ),
        (
            "POST",
            "/w/{ws}/inbox/{conv}/presence",
            Action::ViewInbox,
            "typing=1",
        ),
        (
            "GET",
            "/w/{ws}/inbox/{conv}/media/{conv_item}/0",
            Action::ViewInbox,
            "",
        ),
    ];
    rows.into_iter()
        .map(|(m, p, a, f)| (m, p, a, f.to_owned()))
        .collect()
}

/// A conversation in `ws`: a mention with a picture (from a loopback
/// server) that came in through `channel`.
pub async fn conversation(app: &App, ws: i64, channel: i64) -> i64 {
    let s = &app.db.store;
    let images = dialoog_networks::testing::image_server().await;
    let item = dialoog_store::NewItem {
        external_id: format!("m{ws}"),
        kind: "mention".into(),
        author_id: "https://social.example/@klant".into(),
        author_name: "Klant".into(),
        author_handle: Some("@klant@social.example".into()),
        thread_ref: None,
        in_reply_to: None,
        text: "Wanneer zijn jullie open?".into(),
        url: None,
        published_at: Some(1_000),
        media: json!([{"url": format!("{images}/tiny.png"), "kind": "image", "alt": "Taart"}])
            .to_string(),
        lang: Some("nl".into()),
        sentiment: Some("neutral".into()),
        score: Some(0.0),
    };
    s.insert_items(channel, &[item], 2_000).await.unwrap();
    s.thread_items(channel, 2_000).await.unwrap();
    let all = s
        .conversations(ws, &dialoog_store::InboxFilter::default(), 3_000, 10)
        .await
        .unwrap();
    all[0].id
}

/// The (first) inbound item of a conversation.
pub async fn item(app: &App, conv: i64) -> i64 {
    app.db.store.conversation_items(conv).await.unwrap()[0].id
}

/// The contact and identity of a conversation's author.
pub async fn contact(app: &App, conv: i64) -> (i64, i64) {
    let s = &app.db.store;
    let contact = s.contact_of(conv).await.unwrap().unwrap();
    (contact, s.identities(contact).await.unwrap()[0].id)
}
