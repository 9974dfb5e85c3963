//! A full disk (the SQLite file may not grow): "fetch now" says so in the
//! member's language and stores nothing; the sources page and the API show
//! listening on hold, since when and why; once room is freed the next
//! fetch stores every mention, once, and the notice is gone.

use crate::browser::Browser;
use crate::feeds::{FeedServer, rss};
use crate::harness::App;
use dialoog_store::testing::TestDb;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_full_disk_puts_listening_on_hold_and_loses_nothing() {
    let db = TestDb::sqlite().await;
    // Room for signing up and setting up; then filler takes it and 2,000
    // pages more, which are freed later.
    let max = db.pages().await + 400;
    let store = db.capped(max).await;
    let app = App::start_on(db, store).await;
    let owner = app.setup().await;
    let ws = app.workspace(&owner, "Bakkerij").await;
    let base = format!("/api/v1/workspaces/{ws}/listening");
    let (s, v) = app
        .call(
            "POST",
            &format!("{base}/queries"),
            Some(&owner),
            Some(json!({"name": "Merk", "query": "\"de vries\""})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let texts: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                i.to_string(),
                format!("Klacht {i} over Bakkerij De Vries: bestelling {i}{i} kwam niet"),
            )
        })
        .collect();
    let items: Vec<(&str, &str, &str)> = texts
        .iter()
        .map(|(id, t)| (id.as_str(), "Klacht", t.as_str()))
        .collect();
    let feed = FeedServer::start(rss(&items)).await;
    let (s, src) = app
        .call(
            "POST",
            &format!("{base}/sources"),
            Some(&owner),
            Some(json!({"kind": "rss", "url": feed.url})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{src}");
    let id = src["id"].as_i64().unwrap();
    let b = Browser::signed_in(&app, "anna@bakkerij.nl").await;

    app.db.grow_to(max + 2000).await;
    let (s, v) = app
        .call(
            "POST",
            &format!("{base}/sources/{id}/sync"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::INSUFFICIENT_STORAGE, "{v}");
    assert_eq!(v["code"], "storage_full", "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("Storage is full"),
        "{v}"
    );
    // The page says so in Dutch, with since when; the API says why.
    let r = b
        .post(&app, &format!("/w/{ws}/listening/sources/{id}/sync"), "")
        .await;
    assert_eq!(r.status(), StatusCode::INSUFFICIENT_STORAGE);
    let html = r.text().await.unwrap();
    assert!(html.contains("De opslag is vol"), "{html}");
    let html = b
        .get(&app, &format!("/w/{ws}/listening/sources"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Luisteren staat stil sinds") && html.contains("de schijf is vol"),
        "{html}"
    );
    let (s, list) = app
        .call("GET", &format!("{base}/sources"), Some(&owner), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list[0]["on_hold"]["reason"], "disk_full", "{list}");
    let (_, found) = app
        .call("GET", &format!("{base}/mentions"), Some(&owner), None)
        .await;
    // A batch is stored whole or not at all.
    assert_eq!(found["mentions"].as_array().unwrap().len(), 0, "{found}");

    // Room again: the next fetch stores all 40 posts, each once.
    app.db.free_filler().await;
    let (s, v) = app
        .call(
            "POST",
            &format!("{base}/sources/{id}/sync"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, found) = app
        .call(
            "GET",
            &format!("{base}/mentions?limit=100"),
            Some(&owner),
            None,
        )
        .await;
    // Near-copies fold into their original with a count: 40 in all.
    let total: i64 = found["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["copies"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 40, "{found}");
    let (_, list) = app
        .call("GET", &format!("{base}/sources"), Some(&owner), None)
        .await;
    assert!(list[0]["on_hold"].is_null(), "{list}");
    let html = b
        .get(&app, &format!("/w/{ws}/listening/sources"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("Luisteren staat stil"), "{html}");
}
