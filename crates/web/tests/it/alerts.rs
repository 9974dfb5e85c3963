//! Alerts through the API and the pages: a workspace's first query brings
//! the two default rules, a rule with bad input is refused per field in
//! the request's language, the webhook's secret is shown once, and a raised
//! alert is on the alerts page, in the notifications (app and API) and in
//! the e-mail with its reason and the link to the mentions behind it.

use crate::browser::Browser;
use crate::harness::App;
use dialoog_domain::Locale;
use dialoog_store::NewAlert;
use dialoog_web::i18n::Tr;
use dialoog_web::{AppState, WebConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

const HOUR: i64 = 3_600_000;

/// Raises a volume alert on `rule` the way the alert loop does.
async fn raise(app: &App, ws: i64, rule: i64, query: i64, now: i64) -> i64 {
    let state = AppState::new(
        app.db.store.clone(),
        WebConfig {
            allow_loopback_media: true,
            public_url: app.url.clone(),
            mailer: None,
        },
        dialoog_engine::Cipher::new([7; 32]),
    );
    let body = dialoog_web::alerts::webhook_body(&state);
    let a = NewAlert {
        rule_id: rule,
        workspace_id: ws,
        kind: "volume".into(),
        query_id: Some(query),
        subject: "Merk".into(),
        word: String::new(),
        observed: 42,
        total: 42,
        baseline: 5.14,
        window_start: now - HOUR,
        window_end: now,
    };
    let shown = |id: i64| body(&a.fired(id, now));
    app.db
        .store
        .fire_alert(&a, now - HOUR, now, |r| r != "client", shown)
        .await
        .unwrap()
        .expect("raised")
}

async fn story(app: App) {
    let owner = app.setup().await;
    let ws = app.workspace(&owner, "Bakkerij").await;
    let base = format!("/api/v1/workspaces/{ws}/listening");
    let (_, none) = app
        .call("GET", &format!("{base}/alert-rules"), Some(&owner), None)
        .await;
    assert_eq!(none, json!([]));
    let (s, q) = app
        .call(
            "POST",
            &format!("{base}/queries"),
            Some(&owner),
            Some(json!({"name": "Merk", "query": "\"de vries\""})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, rules) = app
        .call("GET", &format!("{base}/alert-rules"), Some(&owner), None)
        .await;
    let kinds: Vec<(&str, i64)> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap(),
                r["min_count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(kinds, [("volume", 10), ("negative", 5)], "{rules}");
    assert_eq!(rules[1]["share_percent"], 40.0);

    // Bad input: each field says what is wrong, in Dutch; nothing is added.
    let (s, v) = app
        .call(
            "POST",
            &format!("{base}/alert-rules"),
            Some(&owner),
            Some(json!({"kind": "words", "factor": 0.5, "window_minutes": 7, "words": ""})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let fields: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["factor", "window_minutes", "words"], "{v}");
    assert_eq!(
        v["errors"][2]["message"],
        "Give at least one word to watch."
    );
    let (s, v) = app
        .call(
            "POST",
            &format!("{base}/alert-rules"),
            Some(&owner),
            Some(json!({"kind": "volume", "query_id": 999_999})),
        )
        .await;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("query_id"))
    );
    let (s, words) = app
        .call(
            "POST",
            &format!("{base}/alert-rules"),
            Some(&owner),
            Some(json!({"kind": "words", "words": "schimmel, haar\n"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{words}");
    assert_eq!(words["words"], json!(["schimmel", "haar"]));

    let (s, v) = app
        .call(
            "PUT",
            &format!("{base}/webhook"),
            Some(&owner),
            Some(json!({"url": "javascript:alert(1)"})),
        )
        .await;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("url"))
    );
    let (s, hook) = app
        .call(
            "PUT",
            &format!("{base}/webhook"),
            Some(&owner),
            Some(json!({"url": "https://hooks.bakkerij.example/dialoog"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        hook["secret"].as_str().unwrap().starts_with("whsec_"),
        "{hook}"
    );

    let now = dialoog_engine::dispatcher::now_ms();
    let rule = rules[0]["id"].as_i64().unwrap();
    let id = raise(&app, ws, rule, q["id"].as_i64().unwrap(), now).await;
    let (_, alerts) = app
        .call("GET", &format!("{base}/alerts"), Some(&owner), None)
        .await;
    let a = &alerts[0];
    assert_eq!(
        (a["id"].as_i64(), a["observed"].as_i64()),
        (Some(id), Some(42))
    );
    assert_eq!(a["headline"], "Spike in mentions: Merk");
    assert_eq!(
        a["reason"],
        "42 mentions in the last hour, against 5.1 on average in the same period over the last 7 days."
    );
    let link = a["mentions_url"].as_str().unwrap();
    assert_eq!(
        link,
        format!(
            "/w/{ws}/listening?since={}&until={now}&query={}",
            now - HOUR,
            q["id"]
        )
    );
    let (_, ns) = app
        .call("GET", "/api/v1/notifications", Some(&owner), None)
        .await;
    let n = &ns["notifications"][0];
    assert_eq!(
        (
            n["kind"].as_str(),
            n["alert_id"].as_i64(),
            n["post_id"].clone()
        ),
        (Some("listening_alert"), Some(id), Value::Null),
        "{ns}"
    );
    assert_eq!(n["reason_code"], "volume");
    assert_eq!(n["url"], format!("/w/{ws}/listening/alerts#alert-{id}"));
    // The webhook's delivery carries the alert in both languages.
    let d = &app.db.store.deliveries(ws, 1).await.unwrap()[0];
    let body: Value = serde_json::from_str(&d.body).unwrap();
    assert_eq!(body["type"], "listening.alert");
    assert_eq!(
        body["alert"]["reason"]["en"],
        "42 mentions in the last hour, against 5.1 on average in the same period over the last 7 days."
    );
    assert_eq!(body["alert"]["mentions_url"], format!("{}{link}", app.url));
    // Removing a rule keeps its alerts.
    let (s, _) = app
        .call(
            "DELETE",
            &format!("{base}/alert-rules/{rule}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, alerts) = app
        .call("GET", &format!("{base}/alerts"), Some(&owner), None)
        .await;
    assert_eq!(alerts.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn alerts_story_sqlite() {
    story(App::sqlite().await).await;
}

#[tokio::test]
async fn alerts_story_postgres() {
    if let Some(app) = App::postgres().await {
        story(app).await;
    }
}

/// The pages: the rule form keeps what was typed and says what is wrong,
/// the secret is shown once, the alert with its reason and link, the
/// notification leads to it; a client reads alerts without the forms and
/// is not notified; the e-mail says the same.
#[tokio::test]
async fn alerts_in_the_pages() {
    let app = App::sqlite().await;
    let owner = app.setup().await;
    let ws = app.workspace(&owner, "Bakkerij").await;
    app.member(&owner, ws, "klant@bakkerij.nl", "client").await;
    let b = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let base = format!("/w/{ws}/listening");
    let r = b
        .post(
            &app,
            &format!("{base}/queries"),
            "name=Merk&query=%22de+vries%22&role=brand",
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = b
        .post(
            &app,
            &format!("{base}/alerts/rules"),
            "kind=negative&query=&factor=&share_percent=veel&min_count=3&window_minutes=60&words=",
        )
        .await;
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Geef een getal.") && html.contains("aria-invalid=\"true\""),
        "{html}"
    );
    assert!(
        html.contains("value=\"veel\""),
        "what was typed stays: {html}"
    );
    let r = b
        .post(
            &app,
            &format!("{base}/alerts/rules"),
            "kind=negative&query=&factor=&share_percent=60&min_count=3&window_minutes=180&words=",
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = b
        .get(&app, &format!("{base}/alerts"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Negatief over alle vermeldingen: minstens 3 negatieve vermeldingen in 180 minuten en 60% van alle"),
        "{html}"
    );
    let r = b
        .post(
            &app,
            &format!("{base}/alerts/webhook"),
            "url=https%3A%2F%2Fhooks.example%2Fx",
        )
        .await;
    let html = r.text().await.unwrap();
    assert!(
        html.contains("alleen nu getoond") && html.contains("whsec_"),
        "{html}"
    );
    let html = b
        .get(&app, &format!("{base}/alerts"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("whsec_"), "the secret is shown once");
    assert!(html.contains("https://hooks.example/x"));

    let now = dialoog_engine::dispatcher::now_ms();
    let rules = app.db.store.alert_rules(ws).await.unwrap();
    let q = app.db.store.listening_queries(ws).await.unwrap()[0].id;
    let id = raise(&app, ws, rules[0].id, q, now).await;
    let html = b
        .get(&app, &format!("{base}/alerts"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("id=\"alert-{id}\"")), "{html}");
    assert!(html.contains("Piek in vermeldingen: Merk"), "{html}");
    assert!(
        html.contains("42 vermeldingen in het laatste uur, tegen gemiddeld 5,1"),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "href=\"/w/{ws}/listening?since={}&#38;until={now}&#38;query={q}\"",
            now - HOUR
        )),
        "{html}"
    );
    // The link opens the mentions of that hour.
    let r = b
        .get(
            &app,
            &format!("{base}?since={}&until={now}&query={q}", now - HOUR),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = b.get(&app, "/notifications").await.text().await.unwrap();
    assert!(
        html.contains("Piek in vermeldingen: Merk") && html.contains("Bekijk de waarschuwing"),
        "{html}"
    );
    assert!(html.contains(&format!("/w/{ws}/listening/alerts#alert-{id}")));

    let c = Browser::signed_in(&app, "klant@bakkerij.nl").await;
    let html = c
        .get(&app, &format!("{base}/alerts"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Piek in vermeldingen: Merk"));
    assert!(
        !html.contains("Regel toevoegen") && !html.contains("hooks.example"),
        "{html}"
    );
    let html = c.get(&app, "/notifications").await.text().await.unwrap();
    assert!(
        !html.contains("Piek in vermeldingen"),
        "clients are not told"
    );

    let alert = app.db.store.alert(id).await.unwrap();
    let (subject, body) =
        dialoog_web::alerts::mail(Tr(Locale::En), &alert, "Anna", "https://dialoog.example");
    assert_eq!(subject, "Spike in mentions: Merk");
    assert!(
        body.contains("42 mentions in the last hour, against 5.1 on average"),
        "{body}"
    );
    assert!(
        body.contains(&format!("https://dialoog.example/w/{ws}/listening?since=")),
        "{body}"
    );
}
