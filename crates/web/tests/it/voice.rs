//! Share of voice and rising terms through the API and the page: the
//! brand against a competitor (topics left out), per day and in shares;
//! a complaint word that rises today, and the usual words that do not.

use crate::browser::Browser;
use crate::harness::App;
use dialoog_store::NewMention;
use reqwest::StatusCode;
use serde_json::json;

const DAY: i64 = 86_400_000;

fn mention(ws: i64, key: &str, text: &str, queries: &[i64], at: i64) -> NewMention {
    NewMention {
        workspace_id: ws,
        source_id: None,
        source_kind: "rss".into(),
        key: key.into(),
        url: None,
        author_id: "a".into(),
        author_name: "A".into(),
        author_handle: None,
        reach: None,
        text: text.into(),
        lang: Some("nl".into()),
        sentiment: "neutral".into(),
        score: 0.0,
        fingerprint: 0,
        copy_of: None,
        query_ids: queries.to_vec(),
        published_at: at,
    }
}

#[tokio::test]
async fn the_brand_against_its_competitor_and_what_rises_today() {
    let app = App::sqlite().await;
    let owner = app.setup().await;
    let ws = app.workspace(&owner, "Bakkerij").await;
    let store = &app.db.store;
    let now = dialoog_engine::dispatcher::now_ms();
    let brand = store
        .create_listening_query(ws, "De Vries", "\"de vries\"", "brand", now)
        .await
        .unwrap();
    let rival = store
        .create_listening_query(ws, "Jansen", "jansen", "competitor", now)
        .await
        .unwrap();
    let topic = store
        .create_listening_query(ws, "Brood", "brood", "topic", now)
        .await
        .unwrap();
    let mut batch = vec![];
    // Three brand mentions today (one of them about mould), one yesterday;
    // one for the competitor today; topics do not count.
    for (i, text) in [
        "Schimmel op het brood van de vries",
        "Weer schimmel bij de vries",
        "De vries: schimmel in de taart",
    ]
    .iter()
    .enumerate()
    {
        batch.push(mention(
            ws,
            &format!("b{i}"),
            text,
            &[brand.id, topic.id],
            now - 60_000,
        ));
    }
    batch.push(mention(
        ws,
        "y",
        "Lekker brood van de vries",
        &[brand.id],
        now - DAY,
    ));
    batch.push(mention(
        ws,
        "r",
        "Jansen bakt ook brood",
        &[rival.id],
        now - 120_000,
    ));
    // The week before: bread, every day.
    for d in 2..8 {
        batch.push(mention(
            ws,
            &format!("w{d}"),
            "Lekker brood, de vries",
            &[brand.id],
            now - d * DAY,
        ));
    }
    store.insert_mentions(&batch, now).await.unwrap();

    let base = format!("/api/v1/workspaces/{ws}/listening");
    let (s, v) = app
        .call(
            "GET",
            &format!("{base}/share-of-voice?days=7"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["days"].as_array().unwrap().len(), 7);
    let series = v["series"].as_array().unwrap();
    let shown: Vec<(&str, i64, i64)> = series
        .iter()
        .map(|x| {
            (
                x["name"].as_str().unwrap(),
                x["total"].as_i64().unwrap(),
                x["share_percent"].as_i64().unwrap(),
            )
        })
        .collect();
    // Brand: 3 today, 1 yesterday, 5 of the week before inside 7 days.
    assert_eq!(shown, [("De Vries", 9, 90), ("Jansen", 1, 10)], "{v}");
    assert_eq!(series[0]["per_day"][6], 3, "today is last: {v}");
    let (s, v) = app
        .call(
            "GET",
            &format!("{base}/share-of-voice?days=8"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("days"))
    );

    let (_, rising) = app
        .call("GET", &format!("{base}/rising-terms"), Some(&owner), None)
        .await;
    let terms: Vec<&str> = rising
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["term"].as_str().unwrap())
        .collect();
    assert_eq!(terms, ["schimmel"], "{rising}");
    assert_eq!(
        (rising[0]["now"].clone(), rising[0]["before"].clone()),
        (json!(3), json!(0))
    );

    let b = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let html = b
        .get(&app, &format!("/w/{ws}/listening/voice?days=7"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Aandeel in het gesprek") && html.contains("90%"),
        "{html}"
    );
    assert!(html.contains("<title>De Vries: 90%</title>"), "{html}");
    assert!(
        html.contains(&format!("href=\"/w/{ws}/listening?q=schimmel\""))
            && html.contains("in 3 vermeldingen vandaag"),
        "{html}"
    );
    assert!(!html.contains(">Brood<"), "topics are not compared: {html}");
}
