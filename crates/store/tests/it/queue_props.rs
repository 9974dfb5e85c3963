//! The dispatcher's queue as a state machine: random sequences of claims,
//! sending marks, outcomes (also from attempts whose lease ran out and was
//! taken over), time passing, rescheduling, deleting and settling, checked
//! step by step against a small model of what each should do. On SQLite
//! and (fewer cases) on PostgreSQL.

use dialoog_store::testing::TestDb;
use dialoog_store::{NewOwner, NewPost, NewTarget, Outcome, Store, StoreError};
use proptest::prelude::*;
use std::collections::BTreeMap;

const T0: i64 = 1_790_000_000_000;
const LEASE: i64 = 1000;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Published,
    Retry,
    Resend,
    Failed,
    Unconfirmed,
}

#[derive(Debug, Clone)]
enum Op {
    /// Time passes (ms).
    Advance(i64),
    /// A process claims up to this many.
    Claim(i64),
    /// The n-th claim ever made marks its network call.
    Mark(usize),
    /// The n-th claim ever made records an outcome (due offset for retries).
    Finish(usize, Kind, i64),
    /// A post moves (offset from now).
    Reschedule(usize, i64),
    /// A post is deleted.
    Delete(usize),
    /// A person settles a target: found on the network or not.
    Settle(usize, bool),
}

fn op() -> impl Strategy<Value = Op> {
    let kind = prop_oneof![
        Just(Kind::Published),
        Just(Kind::Retry),
        Just(Kind::Resend),
        Just(Kind::Failed),
        Just(Kind::Unconfirmed),
    ];
    prop_oneof![
        3 => (0i64..2500).prop_map(Op::Advance),
        4 => (1i64..5).prop_map(Op::Claim),
        3 => any::<usize>().prop_map(Op::Mark),
        5 => (any::<usize>(), kind, -200i64..2000).prop_map(|(i, k, d)| Op::Finish(i, k, d)),
        1 => (any::<usize>(), -500i64..3000).prop_map(|(p, d)| Op::Reschedule(p, d)),
        1 => any::<usize>().prop_map(Op::Delete),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(t, f)| Op::Settle(t, f)),
    ]
}

/// What the model knows of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
struct M {
    state: &'static str,
    due: Option<i64>,
    lease: Option<i64>,
    attempts: i64,
    sending: Option<i64>,
    remote: Option<String>,
}

struct Model {
    now: i64,
    /// Post id → its targets (id → model), in id order.
    posts: BTreeMap<i64, BTreeMap<i64, M>>,
    /// Every claim made: (target, attempt).
    claims: Vec<(i64, i64)>,
    told: usize,
}

impl Model {
    fn target(&mut self, id: i64) -> Option<&mut M> {
        self.posts.values_mut().find_map(|ts| ts.get_mut(&id))
    }

    fn claim(&mut self, limit: i64) -> Vec<(i64, i64)> {
        let now = self.now;
        let mut picked: Vec<i64> = vec![];
        for (state, key) in [
            ("publishing", (|m: &M| m.lease) as fn(&M) -> Option<i64>),
            ("scheduled", |m: &M| m.due),
        ] {
            let mut due: Vec<(i64, i64)> = self
                .posts
                .values()
                .flat_map(|ts| ts.iter())
                .filter(|(_, m)| m.state == state && key(m).is_some_and(|k| k <= now))
                .map(|(id, m)| (key(m).unwrap_or(0), *id))
                .collect();
            due.sort_unstable();
            let left = usize::try_from(limit).unwrap() - picked.len();
            picked.extend(due.into_iter().take(left).map(|(_, id)| id));
        }
        let mut out = vec![];
        for id in picked {
            let m = self.target(id).unwrap();
            m.state = "publishing";
            m.lease = Some(now + LEASE);
            m.attempts += 1;
            out.push((id, m.attempts));
        }
        self.claims.extend(out.iter().copied());
        out
    }

    /// The attempt still holds its claim.
    fn fenced(&mut self, id: i64, attempt: i64) -> Option<&mut M> {
        self.target(id)
            .filter(|m| m.attempts == attempt && m.state == "publishing")
    }
}

