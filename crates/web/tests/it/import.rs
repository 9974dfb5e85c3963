//! Importing posts from CSV, through the API and the upload form: a good
//! file (semicolons, a byte-order mark, Dutch headers, a text with a line
//! break in quotes) is planned whole; a file with one bad row imports
//! nothing and names that row, its column and the problem in the caller's
//! language; a Latin-1 file, a missing column, an empty file are refused
//! with a clear message.

use crate::browser::{Browser, csrf_in};
use crate::harness::App;
use crate::schedule::mastodon_channel;
use dialoog_domain::time::local;
use dialoog_networks::testing::MastodonPeer;
use reqwest::StatusCode;
use serde_json::Value;

pub async fn send(app: &App, token: &str, body: Vec<u8>, lang: &str) -> (StatusCode, Value) {
    let r = app
        .http
        .post(format!("{}/api/v1/workspaces/1/posts/import", app.url))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .header("accept-language", lang)
        .body(body)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap())
}

async fn count(app: &App) -> usize {
    app.db
        .store
        .recent_posts(1, None, 1000)
        .await
        .unwrap()
        .len()
}

async fn story(app: App, peer: MastodonPeer) {
    let owner = app.setup().await;
    let (ch, name) = mastodon_channel(&app, &owner, &peer).await;

    // A good file, as Dutch Excel writes it.
    let good = format!(
        "\u{feff}Datum;Tijd;Kanalen;Tekst;Opmerking\r\n\
         2038-03-28;09:00;{name};\"Zomertijd!\nDe klok is vooruit.\";intern\r\n\
         31-10-2038;02:30;{ch};Wintertijd;\r\n\
         1/11/2038;9:15;{name} | {ch};\"Met \"\"aanhalingstekens\"\"; en puntkomma\";\r\n"
    );
    let (s, v) = send(&app, &owner, good.into_bytes(), "nl").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["imported"], 3);
    let mut posts = app.db.store.recent_posts(1, None, 10).await.unwrap();
    posts.reverse();
    let shown: Vec<(String, String)> = posts
        .iter()
        .map(|(p, _)| {
            (
                local(p.scheduled_at.unwrap(), "Europe/Amsterdam")
                    .strftime("%Y-%m-%d %H:%M %:z")
                    .to_string(),
                p.text.clone(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (
                "2038-03-28 09:00 +02:00".to_owned(),
                "Zomertijd!\nDe klok is vooruit.".to_owned()
            ),
            (
                "2038-10-31 02:30 +02:00".to_owned(),
                "Wintertijd".to_owned()
            ),
            (
                "2038-11-01 09:15 +01:00".to_owned(),
                "Met \"aanhalingstekens\"; en puntkomma".to_owned()
            ),
        ]
    );
    assert!(
        posts
            .iter()
            .all(|(_, t)| t.len() == 1 && t[0].state == "scheduled")
    );

    // One bad row among good ones: nothing is imported, every problem is
    // named by row and column, in the caller's language.
    let long = "a".repeat(501);
    let bad = format!(
        "date,time,channels,text\n\
         2038-05-01,09:00,{ch},Goed\n\
         2038-03-28,02:30,{ch},Bestaat niet\n\
         2020-01-01,09:00,{ch},Voorbij\n\
         2038-05-02,09:00,Onbekend kanaal,Wie?\n\
         2038-05-03,09:00,{ch},{long}\n\
         2038-05-04,09:00,{ch},\n\
         2038-13-01,25:00,{ch},Kapot\n"
    );
    let (s, v) = send(&app, &owner, bad.clone().into_bytes(), "en").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["code"], "import_refused");
    let rows: Vec<(i64, &str, &str)> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["row"].as_i64().unwrap(),
                r["column"].as_str().unwrap(),
                r["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (3, "time", "time_skipped"),
            (4, "time", "time_in_past"),
            (5, "channels", "csv_channel_unknown"),
            (6, "text", "too_long_for_channel"),
            (7, "text", "required"),
            (8, "date", "csv_date_invalid"),
            (8, "time", "csv_time_invalid"),
        ]
    );
    assert!(
        v["rows"][0]["message"]
            .as_str()
            .unwrap()
            .contains("02:30 does not exist"),
        "{v}"
    );
    assert_eq!(count(&app).await, 3, "nothing of the bad file was stored");
    let (_, v) = send(&app, &owner, bad.into_bytes(), "nl").await;
    assert!(
        v["rows"][2]["message"]
            .as_str()
            .unwrap()
            .contains("Er is geen kanaal \"Onbekend kanaal\""),
        "{v}"
    );

    // Files that cannot be read say why.
    let latin1 = b"datum;tijd;kanalen;tekst\n2038-05-01;09:00;1;Caf\xe9 open\n".to_vec();
    let (s, v) = send(&app, &owner, latin1, "nl").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0]["code"], "csv_not_utf8");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("CSV UTF-8"),
        "{v}"
    );
    let (_, v) = send(
        &app,
        &owner,
        b"datum;tijd;kanalen\n2038-05-01;09:00;1\n".to_vec(),
        "en",
    )
    .await;
    assert_eq!(v["errors"][0]["code"], "csv_missing_columns");
    assert!(v["errors"][0]["message"].as_str().unwrap().contains("text"));
    let (_, v) = send(&app, &owner, vec![], "en").await;
    assert_eq!(v["errors"][0]["code"], "csv_empty");
    // Larger than the API's usual 1 MiB, within 2 MB: read, then refused
    // for its rows; beyond 2 MB: too large.
    let many = format!(
        "datum;tijd;kanalen;tekst\n{}",
        "2038-05-01;09:00;1;x\n".repeat(80_000)
    );
    assert!(many.len() > 1024 * 1024 && many.len() < 2 * 1024 * 1024);
    let (s, v) = send(&app, &owner, many.into_bytes(), "en").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0]["code"], "csv_too_many_rows");
    assert!(v["errors"][0]["message"].as_str().unwrap().contains("5000"));
    let (s, v) = send(&app, &owner, vec![b'x'; 3 * 1024 * 1024], "en").await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    let r = app
        .http
        .post(format!("{}/api/v1/workspaces/1/posts/import", app.url))
        .bearer_auth(&owner)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(count(&app).await, 3);

    // The upload form: a file in a multipart body, the CSRF token with it.
    let browser = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let page = browser.get(&app, "/w/1/posts/import").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let csrf = csrf_in(&html);
    assert!(html.contains("example.csv"));
    let example = browser.get(&app, "/w/1/posts/import/example.csv").await;
    assert!(
        example.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        example
            .text()
            .await
            .unwrap()
            .starts_with("datum;tijd;kanalen;tekst")
    );
    let upload = |file: Vec<u8>, csrf: String| {
        let form = reqwest::multipart::Form::new()
            .text("_csrf", csrf)
            .text("csv", "")
            .part(
                "file",
                reqwest::multipart::Part::bytes(file)
                    .file_name("plan.csv")
                    .mime_str("text/csv")
                    .unwrap(),
            );
        browser
            .http
            .post(format!("{}/w/1/posts/import", app.url))
            .multipart(form)
            .send()
    };
    let bad_row =
        format!("tekst,kanalen,datum,tijd\nGoed,{ch},2038-06-01,09:00\nFout,{ch},2038-06-02,\n");
    let r = upload(bad_row.into_bytes(), csrf.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<td>3</td><td>tijd</td><td>Geen tijd")
            || html.contains("<td>3</td><td>tijd</td><td>Not a time"),
        "{html}"
    );
    assert_eq!(count(&app).await, 3);
    let r = upload(b"datum;tijd\n\xff\xfe".to_vec(), csrf.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("CSV UTF-8"));
    let good_row = format!("tekst,kanalen,datum,tijd\nGoed,{ch},2038-06-01,09:00\n");
    let r = upload(good_row.clone().into_bytes(), "vervalst".into())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = upload(good_row.into_bytes(), csrf).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(to, "/w/1/posts/import?imported=1");
    let html = browser.get(&app, &to).await.text().await.unwrap();
    assert!(
        html.contains("1 berichten zijn geïmporteerd") || html.contains("1 posts are imported"),
        "{html}"
    );
    assert_eq!(count(&app).await, 4);
}

#[tokio::test]
async fn csv_import_sqlite() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    story(App::sqlite().await, peer).await;
}

#[tokio::test]
async fn csv_import_postgres() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    if let Some(app) = App::postgres().await {
        story(app, peer).await;
    }
}
