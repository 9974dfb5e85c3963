//! Alerts end to end over a loopback feed: a burst of negative Dutch posts
//! about the brand is heard, found by the query, marked negative, and
//! raises a volume alert and a negative-share alert that say why (against
//! the same hour of the last seven days), and a watched-word alert; each
//! fires once per window, the owner is told, and the webhook receives the
//! alert signed.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use dialoog_engine::Cipher;
use dialoog_engine::alerts::{BodyFn, deliver_once, evaluate};
use dialoog_engine::listen_sources::{settle_source, sync_source};
use dialoog_engine::listening::Pipeline;
use dialoog_networks::listen::SourceInput;
use dialoog_networks::webhook::{SIGNATURE_HEADER, verify};
use dialoog_store::{NewAlertRule, NewMention, Store};
use std::sync::{Arc, Mutex};
use tokio::sync::Mutex as AsyncMutex;

use crate::listening::{rss, serve};
use crate::support::{World, now};

const DAY: i64 = 24 * 3_600_000;

/// Twelve different complaints (different enough not to fold into one).
const COMPLAINTS: [&str; 12] = [
    "Bakkerij De Vries verkocht me vanochtend een beschimmeld brood, echt walgelijk.",
    "Drie kwartier gewacht bij De Vries en toen was alles op. Slechte service!",
    "Het personeel van De Vries was onbeleefd en chagrijnig, nooit meer.",
    "Mijn taart van de vries was droog en smakeloos, wat een teleurstelling.",
    "De vries rekent belachelijke prijzen voor oud en hard brood. Schandalig.",
    "Bestelling bij De Vries kwam te laat en was ook nog fout. Waardeloos.",
    "Vieze vloer, vieze toonbank: De Vries moet zich schamen.",
    "Bij De Vries kreeg ik verkeerd wisselgeld en een grote mond erbij. Slecht.",
    "De croissants van De Vries waren verbrand en vet. Afschuwelijk ontbijt.",
    "Klantenservice van De Vries reageert niet op mijn klacht. Heel slecht.",
    "Er zat een haar in mijn broodje van De Vries, ik ben misselijk.",
    "De vries heeft de prijzen verhoogd en de kwaliteit is slechter. Zonde.",
];

fn item(i: usize, text: &str) -> String {
    // No date: the feed's posts count as published when heard.
    format!(
        "<item><guid>https://forum.example/c/{i}</guid><link>https://forum.example/c/{i}</link>\
         <title>Klacht</title><description>{text}</description></item>"
    )
}

fn past(ws: i64, query: i64, key: &str, at: i64) -> NewMention {
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
        text: format!("Lekker brood bij De Vries {key}"),
        lang: Some("nl".into()),
        sentiment: "positive".into(),
        score: 0.5,
        fingerprint: 0,
        copy_of: None,
        query_ids: vec![query],
        published_at: at,
    }
}

/// What the receiver got: signature header and body, per delivery.
type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A webhook receiver on loopback that keeps what it got.
async fn receiver(got: Received) -> String {
    async fn hook(State(g): State<Received>, h: HeaderMap, body: String) -> StatusCode {
        let sig = h
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        g.lock().unwrap().push((sig, body));
        StatusCode::NO_CONTENT
    }
    let app = axum::Router::new()
        .route("/hook", post(hook))
        .with_state(got);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/hook")
}

