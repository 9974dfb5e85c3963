//! The foundation's story, told to both backends.

use dialoog_domain::Role;
use dialoog_store::{NewInvitee, NewOwner, Store, StoreError};
use serde_json::json;

const NOW: i64 = 1_790_000_000_000;

fn owner() -> NewOwner<'static> {
    NewOwner {
        organisation: "Bakkerij De Vries",
        name: "Anna de Vries",
        email: "anna@bakkerij.nl",
        password_hash: "$argon2id$fake",
        locale: "nl",
        timezone: "Europe/Amsterdam",
    }
}

async fn setup_happens_once(store: Store) {
    assert!(!store.is_set_up().await.unwrap());
    let (user, ws) = store.setup(&owner(), NOW).await.unwrap();
    assert!(user.is_admin);
    assert_eq!(ws.name, "Bakkerij De Vries");
    assert!(store.is_set_up().await.unwrap());
    let again = NewOwner {
        email: "other@x.nl",
        ..owner()
    };
    assert!(matches!(
        store.setup(&again, NOW).await,
        Err(StoreError::Conflict)
    ));
    // The failed second setup left nothing behind.
    assert!(store.user_by_email("other@x.nl").await.unwrap().is_none());
    let m = store.membership(ws.id, user.id).await.unwrap().unwrap();
    assert_eq!(m.role, Role::Owner);
}

async fn workspaces_are_separate(store: Store) {
    let (anna, ws_a) = store.setup(&owner(), NOW).await.unwrap();
    let ws_b = store
        .create_workspace("Fietsenwinkel", "Europe/Brussels", anna.id, NOW)
        .await
        .unwrap();
    let (bob, joined) = invite_and_accept(&store, ws_b.id, "bob@x.nl", Role::Editor).await;
    assert_eq!(joined, ws_b.id);
    assert!(store.membership(ws_a.id, bob.id).await.unwrap().is_none());
    assert_eq!(store.memberships(bob.id).await.unwrap().len(), 1);
    assert_eq!(store.memberships(anna.id).await.unwrap().len(), 2);
    let members = store.members(ws_b.id).await.unwrap();
    assert_eq!(
        members.iter().map(|m| m.role).collect::<Vec<_>>(),
        [Role::Owner, Role::Editor]
    );
}

async fn invite_and_accept(
    store: &Store,
    ws: i64,
    email: &str,
    role: Role,
) -> (dialoog_store::User, i64) {
    let hash = format!("code-{email}");
    store
        .create_invite(&hash, ws, email, role, 1, NOW, NOW + 1000)
        .await
        .unwrap();
    let who = NewInvitee {
        name: "Bob",
        password_hash: "$argon2id$x",
        locale: "en",
    };
    store.accept_invite(&hash, &who, NOW + 1).await.unwrap()
}

async fn invites_are_single_use_and_expire(store: Store) {
    let (_, ws) = store.setup(&owner(), NOW).await.unwrap();
    let (_, _) = invite_and_accept(&store, ws.id, "bob@x.nl", Role::Agent).await;
    let who = NewInvitee {
        name: "Eve",
        password_hash: "h",
        locale: "nl",
    };
    assert!(matches!(
        store.accept_invite("code-bob@x.nl", &who, NOW + 2).await,
        Err(StoreError::NotFound)
    ));
    store
        .create_invite("late", ws.id, "carla@x.nl", Role::Client, 1, NOW, NOW + 10)
        .await
        .unwrap();
    assert!(matches!(
        store.accept_invite("late", &who, NOW + 11).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.user_by_email("carla@x.nl").await.unwrap().is_none());
    assert!(
        store
            .invite("late")
            .await
            .unwrap()
            .unwrap()
            .accepted_at
            .is_none()
    );
}

async fn last_owner_stays(store: Store) {
    let (anna, ws) = store.setup(&owner(), NOW).await.unwrap();
    assert!(matches!(
        store.set_member_role(ws.id, anna.id, Role::Manager).await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store.remove_member(ws.id, anna.id).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store
            .membership(ws.id, anna.id)
            .await
            .unwrap()
            .unwrap()
            .role,
        Role::Owner
    );
    assert!(matches!(
        store.remove_member(ws.id, 999).await,
        Err(StoreError::NotFound)
    ));
}

async fn sessions_tokens_and_resets(store: Store) {
    let (anna, _) = store.setup(&owner(), NOW).await.unwrap();
    store
        .create_session("s1", anna.id, true, NOW, NOW + 100)
        .await
        .unwrap();
    assert!(store.session("s1", NOW).await.unwrap().unwrap().mfa_pending);
    store.complete_mfa("s1").await.unwrap();
    assert!(!store.session("s1", NOW).await.unwrap().unwrap().mfa_pending);
    assert!(
        store.session("s1", NOW + 100).await.unwrap().is_none(),
        "expired"
    );
    let (s, u) = store.session_user("s1", NOW).await.unwrap().unwrap();
    assert_eq!(
        (s.user_id, s.mfa_pending, s.expires_at),
        (anna.id, false, NOW + 100)
    );
    assert_eq!((u.id, u.email.as_str()), (anna.id, anna.email.as_str()));
    assert!(store.session_user("s1", NOW + 100).await.unwrap().is_none());
    assert!(store.session_user("s2", NOW).await.unwrap().is_none());

    let t = store
        .create_api_token(anna.id, "script", "th", NOW)
        .await
        .unwrap();
    assert_eq!(
        store
            .user_by_api_token("th", NOW)
            .await
            .unwrap()
            .unwrap()
            .id,
        anna.id
    );
    assert!(
        store
            .user_by_api_token("nope", NOW)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        store.revoke_api_token(anna.id + 1, t.id).await,
        Err(StoreError::NotFound)
    ));
    store.revoke_api_token(anna.id, t.id).await.unwrap();
    assert!(store.user_by_api_token("th", NOW).await.unwrap().is_none());

    store
        .create_password_reset("r1", anna.id, NOW, NOW + 100)
        .await
        .unwrap();
    assert_eq!(
        store
            .use_password_reset("r1", "newhash", NOW + 1)
            .await
            .unwrap(),
        anna.id
    );
    assert_eq!(store.user(anna.id).await.unwrap().password_hash, "newhash");
    assert!(
        store.session("s1", NOW).await.unwrap().is_none(),
        "reset ends sessions"
    );
    assert!(matches!(
        store.use_password_reset("r1", "again", NOW + 2).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.user(anna.id).await.unwrap().password_hash, "newhash");
}

async fn audit_is_scoped(store: Store) {
    let (anna, ws) = store.setup(&owner(), NOW).await.unwrap();
    let other = store
        .create_workspace("B", "UTC", anna.id, NOW)
        .await
        .unwrap();
    store
        .audit(
            Some(ws.id),
            Some(anna.id),
            "workspace.updated",
            &json!({"name": "X"}),
            NOW,
        )
        .await
        .unwrap();
    store
        .audit(
            Some(other.id),
            Some(anna.id),
            "workspace.updated",
            &json!({}),
            NOW,
        )
        .await
        .unwrap();
    store
        .audit(None, Some(anna.id), "token.created", &json!({}), NOW)
        .await
        .unwrap();
    let a = store.audit_for_workspace(ws.id, None, 50).await.unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].user_name.as_deref(), Some("Anna de Vries"));
    assert_eq!(store.audit_for_user(anna.id, 50).await.unwrap().len(), 1);
}

