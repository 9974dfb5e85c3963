//! The inbox's search over more conversations than it walks, on both
//! backends: a common word fills its page from the walk in list order, a
//! rare word beyond the walk is found through the index, a word on both
//! sides of the walk's end comes in one order; every page, with any page
//! size, is the list without the search less what does not match, also
//! with the list's filters; one or two characters look only at the
//! workspace's most recent conversations.

use crate::edit::{NOW, owner};
use dialoog_store::{Conversation, GeneratedConversation, GeneratedItem, InboxFilter, Store};

/// The conversations a generated inbox of `N` holds: the `i`-th is newer
/// than the one before (two at a time share their time, so the id decides),
/// and its text says which words it holds.
const N: usize = 5_200;

fn generated(channel_id: i64, agent: i64, i: usize) -> GeneratedConversation {
    let mut text = String::from("Goedemiddag, ");
    if i.is_multiple_of(5) {
        text.push_str("waar blijft de TAART? ");
    }
    if i % 400 == 3 {
        text.push_str("een zeldzaam verzoek ");
    }
    if [100, 600, 900].contains(&i) {
        text.push_str("ik speel xylofoon ");
    }
    text.push_str("groet");
    GeneratedConversation {
        channel_id,
        kind: if i.is_multiple_of(50) {
            "review"
        } else {
            "comment"
        }
        .into(),
        author_id: format!("k{i}"),
        author_name: format!("Klant {i}"),
        author_handle: None,
        status: ["open", "pending", "resolved"][i % 3].into(),
        assignee_id: (i.is_multiple_of(7)).then_some(agent),
        snoozed_until: None,
        lang: Some(if i % 40 == 7 { "fr" } else { "nl" }.into()),
        sentiment: Some("neutral".into()),
        tags: if i.is_multiple_of(11) {
            vec!["klacht".into()]
        } else {
            vec![]
        },
        items: vec![GeneratedItem {
            text,
            at: NOW - 10_000_000 + (i as i64 / 2) * 1_000,
        }],
    }
}

/// Every page of `f` with `size` rows, each after the one before.
async fn pages_of(store: &Store, ws: i64, f: &InboxFilter, size: i64) -> Vec<Conversation> {
    let mut f = f.clone();
    let mut seen = vec![];
    loop {
        let page = store.conversations(ws, &f, NOW, size).await.unwrap();
        let full = page.len() as i64 == size;
        if let Some(c) = page.last() {
            f.after = Some((c.last_at, c.id));
        }
        seen.extend(page);
        if !full {
            return seen;
        }
    }
}

/// The ids of every page of `f` with `size` rows.
async fn pages(store: &Store, ws: i64, f: &InboxFilter, size: i64) -> Vec<i64> {
    pages_of(store, ws, f, size)
        .await
        .into_iter()
        .map(|c| c.id)
        .collect()
}

/// The whole list of `f` without its search, in one page (a list
/// without a search is one query).
async fn plain(store: &Store, ws: i64, f: &InboxFilter) -> Vec<Conversation> {
    let f = InboxFilter {
        q: None,
        ..f.clone()
    };
    store.conversations(ws, &f, NOW, N as i64).await.unwrap()
}

/// What a search for `q` must show: `list` (the list without the search,
/// in its order) less the conversations whose name or text does not hold
/// `q`.
fn matching(list: &[Conversation], q: &str) -> Vec<i64> {
    let q = q.to_lowercase();
    list.iter()
        .filter(|c| {
            let i: usize = c.author_name["Klant ".len()..].parse().unwrap();
            let text = &generated(0, 0, i).items[0].text;
            format!("{}\n\n{text}", c.author_name)
                .to_lowercase()
                .contains(&q)
        })
        .map(|c| c.id)
        .collect()
}

