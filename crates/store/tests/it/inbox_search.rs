//! The inbox's search on both backends: by the author's name and handle and
//! by the text of any item, also of items threaded in later; `%`, `_` and
//! `"` are characters; short queries; one workspace never finds another's
//! conversations; the generated fill is searchable like threaded items.

use crate::edit::{NOW, owner};
use dialoog_store::{GeneratedConversation, GeneratedItem, InboxFilter, NewItem, Store};

fn item(id: &str, author: &str, thread: &str, text: &str) -> NewItem {
    NewItem {
        external_id: id.into(),
        kind: "mention".into(),
        author_id: format!("https://social.example/@{author}"),
        author_name: author.into(),
        author_handle: Some(format!("@{author}@social.example")),
        thread_ref: Some(thread.into()),
        in_reply_to: None,
        text: text.into(),
        url: None,
        published_at: Some(NOW - 1000),
        media: "[]".into(),
        lang: None,
        sentiment: None,
        score: None,
    }
}

async fn found(store: &Store, ws: i64, q: &str) -> Vec<String> {
    let f = InboxFilter {
        q: Some(q.into()),
        ..InboxFilter::default()
    };
    let mut names: Vec<String> = store
        .conversations(ws, &f, NOW, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.author_name)
        .collect();
    names.sort();
    names
}

async fn search_finds_authors_and_texts(store: Store) {
    let (user, ws) = store.setup(&owner(), NOW).await.unwrap();
    let other = store
        .create_workspace("Filiaal", "Europe/Amsterdam", user.id, NOW)
        .await
        .unwrap();
    let ch = store
        .create_channel(ws.id, "mastodon", "Bakkerij", b"sealed", NOW)
        .await
        .unwrap();
    let och = store
        .create_channel(other.id, "mastodon", "Filiaal", b"sealed", NOW)
        .await
        .unwrap();
    store
        .insert_items(
            ch.id,
            &[
                item("1", "Émile Bakker", "t1", "Waar blijft mijn TAART?"),
                item("2", "joost", "t2", "Korting van 50% op alles_nu"),
                item("3", "Mia", "t3", "Zeg \"hoi\" tegen de bakker"),
            ],
            NOW,
        )
        .await
        .unwrap();
    store
        .insert_items(
            och.id,
            &[item("9", "Émile Bakker", "t9", "taart in Utrecht")],
            NOW,
        )
        .await
        .unwrap();
    store.thread_items(ch.id, NOW).await.unwrap();
    store.thread_items(och.id, NOW).await.unwrap();

    // By name (any case, any part), by handle, by text.
    assert_eq!(found(&store, ws.id, "émile").await, ["Émile Bakker"]);
    assert_eq!(found(&store, ws.id, "ÉMILE BAK").await, ["Émile Bakker"]);
    assert_eq!(found(&store, ws.id, "@joost@social").await, ["joost"]);
    assert_eq!(found(&store, ws.id, "taart").await, ["Émile Bakker"]);
    assert_eq!(
        found(&store, ws.id, "bakker").await,
        ["Mia", "Émile Bakker"]
    );
    // Wildcards and quotes are characters.
    assert_eq!(found(&store, ws.id, "50%").await, ["joost"]);
    assert_eq!(found(&store, ws.id, "%").await, ["joost"], "% alone");
    assert!(found(&store, ws.id, "50%_op").await.is_empty());
    assert_eq!(found(&store, ws.id, "alles_nu").await, ["joost"]);
    assert!(found(&store, ws.id, "alles_n_").await.is_empty());
    assert!(found(&store, ws.id, "w%r").await.is_empty());
    assert_eq!(found(&store, ws.id, "\"hoi\"").await, ["Mia"]);
    assert_eq!(found(&store, ws.id, "\"").await, ["Mia"], "a short query");
    assert_eq!(found(&store, ws.id, "mi").await, ["Mia", "Émile Bakker"]);
    assert!(
        found(&store, ws.id, "utrecht").await.is_empty(),
        "another workspace's"
    );
    assert!(found(&store, ws.id, "zz").await.is_empty());

    // A later item of the same conversation is found, the first one still.
    store
        .insert_items(
            ch.id,
            &[item("4", "joost", "t2", "Nog steeds geen bezorging")],
            NOW,
        )
        .await
        .unwrap();
    store.thread_items(ch.id, NOW).await.unwrap();
    assert_eq!(found(&store, ws.id, "BEZORGING").await, ["joost"]);
    assert_eq!(found(&store, ws.id, "korting van").await, ["joost"]);
    assert_eq!(found(&store, other.id, "taart").await, ["Émile Bakker"]);

    // Generated conversations are found like threaded ones.
    let g = GeneratedConversation {
        channel_id: ch.id,
        kind: "comment".into(),
        author_id: "g".into(),
        author_name: "Gert Gegenereerd".into(),
        author_handle: None,
        status: "open".into(),
        assignee_id: None,
        snoozed_until: None,
        lang: Some("nl".into()),
        sentiment: Some("neutral".into()),
        tags: vec!["klacht".into()],
        items: vec![
            GeneratedItem {
                text: "eerste".into(),
                at: NOW - 10,
            },
            GeneratedItem {
                text: "tweede bericht".into(),
                at: NOW - 5,
            },
        ],
    };
    store
        .fill_generated_inbox(ws.id, &[g.clone(), g], NOW)
        .await
        .unwrap();
    assert_eq!(
        found(&store, ws.id, "tweede ber").await,
        ["Gert Gegenereerd", "Gert Gegenereerd"]
    );
    // Their author is one contact, as threading would have made.
    let gert = store.contacts(ws.id, "Gert", 10).await.unwrap();
    assert_eq!(gert.len(), 1);
    assert_eq!((gert[0].identities, gert[0].conversations), (1, 2));
    assert_eq!(store.workspace_tags(ws.id).await.unwrap(), ["klacht"]);
    assert!(store.workspace_tags(other.id).await.unwrap().is_empty());
    // Threading goes on after a fill.
    store
        .insert_items(ch.id, &[item("5", "Nieuw", "t5", "na het vullen")], NOW)
        .await
        .unwrap();
    store.thread_items(ch.id, NOW).await.unwrap();
    assert_eq!(found(&store, ws.id, "het vullen").await, ["Nieuw"]);
    let nieuw = store.contacts(ws.id, "Nieuw", 10).await.unwrap();
    assert_eq!(nieuw.len(), 1, "a contact made after the fill");
    assert_eq!(nieuw[0].conversations, 1);
}

dialoog_store::both_backends!(search_finds_authors_and_texts);
