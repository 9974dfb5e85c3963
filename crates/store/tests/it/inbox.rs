//! Threading inbound items into conversations, on both backends: comments
//! under our post share one conversation linked to it, an answer to a reply
//! of ours joins the conversation the reply was in and opens it again,
//! direct messages with one person are one conversation, feed posts are no
//! conversations, and the list pages without gaps or repeats.

use crate::edit::{NOW, due_post, world};
use dialoog_store::{InboxFilter, NewEntry, NewItem, Outcome, ReplyOutcome, Store};

fn item(
    id: &str,
    kind: &str,
    author: &str,
    thread: Option<&str>,
    parent: Option<&str>,
    text: &str,
) -> NewItem {
    NewItem {
        external_id: id.into(),
        kind: kind.into(),
        author_id: format!("https://social.example/@{author}"),
        author_name: author.into(),
        author_handle: Some(format!("@{author}@social.example")),
        thread_ref: thread.map(Into::into),
        in_reply_to: parent.map(Into::into),
        text: text.into(),
        url: None,
        published_at: Some(NOW - 1000),
        media: "[]".into(),
        lang: Some("nl".into()),
        sentiment: Some(
            if text.contains("vies") {
                "negative"
            } else {
                "neutral"
            }
            .into(),
        ),
        score: Some(0.0),
    }
}

async fn all(store: &Store, ws: i64) -> Vec<dialoog_store::Conversation> {
    let f = InboxFilter::default();
    store.conversations(ws, &f, NOW, 100).await.unwrap()
}

