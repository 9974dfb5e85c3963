//! Editing a post that has not gone out, through the API and the pages:
//! the composer's check on the new text, approval starting again for an
//! editor's edit, old client links no longer approving, and a post the
//! dispatcher took refused with nothing changed.

use crate::approval::{POSTS, audit_actions, rfc3339, states};
use crate::browser::Browser;
use crate::composer::bluesky_channel;
use crate::harness::App;
use dialoog_engine::dispatcher::now_ms;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// 1 June 2099, 07:00 UTC (09:00 in Amsterdam).
const AT: i64 = 4_083_980_400_000;

async fn get(app: &App, token: &str, id: i64) -> Value {
    app.call("GET", &format!("{POSTS}/{id}"), Some(token), None)
        .await
        .1
}

async fn patch(app: &App, token: &str, id: i64, body: Value) -> (StatusCode, Value) {
    app.call("PATCH", &format!("{POSTS}/{id}"), Some(token), Some(body))
        .await
}

async fn editing_story(app: App) {
    let owner = app.setup().await;
    let ch = bluesky_channel(&app, 1).await;
    let (editor, _) = app.member(&owner, 1, "eva@bakkerij.nl", "editor").await;
    let (manager, _) = app.member(&owner, 1, "mo@bakkerij.nl", "manager").await;
    let (s, v) = app
        .call(
            "POST",
            POSTS,
            Some(&owner),
            Some(json!({"text": "Vers brood", "targets": [{"channel_id": ch}], "scheduled_at": rfc3339(AT)})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();

    // Text, a channel's own text, campaign and time change together.
    let (s, v) = patch(
        &app,
        &editor,
        id,
        json!({"text": "Vers speltbrood", "targets": [{"channel_id": ch, "text": "Speltbrood op Bluesky"}],
               "campaign": "lente", "scheduled_at": rfc3339(AT + 3_600_000)}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["text"], "Vers speltbrood");
    assert_eq!(v["targets"][0]["text"], "Speltbrood op Bluesky");
    assert_eq!(v["campaign"], "lente");
    assert_eq!(v["scheduled_at"], rfc3339(AT + 3_600_000));
    assert_eq!(
        v["targets"][0]["due_at"],
        rfc3339(AT + 3_600_000),
        "the channel moves with it"
    );
    assert_eq!(
        states(&v),
        ["scheduled"],
        "no approval asked: stays planned"
    );
    assert!(
        audit_actions(&app)
            .await
            .iter()
            .any(|(_, a, d)| a == "post.edited" && d.contains(&format!("\"post\":{id}"))),
        "the edit is in the audit log"
    );

    // Too long for Bluesky (300 graphemes): refused in the caller's
    // language, and nothing stored changes.
    let long = "brood ".repeat(60);
    let (s, v) = patch(&app, &editor, id, json!({"text": long, "targets": []})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["code"], "too_long_for_channel");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("@bakkerij.test"),
        "{v}"
    );
    let r = app
        .http
        .patch(format!("{}{POSTS}/{id}", app.url))
        .bearer_auth(&editor)
        .header("accept-language", "nl")
        .json(&json!({"text": long, "targets": []}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Te lang voor @bakkerij.test"),
        "{v}"
    );
    let now = get(&app, &owner, id).await;
    assert_eq!(now["text"], "Vers speltbrood", "unchanged after a refusal");
    assert_eq!(now["targets"][0]["text"], "Speltbrood op Bluesky");

    // A channel the post does not go to, an unknown post, another
    // workspace's post.
    let (s, v) = patch(
        &app,
        &editor,
        id,
        json!({"targets": [{"channel_id": ch + 100, "text": "x"}]}),
    )
    .await;
    assert_eq!(
        (s, v["errors"][0]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("channel_not_in_post")
        ),
        "{v}"
    );
    let (s, _) = patch(&app, &editor, 9999, json!({"text": "x"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let other = app.workspace(&owner, "Filiaal").await;
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/workspaces/{other}/posts"),
            Some(&owner),
            Some(json!({"text": "Elders", "draft": true})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let foreign = v["id"].as_i64().unwrap();
    let (s, _) = patch(&app, &editor, foreign, json!({"text": "Overgenomen"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another workspace's post");
    let (s, _) = app
        .call(
            "PATCH",
            &format!("/api/v1/workspaces/{other}/posts/{foreign}"),
            Some(&owner),
            Some(json!({"text": "Eigen bericht"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "a draft without channels is edited too");

    // With approval required, an editor's edit of a planned post sends it
    // back to review; a manager's edit keeps it where it is.
    app.call(
        "PUT",
        "/api/v1/workspaces/1/approval",
        Some(&owner),
        Some(json!({"required": true})),
    )
    .await;
    let (s, v) = patch(
        &app,
        &editor,
        id,
        json!({"text": "Speltbrood, nu ook met zaden"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(states(&v), ["in_review"]);
    let (s, link) = app
        .call(
            "POST",
            &format!("{POSTS}/{id}/client-link"),
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{link}");
    let token = link["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    // The manager edits the text in review: a new round, so the client's
    // link (made for the old text) no longer approves.
    let (s, v) = patch(&app, &manager, id, json!({"text": "Speltbrood met zaden"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(states(&v), ["in_review"], "still awaiting approval");
    let r = reqwest::Client::new()
        .get(format!("{}/review/{token}", app.url))
        .header("accept-language", "nl")
        .send()
        .await
        .unwrap();
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Deze goedkeuringslink is verlopen"),
        "the client is told the old link no longer works"
    );
    assert!(
        dialoog_web::approval::link_approve(&app_state(&app), &token, "Klant")
            .await
            .is_err(),
        "and it cannot approve"
    );
    assert_eq!(states(&get(&app, &owner, id).await), ["in_review"]);
    let (s, _) = app
        .call(
            "POST",
            &format!("{POSTS}/{id}/approve"),
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = patch(
        &app,
        &manager,
        id,
        json!({"text": "Speltbrood met pompoenpitten"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(states(&v), ["scheduled"], "a manager's edit stays approved");
    let (s, v) = patch(&app, &editor, id, json!({"campaign": "zomer"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        states(&v),
        ["in_review"],
        "an editor's edit is reviewed again"
    );
    let actions: Vec<String> = audit_actions(&app).await.into_iter().map(|a| a.1).collect();
    assert_eq!(
        actions.iter().filter(|a| *a == "post.edited").count(),
        5,
        "{actions:?}"
    );

    // The dispatcher takes a due post: an edit is refused, nothing changes.
    app.call(
        "PUT",
        "/api/v1/workspaces/1/approval",
        Some(&owner),
        Some(json!({"required": false})),
    )
    .await;
    let (s, v) = app
        .call(
            "POST",
            POSTS,
            Some(&owner),
            Some(json!({"text": "Nu meteen", "targets": [{"channel_id": ch}]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let due = v["id"].as_i64().unwrap();
    let claimed = app
        .db
        .store
        .claim_targets(now_ms() + 1000, now_ms() + 60_000, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let (s, v) = patch(&app, &owner, due, json!({"text": "Toch anders"})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("post_sent")),
        "{v}"
    );
    assert!(
        v["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("no longer be edited"),
        "{v}"
    );
    assert_eq!(get(&app, &owner, due).await["text"], "Nu meteen");

    // The pages: the posts page offers editing where it can be done and
    // says why not where it cannot; the form edits in Dutch.
    let b = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let page = b.get(&app, "/w/1/posts").await.text().await.unwrap();
    assert!(
        page.contains(&format!("href=\"/w/1/posts/{id}/edit\">Bewerken</a>")),
        "edit offered"
    );
    assert!(
        !page.contains(&format!("href=\"/w/1/posts/{due}/edit\"")),
        "not for one going out"
    );
    assert!(page.contains("Niet meer te bewerken: al (deels) verstuurd naar @bakkerij.test."));
    let r = b.get(&app, &format!("/w/1/posts/{due}/edit")).await;
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Dit bericht kan niet meer bewerkt worden"),
        "{html}"
    );
    assert!(
        !html.contains("name=\"text\""),
        "no form for a post going out"
    );
    let form = b.get(&app, &format!("/w/1/posts/{id}/edit")).await;
    assert_eq!(form.status(), StatusCode::OK);
    let html = form.text().await.unwrap();
    assert!(
        html.contains(">Speltbrood met pompoenpitten</textarea>"),
        "{html}"
    );
    assert!(html.contains("name=\"campaign\" value=\"zomer\""));
    assert!(html.contains("value=\"2099-06-01\"") && html.contains("value=\"10:00\""));
    let path = format!("/w/1/posts/{id}/edit");
    let too_long = format!(
        "text={}&date=2099-06-01&time=10%3A00&text_{ch}=",
        "brood+".repeat(60)
    );
    let r = b.post(&app, &path, &too_long).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("Te lang voor @bakkerij.test"), "{html}");
    assert_eq!(
        get(&app, &owner, id).await["text"],
        "Speltbrood met pompoenpitten",
        "nothing stored"
    );
    let r = b
        .post(
            &app,
            &path,
            &format!("text=Zaterdag+open&date=2099-06-02&time=08%3A30&text_{ch}=&campaign="),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let html = b.get(&app, &to).await.text().await.unwrap();
    assert!(html.contains("De wijzigingen zijn opgeslagen."), "{html}");
    assert!(html.contains("Zaterdag open"));
    let v = get(&app, &owner, id).await;
    assert_eq!(v["text"], "Zaterdag open");
    assert_eq!(
        v["targets"][0]["text"],
        Value::Null,
        "the shared text again"
    );
    assert_eq!(v["scheduled_at"], "2099-06-02T06:30:00Z");
    // Without the form's token nothing changes.
    let r = b
        .http
        .post(format!("{}{path}", app.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("text=Gekaapt&date=2099-06-02&time=08%3A30")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(get(&app, &owner, id).await["text"], "Zaterdag open");
}

#[tokio::test]
async fn editing_a_post_sqlite() {
    editing_story(App::sqlite().await).await;
}

#[tokio::test]
async fn editing_a_post_postgres() {
    if let Some(app) = App::postgres().await {
        editing_story(app).await;
    }
}

/// The application's state over the test's store, to call the service
/// directly.
fn app_state(app: &App) -> dialoog_web::AppState {
    dialoog_web::AppState::new(
        app.db.store.clone(),
        dialoog_web::WebConfig {
            allow_loopback_media: false,
            public_url: app.url.clone(),
            mailer: None,
        },
        dialoog_engine::Cipher::new([7; 32]),
    )
}