async fn world(store: &Store) -> (i64, Vec<i64>) {
    let (_, ws) = store
        .setup(
            &NewOwner {
                organisation: "Bakkerij",
                name: "Eva",
                email: "eva@bakkerij.example",
                password_hash: "x",
                locale: "nl",
                timezone: "UTC",
            },
            T0,
        )
        .await
        .unwrap();
    let mut channels = vec![];
    for name in ["a", "b", "c"] {
        channels.push(
            store
                .create_channel(ws.id, "mastodon", name, b"sealed", T0)
                .await
                .unwrap()
                .id,
        );
    }
    (ws.id, channels)
}

/// Reads every target the model holds and compares; deleted posts must
/// be gone.
async fn agree(store: &Store, ws: i64, model: &Model, deleted: &[i64], step: &str) {
    for (post, targets) in &model.posts {
        let (_, stored) = store.post(ws, *post).await.unwrap();
        let got: BTreeMap<i64, M> = stored
            .into_iter()
            .map(|t| {
                let state = [
                    "scheduled",
                    "publishing",
                    "published",
                    "failed",
                    "unconfirmed",
                ]
                .into_iter()
                .find(|s| *s == t.state)
                .unwrap_or("?");
                (
                    t.id,
                    M {
                        state,
                        due: t.due_at,
                        lease: t.lease_until,
                        attempts: t.attempts,
                        sending: t.sending_since,
                        remote: t.remote_id,
                    },
                )
            })
            .collect();
        assert_eq!(&got, targets, "post {post} after {step}");
    }
    for post in deleted {
        assert!(matches!(
            store.post(ws, *post).await,
            Err(StoreError::NotFound)
        ));
    }
}

