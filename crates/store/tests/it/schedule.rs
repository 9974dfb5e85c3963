//! Queue slots, posts made in bulk and recurring series, on both backends:
//! a batch is stored whole or not at all, a series' occurrences are made
//! once however often it is topped up, and stopping or changing a series
//! touches only its future occurrences.

use dialoog_store::{NewPost, NewSeries, NewTarget, Store, StoreError};

const NOW: i64 = 1_790_000_000_000;
const HOUR: i64 = 3_600_000;

fn owner() -> dialoog_store::NewOwner<'static> {
    dialoog_store::NewOwner {
        organisation: "Bakkerij De Vries",
        name: "Anna de Vries",
        email: "anna@bakkerij.nl",
        password_hash: "$argon2id$fake",
        locale: "nl",
        timezone: "Europe/Amsterdam",
    }
}

fn post(ws: i64, channel: i64, text: &str, at: i64) -> NewPost {
    NewPost {
        workspace_id: ws,
        author_id: None,
        text: text.into(),
        scheduled_at: Some(at),
        state: "scheduled".into(),
        targets: vec![NewTarget {
            channel_id: channel,
            network: "mastodon".into(),
            channel_name: "B".into(),
            text: None,
            idempotency_key: format!("k-{text}-{at}"),
        }],
    }
}

async fn slots_belong_to_their_channel(store: Store) {
    let (_, ws) = store.setup(&owner(), NOW).await.unwrap();
    let other = store
        .create_workspace("Ander", "UTC", 1, NOW)
        .await
        .unwrap();
    let ch = store
        .create_channel(ws.id, "mastodon", "B", b"x", NOW)
        .await
        .unwrap();
    store
        .set_slots(ws.id, ch.id, &[(1, 540), (3, 930), (1, 540)])
        .await
        .unwrap();
    assert_eq!(
        store.workspace_slots(ws.id).await.unwrap(),
        [(ch.id, 1, 540), (ch.id, 3, 930)]
    );
    // Replaced whole; another workspace cannot touch it.
    store.set_slots(ws.id, ch.id, &[(5, 600)]).await.unwrap();
    assert!(matches!(
        store.set_slots(other.id, ch.id, &[]).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.workspace_slots(ws.id).await.unwrap(),
        [(ch.id, 5, 600)]
    );
    assert!(store.workspace_slots(other.id).await.unwrap().is_empty());
    let planned = store
        .planned_times(ws.id, &[ch.id], NOW, NOW + 10 * HOUR)
        .await
        .unwrap();
    assert!(planned.is_empty());
    store
        .create_posts(&[post(ws.id, ch.id, "a", NOW + HOUR)], NOW)
        .await
        .unwrap();
    let planned = store
        .planned_times(ws.id, &[ch.id], NOW, NOW + 10 * HOUR)
        .await
        .unwrap();
    assert_eq!(planned, [(ch.id, NOW + HOUR)]);
}

async fn a_batch_is_stored_whole_or_not_at_all(store: Store) {
    let (_, ws) = store.setup(&owner(), NOW).await.unwrap();
    let ch = store
        .create_channel(ws.id, "mastodon", "B", b"x", NOW)
        .await
        .unwrap();
    // The second post names a channel that does not exist.
    let bad = [
        post(ws.id, ch.id, "goed", NOW + HOUR),
        post(ws.id, 999_999, "fout", NOW + 2 * HOUR),
    ];
    assert!(store.create_posts(&bad, NOW).await.is_err());
    assert!(
        store
            .recent_posts(ws.id, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let good = [
        post(ws.id, ch.id, "een", NOW + HOUR),
        post(ws.id, ch.id, "twee", NOW + 2 * HOUR),
    ];
    assert_eq!(store.create_posts(&good, NOW).await.unwrap(), 2);
    assert_eq!(store.recent_posts(ws.id, None, 10).await.unwrap().len(), 2);
}

async fn a_series_is_made_once_and_stops(store: Store) {
    let (_, ws) = store.setup(&owner(), NOW).await.unwrap();
    let ch = store
        .create_channel(ws.id, "mastodon", "B", b"x", NOW)
        .await
        .unwrap();
    let s = store
        .create_series(
            &NewSeries {
                workspace_id: ws.id,
                author_id: None,
                text: "Elke week".into(),
                channel_ids: vec![ch.id, ch.id + 1000],
                kind: "weekly".into(),
                weekdays: vec![1, 4],
                month_day: None,
                minute: 540,
                start_date: "2026-09-01".into(),
                until_date: None,
                max_count: Some(10),
            },
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(s.channels(), [ch.id, ch.id + 1000]);
    assert_eq!(s.weekdays, "1,4");
    assert_eq!(s.made_until, NOW);
    let week = [
        post(ws.id, ch.id, "Elke week", NOW + HOUR),
        post(ws.id, ch.id, "Elke week", NOW + 3 * HOUR),
    ];
    assert_eq!(
        store
            .add_occurrences(s.id, &week, NOW + 4 * HOUR, NOW)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store.series_to_top_up(NOW + 5 * HOUR, 10).await.unwrap()[0].1,
        "Europe/Amsterdam"
    );
    // Made again (two processes, or a retry): nothing twice.
    let more = [
        post(ws.id, ch.id, "Elke week", NOW + 3 * HOUR),
        post(ws.id, ch.id, "Elke week", NOW + 5 * HOUR),
    ];
    assert_eq!(
        store
            .add_occurrences(s.id, &more, NOW + 6 * HOUR, NOW)
            .await
            .unwrap(),
        1
    );
    let times: Vec<i64> = store
        .series_posts(ws.id, s.id)
        .await
        .unwrap()
        .iter()
        .map(|p| p.scheduled_at.unwrap())
        .collect();
    assert_eq!(times, [NOW + HOUR, NOW + 3 * HOUR, NOW + 5 * HOUR]);

    // A new text from two hours on: the first occurrence keeps its text.
    let at = NOW + 2 * HOUR;
    assert_eq!(
        store
            .change_series_text(ws.id, s.id, "Nieuw", at)
            .await
            .unwrap(),
        2
    );
    let texts: Vec<String> = store
        .series_posts(ws.id, s.id)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.text)
        .collect();
    assert_eq!(texts, ["Elke week", "Nieuw", "Nieuw"]);
    assert_eq!(store.series(ws.id, s.id).await.unwrap().text, "Nieuw");

    // Stopping at that moment removes the later two, keeps the first, and
    // nothing is made any more.
    assert_eq!(store.stop_series(ws.id, s.id, at).await.unwrap(), 2);
    assert_eq!(store.series_posts(ws.id, s.id).await.unwrap().len(), 1);
    assert!(
        store
            .series(ws.id, s.id)
            .await
            .unwrap()
            .stopped_at
            .is_some()
    );
    assert_eq!(
        store
            .add_occurrences(s.id, &more, NOW + 9 * HOUR, NOW)
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.series_posts(ws.id, s.id).await.unwrap().len(), 1);
    assert!(
        store
            .series_to_top_up(i64::MAX, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Another workspace sees none of it.
    let other = store
        .create_workspace("Ander", "UTC", 1, NOW)
        .await
        .unwrap();
    assert!(matches!(
        store.stop_series(other.id, s.id, at).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.series_list(other.id).await.unwrap().is_empty());
}

dialoog_store::both_backends!(
    slots_belong_to_their_channel,
    a_batch_is_stored_whole_or_not_at_all,
    a_series_is_made_once_and_stops,
);
