//! A tag's list follows its conversations. Tag rows carry their
//! conversation's status and latest activity (migration 0019, kept by
//! triggers), and a page with a tag is read from them; it must stay the
//! page the list gives without the tag, filtered by hand, through status
//! changes, snoozing, new activity and untagging, page by page.

use crate::edit::{NOW, world};
use dialoog_store::{InboxFilter, NewItem, Store};

fn dm(n: usize, author: usize, at: i64) -> NewItem {
    NewItem {
        external_id: format!("dm-{n}"),
        kind: "direct_message".into(),
        author_id: format!("https://social.example/@klant{author}"),
        author_name: format!("Klant {author}"),
        author_handle: Some(format!("@klant{author}@social.example")),
        // One conversation per person.
        thread_ref: Some(format!("dm-klant{author}")),
        in_reply_to: None,
        text: format!("Vraag {n}"),
        url: None,
        published_at: Some(at),
        media: "[]".into(),
        lang: Some("nl".into()),
        sentiment: Some("neutral".into()),
        score: Some(0.0),
    }
}

/// Every page of `f` with `limit` rows, followed by its cursor.
async fn pages(store: &Store, ws: i64, f: &InboxFilter, limit: i64) -> Vec<i64> {
    let mut f = f.clone();
    let mut seen = vec![];
    loop {
        let page = store.conversations(ws, &f, NOW, limit).await.unwrap();
        seen.extend(page.iter().map(|c| c.id));
        match page.last() {
            Some(c) if page.len() as i64 == limit => f.after = Some((c.last_at, c.id)),
            _ => return seen,
        }
    }
}

/// The list without the tag, keeping the rows that have it.
async fn by_hand(store: &Store, ws: i64, f: &InboxFilter, tag: &str) -> Vec<i64> {
    let untagged = InboxFilter {
        tag: None,
        ..f.clone()
    };
    let ids: Vec<i64> = store
        .conversations(ws, &untagged, NOW, 1000)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    let tags = store.tags_of(&ids).await.unwrap();
    ids.into_iter()
        .filter(|id| tags.iter().any(|(i, t)| i == id && t == tag))
        .collect()
}

/// Every view with the tag equals the list by hand, in pages of three.
async fn check(store: &Store, ws: i64, tag: &str) {
    for view in [
        Some("open"),
        Some("pending"),
        Some("resolved"),
        Some("snoozed"),
        None,
    ] {
        let f = InboxFilter {
            status: view.map(Into::into),
            tag: Some(tag.into()),
            ..InboxFilter::default()
        };
        assert_eq!(
            pages(store, ws, &f, 3).await,
            by_hand(store, ws, &f, tag).await,
            "view {view:?}"
        );
    }
}

async fn tagged_lists_follow_their_conversations(store: Store) {
    let (ws, ch) = world(&store).await;
    let items: Vec<NewItem> = (0..12)
        .map(|i| dm(i, i, NOW - 60_000 + i as i64 * 1000))
        .collect();
    store.insert_items(ch, &items, NOW - 50_000).await.unwrap();
    store.thread_items(ch, NOW - 50_000).await.unwrap();
    let convs = store
        .conversations(ws, &InboxFilter::default(), NOW, 100)
        .await
        .unwrap();
    assert_eq!(convs.len(), 12);
    // Newest first: klant 11 … klant 0.
    let id = |author: usize| convs[11 - author].id;
    for a in (0..12).step_by(2) {
        store
            .tag_conversation(id(a), "klacht", true, NOW - 40_000)
            .await
            .unwrap();
    }
    store
        .tag_conversation(id(3), "bezorging", true, NOW - 40_000)
        .await
        .unwrap();
    let open_klacht = InboxFilter {
        status: Some("open".into()),
        tag: Some("klacht".into()),
        ..InboxFilter::default()
    };
    assert_eq!(
        pages(&store, ws, &open_klacht, 3).await,
        [10, 8, 6, 4, 2, 0].map(id),
        "the tag's open conversations, newest first"
    );
    check(&store, ws, "klacht").await;

    // Resolved, pending and snoozed conversations leave the open list.
    assert!(
        store
            .set_conversation_status(ws, id(10), "resolved", NOW - 30_000)
            .await
            .unwrap()
    );
    assert!(
        store
            .set_conversation_status(ws, id(6), "pending", NOW - 30_000)
            .await
            .unwrap()
    );
    store
        .snooze_conversation(ws, id(4), Some(NOW + 3_600_000), NOW - 30_000)
        .await
        .unwrap();
    assert_eq!(pages(&store, ws, &open_klacht, 3).await, [8, 2, 0].map(id));
    check(&store, ws, "klacht").await;

    // A new message from klant 0 and one from klant 10 bring their
    // conversations to the top, and klant 10's is open again.
    store
        .insert_items(
            ch,
            &[dm(100, 0, NOW - 20_000), dm(101, 10, NOW - 19_000)],
            NOW - 19_000,
        )
        .await
        .unwrap();
    store.thread_items(ch, NOW - 19_000).await.unwrap();
    assert_eq!(
        pages(&store, ws, &open_klacht, 3).await,
        [10, 0, 8, 2].map(id)
    );
    check(&store, ws, "klacht").await;

    // Untagged, it leaves the tag's list; the other tag is untouched.
    store
        .tag_conversation(id(8), "klacht", false, NOW - 10_000)
        .await
        .unwrap();
    assert_eq!(pages(&store, ws, &open_klacht, 3).await, [10, 0, 2].map(id));
    check(&store, ws, "klacht").await;
    check(&store, ws, "bezorging").await;
    let open_bezorging = InboxFilter {
        tag: Some("bezorging".into()),
        ..open_klacht.clone()
    };
    assert_eq!(pages(&store, ws, &open_bezorging, 3).await, [id(3)]);
}

dialoog_store::both_backends!(tagged_lists_follow_their_conversations);
