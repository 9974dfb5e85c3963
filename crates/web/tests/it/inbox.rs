//! The inbox end to end against the real Mastodon test server: a mention
//! becomes a conversation, the answer typed in Dialoog appears on Mastodon
//! as a reply to it (once, however often the form is sent), the customer's
//! answer joins the same conversation, and the agent's steps (note, tag,
//! assign, resolve, snooze) show in the list's filters. Bad cases: a reply
//! over the network's limit, a deleted post, a channel that lost its
//! token, two agents resolving at once.

use crate::browser::Browser;
use crate::harness::App;
use dialoog_networks::testing::MastodonPeer;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn list(app: &App, token: &str, query: &str) -> Vec<Value> {
    let (s, v) = app
        .call(
            "GET",
            &format!("/api/v1/workspaces/1/conversations?{query}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["conversations"].as_array().unwrap().clone()
}

async fn story(app: App, peer: MastodonPeer) {
    let owner = app.setup().await;
    let (agent, agent_id) = app.member(&owner, 1, "joost@bakkerij.nl", "agent").await;
    let (client, client_id) = app.member(&owner, 1, "klant@bakkerij.nl", "client").await;
    let (s, ch) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/channels",
            Some(&owner),
            Some(json!({"network": "mastodon", "instance_url": peer.url, "access_token": "ada_token"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ch}");
    let channel = ch["id"].as_i64().unwrap();
    let sync = format!("/api/v1/workspaces/1/channels/{channel}/sync");
    app.call("POST", &sync, Some(&owner), None).await;

    // A negative Dutch mention from another account arrives.
    let mention = peer
        .post(
            "grace_token",
            &[(
                "status",
                "@ada jullie appeltaart was droog en veel te duur. Nooit meer!",
            )],
        )
        .await;
    let (s, v) = app.call("POST", &sync, Some(&agent), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let open = list(&app, &agent, "").await;
    assert_eq!(open.len(), 1, "{open:?}");
    let c = &open[0];
    let conv = c["id"].as_i64().unwrap();
    assert_eq!(c["kind"], "mention");
    assert_eq!(c["status"], "open");
    assert_eq!(c["author_name"], "Grace Hopper");
    assert_eq!(c["lang"], "nl");
    assert_eq!(c["sentiment"], "negative");
    assert!(c["waiting_since"].is_string(), "{c}");
    assert!(c["preview"].as_str().unwrap().contains("appeltaart"));
    // An answer is due under the default target, not yet overdue.
    assert!(
        c["answer_due_at"].is_string() && c["resolve_due_at"].is_string(),
        "{c}"
    );
    assert_eq!(c["overdue"], false);
    // Grace is a contact now, with this conversation.
    let (s, people) = app
        .call(
            "GET",
            "/api/v1/workspaces/1/contacts?q=grace",
            Some(&agent),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{people}");
    assert_eq!(
        (&people[0]["name"], &people[0]["conversations"]),
        (&json!("Grace Hopper"), &json!(1))
    );
    let grace = people[0]["id"].as_i64().unwrap();
    let (s, v) = app
        .call(
            "PATCH",
            &format!("/api/v1/workspaces/1/contacts/{grace}"),
            Some(&agent),
            Some(json!({"note": "Bestelt elke vrijdag", "add_tags": ["vaste klant"]})),
        )
        .await;
    assert_eq!(
        (s, &v["note"], &v["tags"]),
        (
            StatusCode::OK,
            &json!("Bestelt elke vrijdag"),
            &json!(["vaste klant"])
        ),
        "{v}"
    );
    assert_eq!(v["conversation_ids"], json!([c["id"]]));
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/workspaces/1/contacts/{grace}/merge"),
            Some(&agent),
            Some(json!({"other_id": grace})),
        )
        .await;
    assert_eq!(
        (s, &v["errors"][0]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("other_id"))
    );
    // Clients do not read the inbox.
    let (s, _) = app
        .call(
            "GET",
            "/api/v1/workspaces/1/conversations",
            Some(&client),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let path = format!("/api/v1/workspaces/1/conversations/{conv}");
    // Over Mastodon's 500 characters: refused with the count, nothing stored.
    let long = "a".repeat(520);
    let (s, v) = app
        .call(
            "POST",
            &format!("{path}/replies"),
            Some(&agent),
            Some(json!({"text": long})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["field"], "text", "{v}");
    assert!(
        v["errors"][0]["message"].as_str().unwrap().contains("500"),
        "{v}"
    );
    assert!(app.db.store.entries(conv).await.unwrap().is_empty());

    // The answer goes out as a reply to the mention, once for one key.
    let answer = json!({"text": "Wat jammer, Grace! We bellen je vandaag nog.", "key": "form-1"});
    let (s, first) = app
        .call(
            "POST",
            &format!("{path}/replies"),
            Some(&agent),
            Some(answer.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    assert_eq!(first["state"], "sent", "{first}");
    let (s, again) = app
        .call(
            "POST",
            &format!("{path}/replies"),
            Some(&agent),
            Some(answer),
        )
        .await;
    assert_eq!((s, &again["id"]), (StatusCode::CREATED, &first["id"]));
    let context = peer
        .call(
            "grace_token",
            "GET",
            &format!("/api/v1/statuses/{mention}/context"),
            &[],
        )
        .await;
    let replies: Vec<&Value> = context["descendants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["in_reply_to_id"] == mention.as_str())
        .collect();
    assert_eq!(replies.len(), 1, "sent once: {context}");
    let reply_text = replies[0]["content"].as_str().unwrap();
    assert!(
        reply_text.contains("We bellen je vandaag nog"),
        "{reply_text}"
    );
    let reply_id = replies[0]["id"].as_str().unwrap().to_owned();

    let (_, detail) = app.call("GET", &path, Some(&agent), None).await;
    let dirs: Vec<&str> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["direction"].as_str().unwrap())
        .collect();
    assert_eq!(dirs, ["in", "out"], "{detail}");
    assert!(detail["waiting_since"].is_null(), "answered: {detail}");
    assert!(detail["first_response_at"].is_string());
    // The figures count the first answer for the agent who gave it.
    let (s, f) = app
        .call(
            "GET",
            "/api/v1/workspaces/1/inbox/figures",
            Some(&agent),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!(
        (&f["all"]["conversations"], &f["all"]["answered"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(f["agents"][0]["name"], "joost@bakkerij.nl");
    assert_eq!(f["channels"][0]["name"], "@ada@localhost");
    assert!(f["all"]["median_first_response_minutes"].is_i64(), "{f}");
    // Opening hours: a closing time before the opening is refused; the
    // agent may read them but not change them.
    let levels = "/api/v1/workspaces/1/inbox/settings";
    let bad = json!({"hours": [{"weekday": 1, "open": "17:00", "close": "09:00"}],
        "first_response_minutes": 30, "resolution_minutes": 600});
    let (s, v) = app.call("PUT", levels, Some(&owner), Some(bad)).await;
    assert_eq!(
        (s, &v["errors"][0]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("hours")),
        "{v}"
    );
    let good = json!({"hours": [{"weekday": 1, "open": "08:30", "close": "17:00"},
        {"weekday": 6, "open": "10:00", "close": "16:00"}],
        "first_response_minutes": 30, "resolution_minutes": 600});
    let (s, v) = app
        .call("PUT", levels, Some(&owner), Some(good.clone()))
        .await;
    assert_eq!((s, &v), (StatusCode::OK, &good));
    let (s, v) = app.call("GET", levels, Some(&agent), None).await;
    assert_eq!((s, &v), (StatusCode::OK, &good));
    let (s, _) = app.call("PUT", levels, Some(&agent), Some(good)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The customer answers our reply: the same conversation, open again.
    app.call(
        "PATCH",
        &path,
        Some(&agent),
        Some(json!({"status": "pending"})),
    )
    .await;
    peer.post(
        "grace_token",
        &[
            ("status", "@ada Dank jullie wel, heel vriendelijk!"),
            ("in_reply_to_id", &reply_id),
        ],
    )
    .await;
    app.call("POST", &sync, Some(&agent), None).await;
    let all = list(&app, &agent, "status=all").await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["status"], "open");
    assert_eq!(all[0]["messages"], 2);
    assert_eq!(all[0]["sentiment"], "positive");

    // Note, tag and assignment, and the list's filters.
    let (s, note) = app
        .call(
            "POST",
            &format!("{path}/notes"),
            Some(&agent),
            Some(json!({"text": "Tegoedbon gegeven."})),
        )
        .await;
    assert_eq!(
        (s, &note["direction"]),
        (StatusCode::CREATED, &json!("note"))
    );
    let (s, v) = app
        .call(
            "PATCH",
            &path,
            Some(&agent),
            Some(json!({"add_tags": [" Klacht "], "assignee_id": agent_id})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["tags"], json!(["klacht"]));
    assert_eq!(v["assignee_id"], agent_id);
    let (s, v) = app
        .call(
            "PATCH",
            &path,
            Some(&agent),
            Some(json!({"assignee_id": client_id})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    for (query, n) in [
        ("tag=klacht", 1),
        ("tag=lof", 0),
        ("assignee=me", 1),
        ("assignee=none", 0),
        ("sentiment=positive", 1),
        ("sentiment=negative", 0),
        ("lang=nl", 1),
        ("q=APPELTAART", 1),
        ("q=kerststol", 0),
        (&format!("channel_id={channel}"), 1),
        ("kind=email", 0),
    ] {
        assert_eq!(list(&app, &agent, query).await.len(), n, "{query}");
    }
    let (s, v) = app
        .call(
            "GET",
            "/api/v1/workspaces/1/conversations?status=later",
            Some(&agent),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    // Two agents resolve at once: one changes it, the other is told.
    let resolve = json!({"status": "resolved"});
    let (a, b) = tokio::join!(
        app.call("PATCH", &path, Some(&agent), Some(resolve.clone())),
        app.call("PATCH", &path, Some(&owner), Some(resolve))
    );
    assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK));
    let changed = [&a.1, &b.1]
        .iter()
        .filter(|v| v["status_changed"] == true)
        .count();
    assert_eq!(changed, 1, "{} {}", a.1, b.1);
    assert!(list(&app, &agent, "").await.is_empty());
    assert_eq!(list(&app, &agent, "status=resolved").await.len(), 1);

    // Snoozed: out of the open list until then.
    let later = "2099-01-01T09:00:00Z";
    let (s, v) = app
        .call(
            "PATCH",
            &path,
            Some(&agent),
            Some(json!({"status": "open", "snoozed_until": later})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(list(&app, &agent, "").await.is_empty());
    assert_eq!(list(&app, &agent, "status=snoozed").await.len(), 1);
    let (s, _) = app
        .call(
            "PATCH",
            &path,
            Some(&agent),
            Some(json!({"snoozed_until": "2001-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // The post answered was deleted: the reply fails with the reason and
    // can be sent again.
    let thanks = all[0]["id"].as_i64().unwrap();
    assert_eq!(thanks, conv);
    let items = app.db.store.conversation_items(conv).await.unwrap();
    let last = items.last().unwrap().item.external_id.clone();
    peer.call(
        "grace_token",
        "DELETE",
        &format!("/api/v1/statuses/{last}"),
        &[],
    )
    .await;
    let (s, failed) = app
        .call(
            "POST",
            &format!("{path}/replies"),
            Some(&agent),
            Some(json!({"text": "Graag gedaan!"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{failed}");
    assert_eq!(failed["state"], "failed");
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("no longer exists"),
        "{failed}"
    );
    let (s, v) = app
        .call(
            "POST",
            &format!("{path}/replies/{}/retry", failed["id"]),
            Some(&agent),
            None,
        )
        .await;
    assert_eq!((s, &v["state"]), (StatusCode::OK, &json!("failed")), "{v}");
    let (s, v) = app
        .call(
            "POST",
            &format!("{path}/replies/{}/retry", first["id"]),
            Some(&agent),
            None,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("reply_not_retryable"))
    );

    // The channel lost its token: refused before anything is stored.
    let before = app.db.store.entries(conv).await.unwrap().len();
    app.db
        .store
        .mark_needs_reconnect(channel, "token revoked", 1)
        .await
        .unwrap();
    let (s, v) = app
        .call(
            "POST",
            &format!("{path}/replies"),
            Some(&agent),
            Some(json!({"text": "Hallo?"})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("channel_needs_reconnect")),
        "{v}"
    );
    assert!(
        v["detail"].as_str().unwrap().contains("token revoked"),
        "{v}"
    );
    assert_eq!(app.db.store.entries(conv).await.unwrap().len(), before);
}

#[tokio::test]
async fn mastodon_inbox_story_sqlite() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    story(App::sqlite().await, peer).await;
}

#[tokio::test]
async fn mastodon_inbox_story_postgres() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    if let Some(app) = App::postgres().await {
        story(app, peer).await;
    }
}

/// The pages: an agent opens the inbox, answers, notes, resolves; hostile
/// text from outside is shown as text, its `javascript:` link is no link.
#[tokio::test]
async fn an_agent_answers_from_the_pages() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    let app = App::sqlite().await;
    let owner = app.setup().await;
    app.member(&owner, 1, "joost@bakkerij.nl", "agent").await;
    let (_, ch) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/channels",
            Some(&owner),
            Some(json!({"network": "mastodon", "instance_url": peer.url, "access_token": "ada_token"})),
        )
        .await;
    let channel = ch["id"].as_i64().unwrap();
    let sync = format!("/api/v1/workspaces/1/channels/{channel}/sync");
    app.call("POST", &sync, Some(&owner), None).await;
    peer.post(
        "grace_token",
        &[(
            "status",
            "@ada <script>alert(1)</script> <img src=x onerror=alert(2)> zijn jullie morgen open?",
        )],
    )
    .await;
    app.call("POST", &sync, Some(&owner), None).await;

    let b = Browser::signed_in(&app, "joost@bakkerij.nl").await;
    let html = b.get(&app, "/w/1/inbox").await.text().await.unwrap();
    assert!(html.contains("Grace Hopper"), "{html}");
    assert!(!html.contains("<script>alert"), "escaped: {html}");
    let conv = app
        .db
        .store
        .conversations(1, &dialoog_store::InboxFilter::default(), i64::MAX, 5)
        .await
        .unwrap()[0]
        .id;
    let page = format!("/w/1/inbox/{conv}");
    let html = b.get(&app, &page).await.text().await.unwrap();
    assert!(html.contains("zijn jullie morgen open?"));
    assert!(!html.contains("<img src=x"), "escaped: {html}");
    assert!(!html.contains("href=\"javascript:"));

    // A colleague opens the same conversation: each is warned of the other.
    let anna = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let html = anna.get(&app, &page).await.text().await.unwrap();
    assert!(html.contains("joost@bakkerij.nl heeft dit gesprek ook open."));
    let r = b.post(&app, &format!("{page}/presence"), "typing=1").await;
    assert_eq!(r.text().await.unwrap(), "Anna heeft dit gesprek ook open.");
    let r = anna
        .post(&app, &format!("{page}/presence"), "typing=0")
        .await;
    assert_eq!(
        r.text().await.unwrap(),
        "joost@bakkerij.nl schrijft een antwoord in dit gesprek."
    );

    let r = b
        .post(
            &app,
            &format!("{page}/reply"),
            "text=Ja%2C+vanaf+8+uur!&key=k1",
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let html = b.get(&app, &to).await.text().await.unwrap();
    assert!(html.contains("Je antwoord is verstuurd."), "{html}");
    assert!(html.contains("Ja, vanaf 8 uur!"));
    // The same form again: not sent twice.
    let r = b
        .post(
            &app,
            &format!("{page}/reply"),
            "text=Ja%2C+vanaf+8+uur!&key=k1",
        )
        .await;
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let html = b.get(&app, &to).await.text().await.unwrap();
    assert!(html.contains("niet nog eens verstuurd"), "{html}");
    // An empty answer keeps the page, with the reason.
    let r = b
        .post(&app, &format!("{page}/reply"), "text=+&key=k2")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Dit veld is verplicht"));

    b.post(
        &app,
        &format!("{page}/note"),
        "text=Klant+komt+morgen&key=n1",
    )
    .await;
    b.post(&app, &format!("{page}/status"), "status=resolved")
        .await;
    let r = b
        .post(&app, &format!("{page}/status"), "status=resolved")
        .await;
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let html = b.get(&app, &to).await.text().await.unwrap();
    assert!(
        html.contains("een collega had deze status al gezet"),
        "{html}"
    );
    assert!(html.contains("Klant komt morgen"));
    let html = b.get(&app, "/w/1/inbox").await.text().await.unwrap();
    assert!(
        !html.contains("Grace Hopper"),
        "resolved leaves the open list"
    );
    let html = b
        .get(&app, "/w/1/inbox?view=resolved")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Grace Hopper"));

    // Opening hours in the pages: a mistake is named, a good form saved.
    let anna = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let r = anna
        .post(
            &app,
            "/w/1/inbox/settings",
            "open1=17%3A00&close1=09%3A00&response=0&resolution=8",
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("De tijden voor dag 1 kloppen niet"), "{html}");
    assert!(html.contains("Geef een heel getal van 1 tot en met 10080"));
    let r = anna
        .post(
            &app,
            "/w/1/inbox/settings",
            "open1=09%3A00&close1=17%3A00&response=45&resolution=7%2C5",
        )
        .await;
    assert_eq!(
        r.headers()["location"],
        "/w/1/inbox/settings?done=service_levels_saved"
    );
    let levels = app.db.store.inbox_settings(1).await.unwrap().unwrap();
    assert_eq!(
        (
            levels.hours.as_str(),
            levels.first_response_minutes,
            levels.resolution_minutes
        ),
        ("1=09:00-17:00", 45, 450)
    );
    let html = b
        .get(&app, "/w/1/inbox/figures")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Per medewerker") && html.contains("joost@bakkerij.nl"),
        "{html}"
    );
}
