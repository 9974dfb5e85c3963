//! Retention and the search index's feed, on both backends: a workspace
//! keeps its mentions for its own number of days, older ones go in batches
//! (with their copies and query links) and never another workspace's; the
//! index is fed originals in id order with their queries.

use crate::edit::{HOUR, NOW, world};
use dialoog_store::{CopyOf, DEFAULT_KEEP_DAYS, NewMention, Store, Stored};

const DAY: i64 = 24 * HOUR;

fn mention(ws: i64, key: &str, at: i64, queries: &[i64]) -> NewMention {
    NewMention {
        workspace_id: ws,
        source_id: None,
        source_kind: "rss".into(),
        key: key.into(),
        url: None,
        author_id: "an".into(),
        author_name: "An".into(),
        author_handle: Some("@an".into()),
        reach: None,
        text: format!("fietsen {key}"),
        lang: Some("nl".into()),
        sentiment: "neutral".into(),
        score: 0.0,
        fingerprint: 0,
        copy_of: None,
        query_ids: queries.to_vec(),
        published_at: at,
    }
}

async fn retention_removes_only_old_mentions_of_one_workspace(store: Store) {
    let (ws, _) = world(&store).await;
    let other = ws + 1;
    assert_eq!(
        store.listening_keep_days(ws).await.unwrap(),
        DEFAULT_KEEP_DAYS
    );
    store.set_listening_keep_days(ws, 30, NOW).await.unwrap();
    store.set_listening_keep_days(ws, 7, NOW + 1).await.unwrap();
    assert_eq!(store.listening_keep_days(ws).await.unwrap(), 7);
    let all = store.listening_retention().await.unwrap();
    assert!(all.contains(&(ws, 7)), "{all:?}");
    assert!(all.contains(&(other, DEFAULT_KEEP_DAYS)), "{all:?}");

    let q = store
        .create_listening_query(ws, "Fiets", "fietsen", "brand", NOW)
        .await
        .unwrap();
    let mut batch: Vec<NewMention> = (0..5)
        .map(|i| mention(ws, &format!("old{i}"), NOW - 10 * DAY - i, &[q.id]))
        .collect();
    let mut copy = mention(ws, "copy", NOW - HOUR, &[]);
    copy.copy_of = Some(CopyOf::InBatch(0));
    batch.push(copy);
    batch.push(mention(ws, "new", NOW - DAY, &[q.id]));
    batch.push(mention(other, "theirs", NOW - 10 * DAY, &[]));
    let stored = store.insert_mentions(&batch, NOW).await.unwrap();
    assert!(matches!(stored[5], Stored::Copy(_)));

    let fed = store.mentions_to_index(0, None, 100).await.unwrap();
    assert_eq!(fed.len(), 7, "originals only");
    assert!(fed.windows(2).all(|w| w[0].0.id < w[1].0.id));
    assert_eq!(fed[0].1, vec![q.id]);
    assert_eq!(fed[0].0.author_handle.as_deref(), Some("@an"));
    let after = fed[2].0.id;
    assert_eq!(
        store
            .mentions_to_index(after, None, 100)
            .await
            .unwrap()
            .len(),
        4
    );
    assert!(
        store
            .mentions_to_index(0, Some(NOW), 100)
            .await
            .unwrap()
            .is_empty(),
        "not settled yet"
    );

    let cutoff = NOW - 7 * DAY;
    let mut removed = 0;
    loop {
        let n = store.remove_old_mentions(ws, cutoff, 2).await.unwrap();
        assert!(n <= 2);
        if n == 0 {
            break;
        }
        removed += n;
    }
    assert_eq!(removed, 5);
    let left = store.mentions_to_index(0, None, 100).await.unwrap();
    let keys: Vec<i64> = left.iter().map(|r| r.0.workspace_id).collect();
    assert_eq!(
        keys,
        vec![ws, other],
        "the new one and the other workspace's stay"
    );
    let page = store
        .mentions_by_ids(ws, &[left[1].0.id, left[0].0.id, fed[0].0.id])
        .await
        .unwrap();
    assert_eq!(
        page.len(),
        1,
        "another workspace's and removed ids are left out"
    );
    assert_eq!(page[0].id, left[0].0.id);
    assert_eq!(
        store.mention_query_ids(&[fed[0].0.id]).await.unwrap(),
        vec![]
    );
}

/// A copy heard later but published before the retention cutoff, of an
/// original that stays: removing the copy lowers the original's count.
async fn removing_an_old_copy_lowers_its_originals_count(store: Store) {
    let (ws, _) = world(&store).await;
    let original = mention(ws, "original", NOW - DAY, &[]);
    let mut old_copy = mention(ws, "old-copy", NOW - 30 * DAY, &[]);
    old_copy.copy_of = Some(CopyOf::InBatch(0));
    let mut new_copy = mention(ws, "new-copy", NOW - HOUR, &[]);
    new_copy.copy_of = Some(CopyOf::InBatch(0));
    store
        .insert_mentions(&[original, old_copy, new_copy], NOW)
        .await
        .unwrap();
    let copies = |store: Store| async move {
        let f = dialoog_store::MentionFilter::default();
        let page = store.mentions(ws, &f, 10).await.unwrap();
        page.iter()
            .filter(|m| m.text.ends_with("original"))
            .map(|m| m.copies)
            .collect::<Vec<_>>()
    };
    assert_eq!(copies(store.clone()).await, vec![3]);
    let removed = store
        .remove_old_mentions(ws, NOW - 7 * DAY, 100)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    assert_eq!(
        copies(store.clone()).await,
        vec![2],
        "itself and the new copy"
    );
}

dialoog_store::both_backends!(
    retention_removes_only_old_mentions_of_one_workspace,
    removing_an_old_copy_lowers_its_originals_count,
);