async fn a_burst_of_negative_posts_raises_alerts_that_say_why(store: Store) {
    let w = World::new(store.clone()).await;
    let t = now();
    let brand = store
        .create_listening_query(w.ws, "Merk", "\"de vries\"", "brand", t)
        .await
        .unwrap();
    let rule = |kind: &str, words: &str| NewAlertRule {
        kind: kind.into(),
        query_id: Some(brand.id),
        factor: 3.0,
        min_count: if kind == "words" { 1 } else { 5 },
        share: 0.4,
        words: words.into(),
        window_minutes: 60,
    };
    for r in [
        rule("volume", ""),
        rule("negative", ""),
        rule("words", "schimmel\nhaar"),
    ] {
        store.create_alert_rule(w.ws, &r, t).await.unwrap();
    }
    // The usual: two positive mentions in this hour on each of 7 days.
    let usual: Vec<NewMention> = (1..=7)
        .flat_map(|d| {
            (0..2).map(move |i| past(w.ws, brand.id, &format!("d{d}-{i}"), t - d * DAY - 600_000))
        })
        .collect();
    store.insert_mentions(&usual, t).await.unwrap();

    let cipher = Cipher::new([7; 32]);
    let got = Arc::new(Mutex::new(vec![]));
    let hook = receiver(got.clone()).await;
    store
        .set_alert_webhook(w.ws, &hook, &cipher.seal(b"whsec_test").unwrap(), t)
        .await
        .unwrap();

    let items: Vec<String> = COMPLAINTS
        .iter()
        .enumerate()
        .map(|(i, c)| item(i, c))
        .collect();
    let url = serve(Arc::new(Mutex::new((StatusCode::OK, rss(&items))))).await;
    let settled = settle_source(
        "rss",
        &SourceInput {
            url,
            ..SourceInput::default()
        },
    )
    .unwrap();
    let source = store
        .create_source(w.ws, &settled.kind, &settled.target, &settled.name, t)
        .await
        .unwrap();
    let pipeline = AsyncMutex::new(Pipeline::new(store.clone(), t).await.unwrap());
    let signals = pipeline.lock().await.signals();
    let arrived = now();
    let heard = sync_source(&store, &pipeline, &source, now())
        .await
        .unwrap();
    assert_eq!(heard.stored, 12, "every complaint is its own mention");

    let body: BodyFn = Arc::new(|a| {
        serde_json::json!({"id": a.id, "kind": a.kind, "observed": a.observed}).to_string()
    });
    let seen = signals.take();
    assert!(seen.queries[&w.ws].contains(&brand.id));
    let raised = evaluate(&store, &seen, now(), &body).await.unwrap();
    let latency = now() - arrived;
    assert_eq!(raised.len(), 3, "volume, negative share, watched word");
    assert!(
        latency < 5_000,
        "alert {latency} ms after the posts arrived"
    );

    let alerts = store.alerts(w.ws, 10).await.unwrap();
    let by = |k: &str| alerts.iter().find(|a| a.kind == k).unwrap().clone();
    let volume = by("volume");
    assert_eq!((volume.observed, volume.baseline), (12, 2.0), "{volume:?}");
    assert_eq!(volume.subject, "Merk");
    let negative = by("negative");
    assert_eq!(
        (negative.observed, negative.total, negative.baseline),
        (12, 12, 0.0),
        "every complaint is negative, the usual mentions were not"
    );
    let word = by("words");
    assert!(
        ["schimmel", "haar"].contains(&word.word.as_str()),
        "{word:?}"
    );
    assert_eq!(word.observed, 1);

    // Once per window: the same news again raises nothing.
    assert!(
        evaluate(&store, &seen, now(), &body)
            .await
            .unwrap()
            .is_empty()
    );

    // The owner is told in the app, once per alert.
    let told = store.notifications(w.author, 10).await.unwrap();
    assert_eq!(told.len(), 3);
    assert!(told.iter().all(|n| n.kind == "listening_alert"));

    // The webhook gets each alert, signed with the secret.
    let client = dialoog_networks::webhook::client();
    assert_eq!(
        deliver_once(&store, &cipher, &client, now()).await.unwrap(),
        3
    );
    let received = got.lock().unwrap().clone();
    assert_eq!(received.len(), 3);
    for (sig, body) in &received {
        assert!(verify(b"whsec_test", sig, body), "{sig} {body}");
        assert!(!verify(b"another", sig, body));
    }
    assert!(
        received
            .iter()
            .any(|(_, b)| b.contains("\"kind\":\"volume\"") && b.contains("\"observed\":12"))
    );
    let deliveries = store.deliveries(w.ws, 10).await.unwrap();
    assert!(
        deliveries.iter().all(|d| d.status == "sent"),
        "{deliveries:?}"
    );
}

async fn a_receiver_that_cannot_be_reached_is_tried_again_later(store: Store) {
    let w = World::new(store.clone()).await;
    let t = now();
    let cipher = Cipher::new([9; 32]);
    let rule = store
        .create_alert_rule(
            w.ws,
            &NewAlertRule {
                kind: "volume".into(),
                query_id: None,
                factor: 3.0,
                min_count: 1,
                share: 0.4,
                words: String::new(),
                window_minutes: 60,
            },
            t,
        )
        .await
        .unwrap();
    // Nothing listens on this port: "cannot be reached", tried again.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gone = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    store
        .set_alert_webhook(w.ws, &gone, &cipher.seal(b"s").unwrap(), t)
        .await
        .unwrap();
    let a = dialoog_store::NewAlert {
        rule_id: rule.id,
        workspace_id: w.ws,
        kind: "volume".into(),
        query_id: None,
        subject: String::new(),
        word: String::new(),
        observed: 3,
        total: 3,
        baseline: 0.0,
        window_start: t - 3_600_000,
        window_end: t,
    };
    store
        .fire_alert(&a, t - 3_600_000, t, |_| true, |_| "{}".into())
        .await
        .unwrap()
        .unwrap();
    let client = dialoog_networks::webhook::client();
    assert_eq!(deliver_once(&store, &cipher, &client, t).await.unwrap(), 1);
    let d = &store.deliveries(w.ws, 1).await.unwrap()[0];
    assert_eq!(
        (d.status.as_str(), d.last_error.as_str()),
        ("pending", "cannot be reached")
    );
    // Not due again at once.
    assert_eq!(
        deliver_once(&store, &cipher, &client, t + 1).await.unwrap(),
        0
    );
}

dialoog_store::both_backends!(
    a_burst_of_negative_posts_raises_alerts_that_say_why,
    a_receiver_that_cannot_be_reached_is_tried_again_later,
);
