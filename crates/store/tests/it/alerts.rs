//! Alerts on both backends: rules per workspace, the counts they are
//! judged on, an alert raised once per window with its notifications and
//! webhook delivery in one go, and deliveries claimed once and recorded.

use crate::edit::{HOUR, NOW, world};
use crate::listening::mention;
use dialoog_store::{DeliveryResult, NewAlert, NewAlertRule, Store, StoreError};

fn rule(kind: &str, query_id: Option<i64>) -> NewAlertRule {
    NewAlertRule {
        kind: kind.into(),
        query_id,
        factor: 3.0,
        min_count: 10,
        share: 0.4,
        words: String::new(),
        window_minutes: 60,
    }
}

fn alert(rule_id: i64, ws: i64) -> NewAlert {
    NewAlert {
        rule_id,
        workspace_id: ws,
        kind: "volume".into(),
        query_id: None,
        subject: String::new(),
        word: String::new(),
        observed: 12,
        total: 12,
        baseline: 1.5,
        window_start: NOW - HOUR,
        window_end: NOW,
    }
}

async fn alerts_fire_once_per_window_and_reach_people_and_the_webhook(store: Store) {
    let (ws, _) = world(&store).await;
    let other = ws + 1;
    let brand = store
        .create_listening_query(ws, "Merk", "devries", "brand", NOW)
        .await
        .unwrap();
    let theirs = store
        .create_listening_query(other, "Merk", "devries", "brand", NOW)
        .await
        .unwrap();
    // A rule on another workspace's query is refused.
    assert!(matches!(
        store
            .create_alert_rule(ws, &rule("volume", Some(theirs.id)), NOW)
            .await,
        Err(StoreError::NotFound)
    ));
    let v0 = store.alert_rules_version().await.unwrap();
    let volume = store
        .create_alert_rule(ws, &rule("volume", Some(brand.id)), NOW)
        .await
        .unwrap();
    let words = store
        .create_alert_rule(
            ws,
            &NewAlertRule {
                words: "terugroepactie\n  \nschimmel".into(),
                ..rule("words", None)
            },
            NOW,
        )
        .await
        .unwrap();
    assert_ne!(store.alert_rules_version().await.unwrap(), v0);
    assert_eq!(
        words.word_list().collect::<Vec<_>>(),
        ["terugroepactie", "schimmel"]
    );
    assert_eq!(store.alert_rules(ws).await.unwrap().len(), 2);
    assert!(store.alert_rules(other).await.unwrap().is_empty());
    assert_eq!(store.all_word_rules().await.unwrap(), vec![words.clone()]);

    // Counts: in the window only, per query or for the workspace, copies
    // not counted, negative ones apart.
    let mut batch = vec![];
    for i in 0..5 {
        let sentiment = if i < 3 { "negative" } else { "neutral" };
        batch.push(mention(
            ws,
            &format!("k{i}"),
            "devries",
            sentiment,
            &[brand.id],
        ));
    }
    let mut old = mention(ws, "old", "devries", "negative", &[brand.id]);
    old.published_at = NOW - 3 * HOUR;
    batch.push(old);
    batch.push(mention(ws, "elsewhere", "iets", "negative", &[]));
    let mut copy = mention(ws, "copy", "devries", "negative", &[brand.id]);
    copy.copy_of = Some(dialoog_store::CopyOf::InBatch(0));
    batch.push(copy);
    store.insert_mentions(&batch, NOW).await.unwrap();
    let w = (NOW - 2 * HOUR, NOW);
    assert_eq!(
        store
            .window_counts(ws, Some(brand.id), w.0, w.1)
            .await
            .unwrap(),
        (5, 3)
    );
    assert_eq!(
        store.window_counts(ws, None, w.0, w.1).await.unwrap(),
        (6, 4),
        "the mention no query found counts for the workspace"
    );
    assert_eq!(
        store.window_counts(other, None, w.0, w.1).await.unwrap(),
        (0, 0)
    );

    // Fired once: the owner is told, the webhook gets a delivery.
    store
        .set_alert_webhook(ws, "https://hooks.example/x", b"sealed", NOW)
        .await
        .unwrap();
    let id = store
        .fire_alert(
            &alert(volume.id, ws),
            NOW - HOUR,
            NOW,
            |r| r == "owner",
            |id| format!("{{\"alert\":{id}}}"),
        )
        .await
        .unwrap()
        .expect("raised");
    let again = store
        .fire_alert(
            &alert(volume.id, ws),
            NOW + 1 - HOUR,
            NOW + 1,
            |_| true,
            |_| String::new(),
        )
        .await
        .unwrap();
    assert_eq!(again, None, "once per window");
    let a = store.alert(id).await.unwrap();
    assert_eq!(
        (a.kind.as_str(), a.observed, a.baseline),
        ("volume", 12, 1.5)
    );
    assert_eq!(store.alerts(ws, 10).await.unwrap(), vec![a]);
    assert!(store.alerts(other, 10).await.unwrap().is_empty());
    let owner = store
        .user_by_email("anna@bakkerij.nl")
        .await
        .unwrap()
        .unwrap();
    let told = store.notifications(owner.id, 10).await.unwrap();
    assert_eq!(told.len(), 1);
    assert_eq!(
        (told[0].kind.as_str(), told[0].subject_id),
        ("listening_alert", id)
    );
    // The notification is not mistaken for a post with the same id.
    let shown = store.shown_notifications(owner.id, 10).await.unwrap();
    assert_eq!(shown[0].post_text, "");

    // Deliveries: claimed once while leased; a retry waits; sent is final.
    let claimed = store.claim_deliveries(NOW, NOW + 60_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let (d, secret) = &claimed[0];
    assert_eq!(
        (d.alert_id, d.body.as_str()),
        (id, &*format!("{{\"alert\":{id}}}"))
    );
    assert_eq!(secret.as_deref(), Some(&b"sealed"[..]));
    assert!(
        store
            .claim_deliveries(NOW + 1, NOW + 60_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    store
        .record_delivery(
            d.id,
            &DeliveryResult::Retry {
                error: "answered HTTP 503".into(),
                next_at: NOW + 120_000,
            },
            NOW + 2,
        )
        .await
        .unwrap();
    assert!(
        store
            .claim_deliveries(NOW + 60_001, NOW + 70_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let retried = store
        .claim_deliveries(NOW + 120_000, NOW + 180_000, 10)
        .await
        .unwrap();
    assert_eq!(retried[0].0.attempts, 2);
    store
        .record_delivery(d.id, &DeliveryResult::Sent, NOW + 120_001)
        .await
        .unwrap();
    let shown = store.deliveries(ws, 10).await.unwrap();
    assert_eq!(
        (shown[0].status.as_str(), shown[0].sent_at),
        ("sent", Some(NOW + 120_001))
    );
    assert!(
        store
            .claim_deliveries(NOW + HOUR, NOW + 2 * HOUR, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Removing the webhook drops what was not delivered yet; removing a
    // rule keeps its alerts.
    store.delete_alert_webhook(ws, NOW).await.unwrap();
    assert_eq!(store.alert_webhook(ws).await.unwrap(), None);
    store.delete_alert_rule(ws, volume.id).await.unwrap();
    assert!(matches!(
        store.delete_alert_rule(other, words.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.alert(id).await.unwrap().rule_id, None);
}

dialoog_store::both_backends!(alerts_fire_once_per_window_and_reach_people_and_the_webhook);