async fn channels_are_polled_when_due_and_claimed_once(store: Store) {
    use dialoog_store::SyncRecord;
    let (_, ws) = store.setup(&owner(), NOW).await.unwrap();
    let a = store
        .create_channel(ws.id, "rss", "A", b"x", NOW)
        .await
        .unwrap();
    let b = store
        .create_channel(ws.id, "mastodon", "B", b"x", NOW)
        .await
        .unwrap();
    let c = store
        .create_channel(ws.id, "mastodon", "C", b"x", NOW)
        .await
        .unwrap();
    // New channels are due at once; a claim holds them until its lease ends.
    let lease = NOW + 60_000;
    let mut first: Vec<i64> = store
        .claim_due_channels(NOW, lease, 10)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    first.sort_unstable();
    assert_eq!(first, [a.id, b.id, c.id]);
    assert!(
        store
            .claim_due_channels(NOW + 1, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // A sync records the next time; a channel needing a reconnect waits for a person.
    let ok = SyncRecord {
        status: "ok",
        reason: "",
        cursor: Some("c1"),
        now: NOW,
        next_sync_at: Some(NOW + 120_000),
    };
    store.record_sync(a.id, &ok).await.unwrap();
    let lost = SyncRecord {
        status: "needs_reconnect",
        reason: "token revoked",
        cursor: None,
        now: NOW,
        next_sync_at: None,
    };
    store.record_sync(b.id, &lost).await.unwrap();
    let failing = SyncRecord {
        status: "failing",
        reason: "503",
        cursor: None,
        now: NOW,
        next_sync_at: Some(NOW + 300_000),
    };
    store.record_sync(c.id, &failing).await.unwrap();
    let at = |t: i64| {
        let store = store.clone();
        async move {
            store
                .claim_due_channels(t, t + 60_000, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|c| (c.id, c.cursor))
                .collect::<std::collections::BTreeMap<_, _>>()
                .into_iter()
                .collect::<Vec<_>>()
        }
    };
    assert!(at(NOW + 119_999).await.is_empty());
    assert_eq!(at(NOW + 120_000).await, [(a.id, "c1".to_owned())]);
    assert_eq!(
        at(NOW + 400_000)
            .await
            .iter()
            .map(|x| x.0)
            .collect::<Vec<_>>(),
        [a.id, c.id]
    );
    let c_now = store.channel(ws.id, c.id).await.unwrap();
    assert_eq!(
        (c_now.status.as_str(), c_now.status_reason.as_str()),
        ("failing", "503")
    );
    // Claims at the same moment from two processes never share a channel.
    store
        .record_sync(
            a.id,
            &SyncRecord {
                next_sync_at: Some(NOW),
                ..ok
            },
        )
        .await
        .unwrap();
    store
        .record_sync(
            c.id,
            &SyncRecord {
                next_sync_at: Some(NOW),
                ..failing
            },
        )
        .await
        .unwrap();
    let t = NOW + 1_000_000;
    let (x, y) = tokio::join!(
        store.claim_due_channels(t, t + 60_000, 1),
        store.claim_due_channels(t, t + 60_000, 1)
    );
    let mut ids: Vec<i64> = x
        .unwrap()
        .iter()
        .chain(y.unwrap().iter())
        .map(|c| c.id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let total = ids.len();
    let again = store.claim_due_channels(t, t + 60_000, 10).await.unwrap();
    assert_eq!(
        total + again.len(),
        2,
        "each due channel claimed exactly once"
    );
    for ch in again {
        assert!(!ids.contains(&ch.id));
    }
}

dialoog_store::both_backends!(
    channels_are_polled_when_due_and_claimed_once,
    setup_happens_once,
    workspaces_are_separate,
    invites_are_single_use_and_expire,
    last_owner_stays,
    sessions_tokens_and_resets,
    audit_is_scoped,
);
