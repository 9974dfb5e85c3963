//! Listening on both backends: queries and sources per workspace, sources
//! claimed once and resuming from their last good cursor, mentions stored
//! once per key, near-copies counted on the original, filters and facets.

use crate::edit::{HOUR, NOW, world};
use dialoog_store::{
    CopyOf, MentionFilter, NewItem, NewMention, SourceFetch, Store, StoreError, Stored,
    StreamHealth,
};

pub fn mention(ws: i64, key: &str, text: &str, sentiment: &str, queries: &[i64]) -> NewMention {
    NewMention {
        workspace_id: ws,
        source_id: None,
        source_kind: "rss".into(),
        key: key.into(),
        url: Some(format!("https://blog.example/{key}")),
        author_id: "piet".into(),
        author_name: "Piet".into(),
        author_handle: None,
        reach: Some(120),
        text: text.into(),
        lang: Some("nl".into()),
        sentiment: sentiment.into(),
        score: if sentiment == "negative" { -0.6 } else { 0.4 },
        fingerprint: 7,
        copy_of: None,
        query_ids: queries.to_vec(),
        published_at: NOW - HOUR,
    }
}

async fn listening_is_per_workspace_and_counts_copies_once(store: Store) {
    let (ws, _) = world(&store).await;
    let other = ws + 1;
    let brand = store
        .create_listening_query(ws, "Merk", "\"de vries\" OR #bakkerijdevries", "brand", NOW)
        .await
        .unwrap();
    let rival = store
        .create_listening_query(ws, "Concurrent", "bakker AND jansen", "competitor", NOW)
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_listening_query(ws, "Merk", "x", "brand", NOW)
            .await,
        Err(StoreError::Conflict)
    ));
    store
        .create_listening_query(other, "Merk", "x", "brand", NOW)
        .await
        .unwrap();
    let v1 = store.listening_queries_version().await.unwrap();
    store
        .update_listening_query(ws, rival.id, "Concurrent", "jansen", "competitor", NOW + 1)
        .await
        .unwrap();
    assert_ne!(store.listening_queries_version().await.unwrap(), v1);
    assert!(matches!(
        store
            .update_listening_query(other, rival.id, "x", "x", "brand", NOW)
            .await,
        Err(StoreError::NotFound)
    ));
    let names: Vec<String> = store
        .listening_queries(ws)
        .await
        .unwrap()
        .into_iter()
        .map(|q| q.name)
        .collect();
    assert_eq!(names, ["Concurrent", "Merk"]);
    assert_eq!(store.all_listening_queries().await.unwrap().len(), 3);

    // Sources: claimed once while leased; a failure keeps the cursor.
    let feed = store
        .create_source(ws, "rss", "https://blog.example/feed", "Blog", NOW)
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_source(ws, "rss", "https://blog.example/feed", "Blog", NOW)
            .await,
        Err(StoreError::Conflict)
    ));
    let claimed = store.claim_due_sources(NOW, NOW + HOUR, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        store
            .claim_due_sources(NOW, NOW + HOUR, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let ok = SourceFetch::Ok {
        cursor: "etag-1".into(),
        fetched: 20,
        stored: 2,
        next_at: NOW + 60_000,
    };
    store.record_source_fetch(feed.id, &ok, NOW).await.unwrap();
    let failed = SourceFetch::Failed {
        reason: "the feed answered 500".into(),
        next_at: Some(NOW + 120_000),
    };
    store
        .record_source_fetch(feed.id, &failed, NOW + 60_000)
        .await
        .unwrap();
    let s = store.source(ws, feed.id).await.unwrap();
    assert_eq!(
        (
            s.status.as_str(),
            s.cursor.as_str(),
            s.reason.as_str(),
            s.fetched_total,
            s.stored_total
        ),
        ("failing", "etag-1", "the feed answered 500", 20, 2)
    );
    assert_eq!(s.failing_since, Some(NOW + 60_000));
    store.pause_source(ws, feed.id, true, NOW).await.unwrap();
    assert!(
        store
            .claim_due_sources(NOW + 10 * HOUR, NOW + 11 * HOUR, 10)
            .await
            .unwrap()
            .is_empty()
    );
    store.record_source_fetch(feed.id, &ok, NOW).await.unwrap();
    assert_eq!(
        store.source(ws, feed.id).await.unwrap().status,
        "paused",
        "a late fetch does not unpause"
    );
    assert!(store.source(other, feed.id).await.is_err());

    // Mentions: once per key, copies counted on the original.
    let batch = vec![
        mention(
            ws,
            "a",
            "Slechte service bij De Vries",
            "negative",
            &[brand.id],
        ),
        NewMention {
            copy_of: Some(CopyOf::InBatch(0)),
            ..mention(
                ws,
                "a-copy",
                "RT Slechte service bij De Vries",
                "negative",
                &[brand.id],
            )
        },
        mention(
            ws,
            "b",
            "Lekkere stol van De Vries",
            "positive",
            &[brand.id, rival.id],
        ),
        // A query of another workspace is not linked here.
        mention(
            ws,
            "c",
            "Jansen bakt ook",
            "neutral",
            &[rival.id, rival.id + 1],
        ),
    ];
    let stored = store.insert_mentions(&batch, NOW).await.unwrap();
    let Stored::New(a) = stored[0] else {
        panic!("{stored:?}")
    };
    assert_eq!(stored[1], Stored::Copy(a));
    let again = store.insert_mentions(&batch[..2], NOW).await.unwrap();
    assert_eq!(
        again,
        [Stored::Known, Stored::Known],
        "delivered twice, counted once"
    );
    store
        .insert_mentions(
            &[NewMention {
                copy_of: Some(CopyOf::Stored(a)),
                ..mention(
                    ws,
                    "a-copy-2",
                    "Slechte service bij De Vries!",
                    "negative",
                    &[],
                )
            }],
            NOW,
        )
        .await
        .unwrap();
    store
        .insert_mentions(
            &[mention(other, "a", "Ander werkruimte", "neutral", &[])],
            NOW,
        )
        .await
        .unwrap();

    let all = store
        .mentions(ws, &MentionFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(all.len(), 3, "copies are not listed");
    let first = all.iter().find(|m| m.id == a).unwrap();
    assert_eq!(first.copies, 3);
    let neg = MentionFilter {
        sentiment: Some("negative".into()),
        ..MentionFilter::default()
    };
    assert_eq!(store.mentions(ws, &neg, 10).await.unwrap().len(), 1);
    let by_rival = MentionFilter {
        query_id: Some(rival.id),
        ..MentionFilter::default()
    };
    assert_eq!(store.mentions(ws, &by_rival, 10).await.unwrap().len(), 2);
    let words = MentionFilter {
        q: Some("STOL".into()),
        ..MentionFilter::default()
    };
    assert_eq!(store.mentions(ws, &words, 10).await.unwrap().len(), 1);
    let page1 = store
        .mentions(ws, &MentionFilter::default(), 2)
        .await
        .unwrap();
    let last = page1.last().unwrap();
    let next = MentionFilter {
        before: Some((last.published_at, last.id)),
        ..MentionFilter::default()
    };
    let page2 = store.mentions(ws, &next, 2).await.unwrap();
    assert_eq!(page1.len() + page2.len(), 3);
    assert!(page2.iter().all(|m| page1.iter().all(|n| n.id != m.id)));

    let facets = store
        .mention_facets(ws, &MentionFilter::default())
        .await
        .unwrap();
    assert_eq!(
        facets.sentiment,
        [
            ("negative".to_owned(), 1),
            ("neutral".to_owned(), 1),
            ("positive".to_owned(), 1)
        ]
    );
    assert_eq!(facets.query, [(brand.id, 2), (rival.id, 2)]);
    assert_eq!(facets.days.iter().map(|d| d.2).sum::<i64>(), 3);
    let ids: Vec<i64> = all.iter().map(|m| m.id).collect();
    assert_eq!(store.mention_query_ids(&ids).await.unwrap().len(), 4);
    let recent = store.recent_fingerprints(NOW, 10).await.unwrap();
    assert_eq!(recent.len(), 4);
    let newest = store.recent_fingerprints(NOW, 2).await.unwrap();
    assert_eq!(newest, recent[2..], "the newest two, oldest first");

    // Removing a query keeps the mentions.
    store.delete_listening_query(ws, rival.id).await.unwrap();
    assert_eq!(
        store
            .mentions(ws, &MentionFilter::default(), 10)
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(matches!(
        store.delete_listening_query(ws, rival.id).await,
        Err(StoreError::NotFound)
    ));
    store.delete_source(ws, feed.id).await.unwrap();
    assert!(store.sources(ws).await.unwrap().is_empty());
}

fn item(id: &str, kind: &str) -> NewItem {
    NewItem {
        external_id: id.into(),
        kind: kind.into(),
        author_id: "piet".into(),
        author_name: "Piet".into(),
        author_handle: None,
        thread_ref: None,
        in_reply_to: None,
        text: format!("over de bakkerij {id}"),
        url: None,
        published_at: Some(NOW),
        media: "[]".into(),
        lang: None,
        sentiment: None,
        score: None,
    }
}

/// Streamed sources: listed for the stream runner (paused ones not),
/// never claimed by the poll loop; a stored batch moves every listener's
/// cursor and counts, health moves status and `failing_since` only on a
/// change, and paused sources are left alone. A channel's mentions and
/// comments are read after an item id, oldest first.
async fn streamed_sources_record_batches_and_health(store: Store) {
    let (ws, ch) = world(&store).await;
    let other = ws + 1;
    let target =
        r#"{"kind":"jetstream","url":"ws://x/subscribe","collections":["app.bsky.feed.post"]}"#;
    let a = store
        .create_source_with(ws, "jetstream", target, "x", true, NOW)
        .await
        .unwrap();
    let b = store
        .create_source_with(other, "jetstream", target, "x", true, NOW)
        .await
        .unwrap();
    let polled = store
        .create_source(ws, "rss", "https://blog.example/feed", "Blog", NOW)
        .await
        .unwrap();
    assert!((a.streamed, b.streamed, polled.streamed) == (true, true, false));
    let claimed = store.claim_due_sources(NOW, NOW + HOUR, 10).await.unwrap();
    assert_eq!(
        claimed.iter().map(|s| s.id).collect::<Vec<_>>(),
        [polled.id]
    );
    let ids = |v: Vec<dialoog_store::Source>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(ids(store.streamed_sources().await.unwrap()), [a.id, b.id]);

    store
        .record_stream_batch("100", 5, &[(a.id, 2), (b.id, 0)], NOW + 1)
        .await
        .unwrap();
    store
        .pause_source(other, b.id, true, NOW + 2)
        .await
        .unwrap();
    assert_eq!(ids(store.streamed_sources().await.unwrap()), [a.id]);
    store
        .record_stream_batch("200", 3, &[(a.id, 1), (b.id, 1)], NOW + 3)
        .await
        .unwrap();
    let sa = store.source(ws, a.id).await.unwrap();
    let sb = store.source(other, b.id).await.unwrap();
    assert_eq!(
        (
            sa.cursor.as_str(),
            sa.fetched_total,
            sa.stored_total,
            sa.last_ok_at
        ),
        ("200", 8, 3, Some(NOW + 3))
    );
    assert_eq!(
        (sb.cursor.as_str(), sb.fetched_total, sb.status.as_str()),
        ("100", 5, "paused"),
        "a paused source is left alone"
    );

    let failing = StreamHealth {
        status: Some("failing"),
        live_status: "failing",
        reason: "the server refused the connection (403)".into(),
        per_minute: 0,
    };
    store
        .record_stream_health(&[a.id, b.id], &failing, NOW + 4)
        .await
        .unwrap();
    store
        .record_stream_health(&[a.id], &failing, NOW + 5)
        .await
        .unwrap();
    let sa = store.source(ws, a.id).await.unwrap();
    assert_eq!(
        (
            sa.status.as_str(),
            sa.failing_since,
            sa.live_at,
            sa.live_status.as_str()
        ),
        ("failing", Some(NOW + 4), Some(NOW + 5), "failing")
    );
    assert_eq!(store.source(other, b.id).await.unwrap().status, "paused");
    // Still starting: only the figures and the time move.
    let starting = StreamHealth {
        status: None,
        live_status: "starting",
        reason: String::new(),
        per_minute: 9,
    };
    store
        .record_stream_health(&[a.id], &starting, NOW + 6)
        .await
        .unwrap();
    let sa = store.source(ws, a.id).await.unwrap();
    assert_eq!((sa.status.as_str(), sa.per_minute), ("failing", 9));
    let ok = StreamHealth {
        status: Some("ok"),
        live_status: "connected",
        reason: String::new(),
        per_minute: 12,
    };
    store
        .record_stream_health(&[a.id], &ok, NOW + 7)
        .await
        .unwrap();
    let sa = store.source(ws, a.id).await.unwrap();
    assert_eq!(
        (
            sa.status.as_str(),
            sa.reason.as_str(),
            sa.failing_since,
            sa.per_minute
        ),
        ("ok", "", None, 12)
    );

    // A channel's mentions and comments, after an item.
    store
        .insert_items(
            ch,
            &[
                item("m1", "mention"),
                item("d1", "direct_message"),
                item("c1", "comment"),
                item("m2", "mention"),
            ],
            NOW,
        )
        .await
        .unwrap();
    let all = store.channel_mentions_after(ch, 0, 10).await.unwrap();
    let names: Vec<&str> = all.iter().map(|i| i.item.external_id.as_str()).collect();
    assert_eq!(names, ["m1", "c1", "m2"]);
    let rest = store
        .channel_mentions_after(ch, all[0].id, 1)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].item.external_id, "c1");
}

dialoog_store::both_backends!(
    listening_is_per_workspace_and_counts_copies_once,
    streamed_sources_record_batches_and_health,
);
