//! Editing a post, on both backends: an edit and the dispatcher's claim
//! never both take the same target on different texts, and a refused
//! edit changes nothing.

use dialoog_store::{NewPost, NewTarget, PostEdit, PostExtras, ReviewStep, Store, StoreError};

pub const NOW: i64 = 1_790_000_000_000;
pub const HOUR: i64 = 3_600_000;

pub fn owner() -> dialoog_store::NewOwner<'static> {
    dialoog_store::NewOwner {
        organisation: "Bakkerij De Vries",
        name: "Anna de Vries",
        email: "anna@bakkerij.nl",
        password_hash: "$argon2id$fake",
        locale: "nl",
        timezone: "Europe/Amsterdam",
    }
}

pub async fn world(store: &Store) -> (i64, i64) {
    let (user, ws) = store.setup(&owner(), NOW).await.unwrap();
    store
        .create_workspace("Filiaal", "Europe/Amsterdam", user.id, NOW)
        .await
        .unwrap();
    let ch = store
        .create_channel(ws.id, "mastodon", "Bakkerij", b"sealed", NOW)
        .await
        .unwrap();
    (ws.id, ch.id)
}

pub fn due_post(ws: i64, ch: i64, text: &str, at: i64) -> NewPost {
    NewPost {
        workspace_id: ws,
        author_id: None,
        text: text.into(),
        scheduled_at: Some(at),
        state: "scheduled".into(),
        targets: vec![NewTarget {
            channel_id: ch,
            network: "mastodon".into(),
            channel_name: "Bakkerij".into(),
            text: None,
            idempotency_key: format!("k-{text}"),
        }],
    }
}

pub fn edit(text: &str) -> PostEdit {
    PostEdit {
        text: text.into(),
        scheduled_at: None,
        clear_time: false,
        campaign: String::new(),
        media: vec![],
        targets: vec![],
        review: ReviewStep::Keep,
        by_user: None,
        by_name: "Test".into(),
    }
}

async fn an_edit_never_changes_a_text_the_dispatcher_took(store: Store) {
    let (ws, ch) = world(&store).await;
    for round in 0..20 {
        let (post, _) = store
            .create_post(&due_post(ws, ch, &format!("oud {round}"), NOW), NOW)
            .await
            .unwrap();
        let new = format!("nieuw {round}");
        let change = edit(&new);
        let (edited, claimed) = tokio::join!(
            store.edit_post(ws, post.id, &change, NOW),
            store.claim_targets(NOW, NOW + 60_000, 10)
        );
        let claimed = claimed.unwrap();
        // Claimed now or on the next round, if the edit held it.
        let claimed = if claimed.is_empty() {
            store.claim_targets(NOW, NOW + 60_000, 10).await.unwrap()
        } else {
            claimed
        };
        assert_eq!(claimed.len(), 1, "round {round}");
        let stored = store.post(ws, post.id).await.unwrap().0.text;
        match edited {
            // The edit came first: the dispatcher sends the new text.
            Ok(_) => {
                assert_eq!(claimed[0].text, new, "round {round}");
                assert_eq!(stored, new);
            }
            // The claim came first: the edit changed nothing.
            Err(StoreError::Conflict) => {
                assert_eq!(claimed[0].text, format!("oud {round}"), "round {round}");
                assert_eq!(stored, format!("oud {round}"));
            }
            Err(e) => panic!("round {round}: {e}"),
        }
        store
            .finish_attempt(
                claimed[0].target.id,
                claimed[0].target.attempts,
                &dialoog_store::Outcome::Published {
                    remote_id: format!("r{round}"),
                    url: None,
                },
                NOW,
            )
            .await
            .unwrap();
    }
}

async fn a_refused_edit_changes_nothing(store: Store) {
    let (ws, ch) = world(&store).await;
    // The workspace made beside the first one in `world`.
    let other_ws = ws + 1;
    let img = store
        .put_media(ws, "aa", "image/png", b"png", None, NOW)
        .await
        .unwrap();
    let extras = PostExtras {
        campaign: "lente".into(),
        media: vec![(img.id, "Brood".into())],
    };
    let (post, _) = store
        .create_post_with(&due_post(ws, ch, "Vers brood", NOW + HOUR), &extras, NOW)
        .await
        .unwrap();
    // Another workspace's post id is not found.
    assert!(matches!(
        store.edit_post(other_ws, post.id, &edit("x"), NOW).await,
        Err(StoreError::NotFound)
    ));
    // An image not the workspace's refuses the whole edit.
    let foreign = store
        .put_media(other_ws, "bb", "image/png", b"png2", None, NOW)
        .await
        .unwrap();
    let mut bad = edit("Met vreemde foto");
    bad.media = vec![(foreign.id, String::new())];
    assert!(matches!(
        store.edit_post(ws, post.id, &bad, NOW).await,
        Err(StoreError::NotFound)
    ));
    let (p, targets) = store.post(ws, post.id).await.unwrap();
    assert_eq!(
        (p.text.as_str(), p.campaign.as_str()),
        ("Vers brood", "lente")
    );
    assert_eq!(store.post_images(&[post.id]).await.unwrap().len(), 1);
    // Claimed by the dispatcher: refused, nothing changes.
    store
        .claim_targets(NOW + HOUR, NOW + 2 * HOUR, 10)
        .await
        .unwrap();
    assert!(matches!(
        store.edit_post(ws, post.id, &edit("Te laat"), NOW).await,
        Err(StoreError::Conflict)
    ));
    let (p, after) = store.post(ws, post.id).await.unwrap();
    assert_eq!(p.text, "Vers brood");
    assert_eq!(after[0].state, "publishing");
    assert_eq!(after[0].text, targets[0].text);
}

dialoog_store::both_backends!(
    an_edit_never_changes_a_text_the_dispatcher_took,
    a_refused_edit_changes_nothing,
);