async fn run(store: Store, posts: Vec<(i64, usize)>, ops: Vec<Op>) {
    let (ws, channels) = world(&store).await;
    let mut model = Model {
        now: T0,
        posts: BTreeMap::new(),
        claims: vec![],
        told: 0,
    };
    for (n, (offset, count)) in posts.iter().enumerate() {
        let targets = channels[..*count]
            .iter()
            .map(|ch| NewTarget {
                channel_id: *ch,
                network: "mastodon".into(),
                channel_name: format!("ch{ch}"),
                text: None,
                idempotency_key: format!("k{n}-{ch}"),
            })
            .collect();
        let (post, stored) = store
            .create_post(
                &NewPost {
                    workspace_id: ws,
                    author_id: Some(1),
                    text: format!("Post {n}"),
                    scheduled_at: Some(T0 + offset),
                    state: "scheduled".into(),
                    targets,
                },
                T0,
            )
            .await
            .unwrap();
        model.posts.insert(
            post.id,
            stored
                .iter()
                .map(|t| {
                    (
                        t.id,
                        M {
                            state: "scheduled",
                            due: Some(T0 + offset),
                            lease: None,
                            attempts: 0,
                            sending: None,
                            remote: None,
                        },
                    )
                })
                .collect(),
        );
    }
    let mut deleted = vec![];
    let mut published_ever: Vec<i64> = vec![];
    for (step, op) in ops.iter().enumerate() {
        let now = model.now;
        let label = format!("step {step}: {op:?}");
        match op {
            Op::Advance(ms) => model.now += ms,
            Op::Claim(limit) => {
                let mut want = model.claim(*limit);
                let mut got: Vec<(i64, i64)> = store
                    .claim_targets(now, now + LEASE, *limit)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|c| (c.target.id, c.target.attempts))
                    .collect();
                for (id, _) in &got {
                    assert!(
                        !published_ever.contains(id),
                        "{label}: a published target was claimed again"
                    );
                }
                got.sort_unstable();
                want.sort_unstable();
                assert_eq!(got, want, "{label}");
            }
            Op::Mark(i) => {
                let Some(&(id, attempt)) = model.claims.get(i % model.claims.len().max(1)) else {
                    continue;
                };
                let want = model.fenced(id, attempt).map(|m| {
                    m.sending.get_or_insert(now);
                });
                let got = store.mark_sending(id, attempt, now).await.unwrap();
                assert_eq!(got, want.is_some(), "{label}");
            }
            Op::Finish(i, kind, off) => {
                let Some(&(id, attempt)) = model.claims.get(i % model.claims.len().max(1)) else {
                    continue;
                };
                let outcome = match kind {
                    Kind::Published => Outcome::Published {
                        remote_id: format!("r{id}-{attempt}"),
                        url: None,
                    },
                    Kind::Retry => Outcome::Retry {
                        due_at: now + off,
                        error: "busy".into(),
                    },
                    Kind::Resend => Outcome::Resend {
                        due_at: now + off,
                        error: "lost".into(),
                    },
                    Kind::Failed => Outcome::Failed {
                        code: "rejected".into(),
                        error: "no".into(),
                    },
                    Kind::Unconfirmed => Outcome::Unconfirmed {
                        code: "outcome_unknown".into(),
                        error: "?".into(),
                    },
                };
                let mut tell = false;
                let want = model.fenced(id, attempt).map(|m| {
                    m.lease = None;
                    match kind {
                        Kind::Published => {
                            m.state = "published";
                            m.remote = Some(format!("r{id}-{attempt}"));
                        }
                        Kind::Retry => {
                            m.state = "scheduled";
                            m.due = Some(now + off);
                            m.sending = None;
                        }
                        Kind::Resend => {
                            m.state = "scheduled";
                            m.due = Some(now + off);
                        }
                        Kind::Failed => {
                            m.state = "failed";
                            tell = true;
                        }
                        Kind::Unconfirmed => {
                            m.state = "unconfirmed";
                            tell = true;
                        }
                    }
                });
                if want.is_some() && matches!(kind, Kind::Published) {
                    published_ever.push(id);
                }
                model.told += usize::from(tell);
                let got = store
                    .finish_attempt(id, attempt, &outcome, now)
                    .await
                    .unwrap();
                assert_eq!(
                    got,
                    want.is_some(),
                    "{label}: a stale attempt never records"
                );
            }
            Op::Reschedule(p, off) => {
                let Some(&post) = model.posts.keys().nth(p % model.posts.len().max(1)) else {
                    continue;
                };
                let editable = |m: &M| m.state == "scheduled" && m.sending.is_none();
                let targets = model.posts.get_mut(&post).unwrap();
                let ok = targets.values().all(editable);
                if ok {
                    for m in targets.values_mut() {
                        m.due = Some(now + off);
                    }
                }
                let got = store.reschedule_post(ws, post, now + off, now).await;
                assert_eq!(
                    got.is_ok(),
                    ok,
                    "{label}: moved only before it started ({got:?})"
                );
            }
            Op::Delete(p) => {
                let Some(&post) = model.posts.keys().nth(p % model.posts.len().max(1)) else {
                    continue;
                };
                let busy = model.posts[&post].values().any(|m| m.state == "publishing");
                let got = store.delete_post(ws, post).await;
                assert_eq!(
                    got.is_ok(),
                    !busy,
                    "{label}: never deleted while publishing ({got:?})"
                );
                if !busy {
                    model.posts.remove(&post);
                    deleted.push(post);
                }
            }
            Op::Settle(t, found) => {
                let ids: Vec<i64> = model
                    .posts
                    .values()
                    .flat_map(|ts| ts.keys().copied())
                    .collect();
                let Some(&id) = ids.get(t % ids.len().max(1)) else {
                    continue;
                };
                let m = model.target(id).unwrap();
                let ok = m.state == "unconfirmed";
                if ok {
                    if *found {
                        m.state = "published";
                        published_ever.push(id);
                    } else {
                        m.state = "scheduled";
                        m.due = Some(now);
                        m.sending = None;
                    }
                }
                let got = store
                    .settle_unconfirmed(ws, id, found.then_some(None), now)
                    .await;
                assert_eq!(got.is_ok(), ok, "{label} ({got:?})");
            }
        }
        agree(&store, ws, &model, &deleted, &label).await;
    }
    // Every failure and every unknown outcome told its author once.
    let told = store.notifications(1, 10_000).await.unwrap();
    assert_eq!(told.len(), model.told);
}

fn posts() -> impl Strategy<Value = Vec<(i64, usize)>> {
    prop::collection::vec((-500i64..3000, 1usize..=3), 1..5)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn the_queue_agrees_with_its_model_on_sqlite(posts in posts(), ops in prop::collection::vec(op(), 1..40)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let db = TestDb::sqlite().await;
            run(db.store.clone(), posts, ops).await;
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, max_shrink_iters: 64, ..ProptestConfig::default() })]
    #[test]
    fn the_queue_agrees_with_its_model_on_postgres(posts in posts(), ops in prop::collection::vec(op(), 1..40)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let Some(db) = TestDb::postgres().await else { return };
            run(db.store.clone(), posts, ops).await;
        });
    }
}