async fn threads_follow_each_networks_meaning(store: Store) {
    let (ws, ch) = world(&store).await;
    // Our post is out on the channel as status 100.
    let (post, _) = store
        .create_post(&due_post(ws, ch, "Nieuw: kerststol", NOW), NOW)
        .await
        .unwrap();
    let claim = store
        .claim_targets(NOW, NOW + 60_000, 10)
        .await
        .unwrap()
        .remove(0);
    let out = Outcome::Published {
        remote_id: "100".into(),
        url: None,
    };
    assert!(
        store
            .finish_attempt(claim.target.id, claim.target.attempts, &out, NOW)
            .await
            .unwrap()
    );

    let first = [
        item(
            "201",
            "comment",
            "anna",
            Some("100"),
            Some("100"),
            "Lekker!",
        ),
        item(
            "202",
            "mention",
            "bram",
            Some("100"),
            Some("100"),
            "@bakkerij ziet er vies uit",
        ),
        item(
            "203",
            "comment",
            "anna",
            Some("202"),
            Some("202"),
            "Vind ik niet",
        ),
        item(
            "301",
            "mention",
            "cor",
            Some("301"),
            None,
            "@bakkerij open op zondag?",
        ),
        item(
            "401",
            "direct_message",
            "dina",
            Some("dm:@dina"),
            None,
            "Hoi",
        ),
        item(
            "402",
            "direct_message",
            "dina",
            Some("dm:@dina"),
            None,
            "Bestelling 12?",
        ),
        item("f1", "post", "blog", None, None, "Een artikel uit een feed"),
    ];
    assert_eq!(store.insert_items(ch, &first, NOW).await.unwrap(), 7);
    assert_eq!(
        store.thread_items(ch, NOW).await.unwrap(),
        6,
        "feed posts are no conversations"
    );
    assert_eq!(
        store.thread_items(ch, NOW).await.unwrap(),
        0,
        "each item once"
    );
    let convs = all(&store, ws).await;
    assert_eq!(convs.len(), 3, "{convs:?}");
    let under_post = convs.iter().find(|c| c.post_id == Some(post.id)).unwrap();
    assert_eq!(
        (under_post.kind.as_str(), under_post.messages),
        ("comment", 3)
    );
    assert_eq!(under_post.author_name, "anna");
    let dm = convs.iter().find(|c| c.kind == "direct_message").unwrap();
    assert_eq!((dm.messages, dm.preview.as_str()), (2, "Bestelling 12?"));
    let mention = convs.iter().find(|c| c.kind == "mention").unwrap();
    assert_eq!(mention.waiting_since, Some(NOW - 1000));

    // We answer the mention (status 900) and resolve it; cor answers us.
    let (reply, new) = store
        .add_entry(
            mention.id,
            &NewEntry {
                kind: "reply",
                user_id: 1,
                text: "Ja, van 9 tot 12",
                item_id: None,
                client_key: "k",
            },
            NOW,
        )
        .await
        .unwrap();
    assert!(new);
    assert_eq!(reply.state, "sending");
    let (same, new) = store
        .add_entry(
            mention.id,
            &NewEntry {
                kind: "reply",
                user_id: 1,
                text: "anders",
                item_id: None,
                client_key: "k",
            },
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(
        (same.id, same.text.as_str(), new),
        (reply.id, "Ja, van 9 tot 12", false)
    );
    store
        .finish_reply(
            reply.id,
            &ReplyOutcome::Sent {
                remote_id: "900".into(),
                url: None,
            },
            NOW + 5,
        )
        .await
        .unwrap();
    assert!(
        store
            .set_conversation_status(ws, mention.id, "resolved", NOW + 6)
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_conversation_status(ws, mention.id, "resolved", NOW + 7)
            .await
            .unwrap()
    );
    let answered = store.conversation(ws, mention.id).await.unwrap();
    assert_eq!(
        (answered.waiting_since, answered.first_response_at),
        (None, Some(NOW + 5))
    );

    store
        .insert_items(
            ch,
            &[item(
                "302",
                "mention",
                "cor",
                Some("900"),
                Some("900"),
                "Top, dank!",
            )],
            NOW + 10,
        )
        .await
        .unwrap();
    store.thread_items(ch, NOW + 10).await.unwrap();
    let again = store.conversation(ws, mention.id).await.unwrap();
    assert_eq!(
        (again.status.as_str(), again.messages, again.resolved_at),
        ("open", 2, None)
    );
    assert_eq!(all(&store, ws).await.len(), 3);

    // Filters and pages.
    let neg = InboxFilter {
        sentiment: Some("negative".into()),
        ..InboxFilter::default()
    };
    assert_eq!(
        store.conversations(ws, &neg, NOW, 10).await.unwrap().len(),
        0,
        "the latest item counts"
    );
    let q = InboxFilter {
        q: Some("VIES".into()),
        ..InboxFilter::default()
    };
    assert_eq!(
        store.conversations(ws, &q, NOW, 10).await.unwrap()[0].id,
        under_post.id
    );
    let wild = InboxFilter {
        q: Some("%".into()),
        ..InboxFilter::default()
    };
    assert!(
        store
            .conversations(ws, &wild, NOW, 10)
            .await
            .unwrap()
            .is_empty(),
        "% is a character"
    );
    store
        .tag_conversation(dm.id, "bestelling", true, NOW)
        .await
        .unwrap();
    let tagged = InboxFilter {
        tag: Some("bestelling".into()),
        ..InboxFilter::default()
    };
    assert_eq!(
        store.conversations(ws, &tagged, NOW, 10).await.unwrap()[0].id,
        dm.id
    );
    let mut seen = vec![];
    let mut f = InboxFilter::default();
    loop {
        let page = store.conversations(ws, &f, NOW, 2).await.unwrap();
        seen.extend(page.iter().map(|c| c.id));
        match page.last() {
            Some(c) if page.len() == 2 => f.after = Some((c.last_at, c.id)),
            _ => break,
        }
    }
    let mut ids: Vec<i64> = all(&store, ws).await.iter().map(|c| c.id).collect();
    assert_eq!(seen, ids);
    ids.dedup();
    assert_eq!(ids.len(), 3);
    // Another workspace sees none of it.
    assert!(store.conversation(ws + 1, dm.id).await.is_err());

    // Each author is a contact; anna on another network may be the same.
    let contacts = store.contacts(ws, "", 10).await.unwrap();
    assert_eq!(contacts.len(), 3, "{contacts:?}");
    let other = store
        .create_channel(ws, "bluesky", "Bakkerij op Bluesky", b"sealed", NOW)
        .await
        .unwrap();
    let mut theirs = item("at://anna/1", "mention", "anna", None, None, "Hoi!");
    theirs.author_handle = Some("@anna.bsky.social".into());
    store.insert_items(other.id, &[theirs], NOW).await.unwrap();
    store.thread_items(other.id, NOW).await.unwrap();
    let anna = store.contact_of(under_post.id).await.unwrap().unwrap();
    let on_bluesky = InboxFilter {
        channel_id: Some(other.id),
        ..InboxFilter::default()
    };
    let anna_bsky = store
        .contact_of(store.conversations(ws, &on_bluesky, NOW, 10).await.unwrap()[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(anna, anna_bsky);
    let sug = store.merge_suggestions(ws, anna).await.unwrap();
    assert_eq!(
        (sug.len(), sug[0].contact_id, sug[0].reason),
        (1, anna_bsky, "same_name"),
        "{sug:?}"
    );
    store
        .set_contact_note(ws, anna_bsky, "Vaste klant", NOW)
        .await
        .unwrap();
    store.tag_contact(anna_bsky, "vip", true).await.unwrap();
    store
        .merge_contacts(ws, anna, anna_bsky, NOW)
        .await
        .unwrap();
    let merged = store.contact(ws, anna).await.unwrap();
    assert_eq!(
        (
            merged.identities,
            merged.conversations,
            merged.note.as_str()
        ),
        (2, 2, "Vaste klant")
    );
    assert_eq!(store.contact_tags(anna).await.unwrap(), ["vip"]);
    assert!(store.contact(ws, anna_bsky).await.is_err(), "merged away");
    assert!(store.merge_suggestions(ws, anna).await.unwrap().is_empty());
    assert_eq!(
        store.contact_sentiments(anna).await.unwrap().len(),
        3,
        "anna's own messages"
    );
    // Split the Bluesky account off again: its conversation goes along.
    let ids = store.identities(anna).await.unwrap();
    let bsky = ids.iter().find(|i| i.network == "bluesky").unwrap();
    let again = store.split_identity(ws, anna, bsky.id, NOW).await.unwrap();
    assert_eq!(store.contact(ws, again).await.unwrap().conversations, 1);
    assert_eq!(store.contact(ws, anna).await.unwrap().conversations, 1);
    let last = store.identities(again).await.unwrap()[0].id;
    assert!(matches!(
        store.split_identity(ws, again, last, NOW).await,
        Err(dialoog_store::StoreError::Conflict)
    ));
    assert!(store.merge_contacts(ws, anna, anna, NOW).await.is_err());
    assert!(
        store
            .merge_contacts(ws + 1, anna, again, NOW)
            .await
            .is_err(),
        "another workspace's"
    );
    assert_eq!(store.contacts(ws, "BSKY", 10).await.unwrap()[0].id, again);
}

dialoog_store::both_backends!(threads_follow_each_networks_meaning);
