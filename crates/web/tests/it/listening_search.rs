//! Listening's search and retention through the API (the mentions page
//! calls the same service): words are found by the index in all their
//! forms (the store's fallback would not find `fiets` for `fietsen`), the
//! filters still apply, and a workspace's retention removes old mentions
//! from the list and from the index. Only owners and managers choose it,
//! and a wrong number is refused in the member's language.

use crate::harness::App;
use dialoog_search::{MentionSearch, SearchFilter, TantivyIndex};
use dialoog_store::NewMention;
use dialoog_store::testing::TestDb;
use dialoog_web::{AppState, WebConfig};
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;

const DAY: i64 = 86_400_000;

async fn start() -> (App, Arc<dyn MentionSearch>) {
    let db = TestDb::sqlite().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(
        db.store.clone(),
        WebConfig {
            allow_loopback_media: true,
            public_url: url.clone(),
            mailer: None,
        },
        dialoog_engine::Cipher::new([7; 32]),
    );
    let index: Arc<dyn MentionSearch> = Arc::new(TantivyIndex::in_memory().unwrap());
    state.set_mention_index(Arc::clone(&index));
    tokio::spawn(async move { axum::serve(listener, dialoog_web::app(state)).await });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (App { url, db, http }, index)
}

fn mention(ws: i64, key: &str, text: &str, lang: &str, at: i64, q: i64) -> NewMention {
    NewMention {
        workspace_id: ws,
        source_id: None,
        source_kind: "rss".into(),
        key: key.into(),
        url: None,
        author_id: "an".into(),
        author_name: "An".into(),
        author_handle: None,
        reach: None,
        text: text.into(),
        lang: Some(lang.into()),
        sentiment: "negative".into(),
        score: -0.5,
        fingerprint: 0,
        copy_of: None,
        query_ids: vec![q],
        published_at: at,
    }
}

fn texts(v: &serde_json::Value) -> Vec<String> {
    v["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn search_uses_the_index_and_retention_empties_page_and_index() {
    let (app, index) = start().await;
    let owner = app.setup().await;
    let ws = app.workspace(&owner, "Fietsen").await;
    let other = app.workspace(&owner, "Anders").await;
    let store = &app.db.store;
    let now = dialoog_web::service::now_ms();
    let q = store
        .create_listening_query(ws, "Fiets", "fiets*", "brand", now)
        .await
        .unwrap();
    let q2 = store
        .create_listening_query(other, "Fiets", "fiets*", "brand", now)
        .await
        .unwrap();
    store
        .insert_mentions(
            &[
                mention(ws, "a", "Mijn fiets is gestolen", "nl", now - DAY, q.id),
                mention(ws, "b", "I was running late", "en", now - DAY, q.id),
                mention(
                    ws,
                    "c",
                    "Oude fiets uit de schuur",
                    "nl",
                    now - 400 * DAY,
                    q.id,
                ),
                mention(other, "d", "Hun fiets is rood", "nl", now - DAY, q2.id),
            ],
            now,
        )
        .await
        .unwrap();
    let added = dialoog_engine::mention_index::catch_up(store, &index, now)
        .await
        .unwrap();
    assert_eq!(added, 4);
    assert!(index.last_id() > 0);

    let base = format!("/api/v1/workspaces/{ws}/listening");
    let (s, v) = app
        .call(
            "GET",
            &format!("{base}/mentions?q=fietsen"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        texts(&v),
        ["Mijn fiets is gestolen", "Oude fiets uit de schuur"],
        "the index's stems, only this workspace"
    );
    let (_, v) = app
        .call(
            "GET",
            &format!("{base}/mentions?q=runs"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(texts(&v), ["I was running late"]);
    let (_, v) = app
        .call(
            "GET",
            &format!("{base}/mentions?q=fietsen&lang=en"),
            Some(&owner),
            None,
        )
        .await;
    assert!(texts(&v).is_empty(), "filters still apply: {v}");
    let (_, v) = app
        .call(
            "GET",
            &format!("{base}/facets?q=fietsen"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(v["lang"], json!([{"value": "nl", "count": 2}]), "{v}");
    assert_eq!(v["query"], json!([{"query_id": q.id, "count": 2}]), "{v}");
    // A query removed since is no longer a facet; its mentions stay.
    let (s, _) = app
        .call(
            "DELETE",
            &format!("{base}/queries/{}", q.id),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, v) = app
        .call(
            "GET",
            &format!("{base}/facets?q=fietsen"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(v["query"], json!([]), "{v}");
    assert_eq!(v["lang"], json!([{"value": "nl", "count": 2}]), "{v}");

    // Retention: owners and managers only, a clear error for a wrong number.
    let (editor, _) = app.member(&owner, ws, "ed@bakkerij.nl", "editor").await;
    let (s, v) = app
        .call(
            "PUT",
            &format!("{base}/settings"),
            Some(&editor),
            Some(json!({"keep_days": 30})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = app
        .call(
            "PUT",
            &format!("{base}/settings"),
            Some(&owner),
            Some(json!({"keep_days": 0})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["field"], "keep_days", "{v}");
    assert!(
        v["errors"][0]["message"].as_str().unwrap().contains("3650"),
        "{v}"
    );
    let (s, v) = app
        .call("GET", &format!("{base}/settings"), Some(&editor), None)
        .await;
    assert_eq!((s, v["keep_days"].as_i64()), (StatusCode::OK, Some(365)));
    let (s, v) = app
        .call(
            "PUT",
            &format!("{base}/settings"),
            Some(&owner),
            Some(json!({"keep_days": 30})),
        )
        .await;
    assert_eq!(
        (s, v["keep_days"].as_i64()),
        (StatusCode::OK, Some(30)),
        "{v}"
    );

    let removed = dialoog_engine::mention_index::apply_retention(store, Some(&index), now)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    let (_, v) = app
        .call(
            "GET",
            &format!("{base}/mentions?q=fiets"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(texts(&v), ["Mijn fiets is gestolen"]);
    let found = index
        .search(
            ws,
            &SearchFilter {
                q: "schuur".into(),
                ..SearchFilter::default()
            },
            10,
            false,
        )
        .unwrap();
    assert!(found.ids.is_empty(), "gone from the index too");
    let (_, v) = app
        .call(
            "GET",
            &format!("/api/v1/workspaces/{other}/listening/mentions?q=fiets"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(
        texts(&v),
        ["Hun fiets is rood"],
        "another workspace keeps its own"
    );
}