async fn search_walks_the_list_then_asks_the_index(store: Store) {
    let (user, ws) = store.setup(&owner(), NOW).await.unwrap();
    let ch = store
        .create_channel(ws.id, "mastodon", "Bakkerij", b"sealed", NOW)
        .await
        .unwrap();
    let convs: Vec<GeneratedConversation> = (0..N).map(|i| generated(ch.id, user.id, i)).collect();
    store
        .fill_generated_inbox(ws.id, &convs, NOW)
        .await
        .unwrap();
    assert!(N as i64 > dialoog_store::SEARCH_WALK + 1_000);
    let ws = ws.id;
    let search = |q: &str, f: InboxFilter| InboxFilter {
        q: Some(q.into()),
        ..f
    };
    let open = InboxFilter {
        status: Some("open".into()),
        ..InboxFilter::default()
    };

    // A common word: the page is the list's newest matches, in its order,
    // and the pages go on without gaps or repeats.
    let taart = search("TAART", open.clone());
    let want = matching(&plain(&store, ws, &taart).await, "taart");
    assert!(want.len() > 300, "{}", want.len());
    let first = store.conversations(ws, &taart, NOW, 50).await.unwrap();
    let ids: Vec<i64> = first.iter().map(|c| c.id).collect();
    assert_eq!(ids, want[..50]);
    assert!(first.iter().all(|c| c.status == "open"));
    assert_eq!(pages(&store, ws, &taart, 50).await, want);

    // A rare word only in old conversations, beyond the walk: found
    // through the index, newest first, also a page at a time.
    let rare = search("xylofoon", InboxFilter::default());
    let all = plain(&store, ws, &InboxFilter::default()).await;
    let want = matching(&all, "xylofoon");
    assert_eq!(want.len(), 3);
    let page = store.conversations(ws, &rare, NOW, 50).await.unwrap();
    let names: Vec<&str> = page.iter().map(|c| c.author_name.as_str()).collect();
    assert_eq!(names, ["Klant 900", "Klant 600", "Klant 100"]);
    assert_eq!(pages(&store, ws, &rare, 2).await, want);
    assert_eq!(pages(&store, ws, &rare, 1).await, want);

    // A word in the walk and beyond it: the walk's matches, then the
    // index's, in one order; a page boundary anywhere in between.
    let some = search("zeldzaam", InboxFilter::default());
    let want = matching(&all, "zeldzaam");
    assert_eq!(want.len(), N / 400);
    let page = store.conversations(ws, &some, NOW, 50).await.unwrap();
    assert_eq!(page.iter().map(|c| c.id).collect::<Vec<_>>(), want);
    for size in [1, 3, 5, 12] {
        assert_eq!(
            pages(&store, ws, &some, size).await,
            want,
            "pages of {size}"
        );
    }

    // Filters with a search: rare kinds, languages, an assignee, a tag.
    let agent = dialoog_store::AssigneeFilter::User(user.id);
    let filters = [
        InboxFilter {
            kind: Some("review".into()),
            ..open.clone()
        },
        InboxFilter {
            lang: Some("fr".into()),
            ..InboxFilter::default()
        },
        InboxFilter {
            assignee: Some(agent),
            ..open.clone()
        },
        InboxFilter {
            assignee: Some(dialoog_store::AssigneeFilter::Nobody),
            status: Some("pending".into()),
            ..InboxFilter::default()
        },
        InboxFilter {
            tag: Some("klacht".into()),
            ..InboxFilter::default()
        },
        // Lists longer than the walk.
        InboxFilter {
            lang: Some("nl".into()),
            ..InboxFilter::default()
        },
        InboxFilter {
            channel_id: Some(ch.id),
            sentiment: Some("neutral".into()),
            ..InboxFilter::default()
        },
    ];
    for f in filters {
        let list = plain(&store, ws, &f).await;
        for q in ["taart", "zeldzaam", "xylofoon", "klant 1"] {
            let fq = search(q, f.clone());
            let want = matching(&list, q);
            let page = store.conversations(ws, &fq, NOW, 20).await.unwrap();
            let ids: Vec<i64> = page.iter().map(|c| c.id).collect();
            assert_eq!(ids, want[..want.len().min(20)], "{q} in {f:?}");
            assert_eq!(pages(&store, ws, &fq, 20).await, want, "{q} in {f:?}");
        }
    }

    // One or two characters: only the workspace's most recently active
    // conversations, in the list's order.
    let recent = &all[..dialoog_store::SHORT_QUERY_SCAN as usize];
    let short = search("xy", InboxFilter::default());
    let page = store.conversations(ws, &short, NOW, 50).await.unwrap();
    let names: Vec<&str> = page.iter().map(|c| c.author_name.as_str()).collect();
    assert_eq!(names, ["Klant 900", "Klant 600"]);
    assert_eq!(pages(&store, ws, &short, 1).await, matching(recent, "xy"));
    let one = search("?", open.clone());
    let want: Vec<i64> = matching(recent, "?")
        .into_iter()
        .filter(|id| recent.iter().any(|c| c.id == *id && c.status == "open"))
        .collect();
    assert!(want.len() > 100, "{}", want.len());
    assert_eq!(pages(&store, ws, &one, 50).await, want);
    // A search in nothing: no page.
    let none = search(
        "taart",
        InboxFilter {
            kind: Some("email".into()),
            ..InboxFilter::default()
        },
    );
    assert!(
        store
            .conversations(ws, &none, NOW, 50)
            .await
            .unwrap()
            .is_empty()
    );
}

dialoog_store::both_backends!(search_walks_the_list_then_asks_the_index);
