//! The dispatcher against a loopback network, on SQLite and PostgreSQL:
//! every target goes out once and on time, a process that dies at any
//! point leaves nothing lost and nothing doubled, and every failure says
//! why.

use crate::support::{FakeNetwork, Mode, World, cipher, config, lease_ms, now};
use dialoog_engine::dispatcher::dispatch_once;
use dialoog_networks::Connector;
use dialoog_store::{Outcome, Store, StoreError};

/// A process that starts a round at `at`, reaches the network (which takes
/// the post and never answers) and dies before it hears back.
async fn die_mid_publish(w: &World, net: &FakeNetwork, at: i64, calls_before: usize) {
    net.set(Mode::Hang);
    let store = w.store.clone();
    let dying = tokio::spawn(async move { dispatch_once(&store, &cipher(), &config(), at).await });
    net.wait_for(calls_before + 1).await;
    dying.abort();
    let _ = dying.await;
    net.set(Mode::Accept);
}

async fn due_posts_go_out_once_and_on_time(store: Store) {
    let w = World::new(store).await;
    let net = FakeNetwork::start().await;
    let a = w.channel(&net.mastodon(), "@bakkerij").await;
    let b = w.channel(&net.wordpress(), "Blog").await;
    let t0 = now();
    let soon = w.post("Vers brood", &[a, b], None).await;
    let later = w.post("Taart", &[a], Some(t0 + 60_000)).await;

    let done = dispatch_once(&w.store, &cipher(), &config(), t0 + 1000).await;
    assert_eq!(done.len(), 2, "the post due now, on both channels");
    let targets = w.targets(soon).await;
    assert!(
        targets.iter().all(|t| t.state == "published"),
        "{targets:?}"
    );
    let remote = targets[0].remote_id.as_deref().unwrap();
    assert_eq!(
        targets[0].remote_url.as_deref(),
        Some(format!("https://social.example/@bakkerij/{remote}").as_str())
    );
    assert_eq!(w.targets(later).await[0].state, "scheduled");

    // Nothing is claimed twice: another round before the later post's time
    // sends nothing.
    assert!(
        dispatch_once(&w.store, &cipher(), &config(), t0 + 2000)
            .await
            .is_empty()
    );
    assert_eq!(net.calls().len(), 2);

    // At its time, the later post goes.
    let done = dispatch_once(&w.store, &cipher(), &config(), t0 + 60_000).await;
    assert_eq!(done.len(), 1);
    assert_eq!(w.targets(later).await[0].state, "published");
    let texts: Vec<String> = net.calls().into_iter().map(|c| c.text).collect();
    assert_eq!(texts, ["Vers brood", "Vers brood", "Taart"]);
}

async fn a_process_that_dies_after_claiming_is_taken_over(store: Store) {
    let w = World::new(store).await;
    let net = FakeNetwork::start().await;
    let ch = w.channel(&net.wordpress(), "Blog").await;
    let post = w.post("Openingstijden", &[ch], None).await;
    let t0 = now();
    // A process claims the target and dies before calling the network.
    let claimed = w
        .store
        .claim_targets(t0, t0 + lease_ms(), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    // While its lease holds, nobody else takes it.
    assert!(
        dispatch_once(&w.store, &cipher(), &config(), t0 + 1000)
            .await
            .is_empty()
    );
    // After the lease, the next process publishes it: the network was never
    // called, so this is safe even without idempotency keys.
    let done = dispatch_once(&w.store, &cipher(), &config(), t0 + lease_ms() + 1).await;
    assert_eq!(done.len(), 1);
    let t = &w.targets(post).await[0];
    assert_eq!((t.state.as_str(), t.attempts), ("published", 2));
    assert_eq!(net.calls().len(), 1);
}

async fn a_process_that_dies_mid_publish_asks_before_sending_again(store: Store) {
    let w = World::new(store).await;
    let net = FakeNetwork::start().await;
    let ch = w.channel(&net.wordpress(), "Blog").await;
    let post = w.post("Nieuwe winkel", &[ch], None).await;
    let t0 = now();
    // The network takes the post but its answer never comes; the process
    // dies meanwhile.
    die_mid_publish(&w, &net, t0, 0).await;
    let t = &w.targets(post).await[0];
    assert_eq!(t.state, "publishing");
    assert!(
        t.sending_since.is_some(),
        "the call was marked before it was made"
    );

    // WordPress has no idempotency key: the next process does not send it
    // blindly, it asks.
    let done = dispatch_once(&w.store, &cipher(), &config(), t0 + lease_ms() + 1).await;
    assert!(
        matches!(&done[0].outcome, Some(Outcome::Unconfirmed { code, .. }) if code == "interrupted")
    );
    let t = &w.targets(post).await[0];
    assert_eq!(t.state, "unconfirmed");
    assert_eq!(net.calls().len(), 1, "not sent a second time");
    let told = w.store.notifications(w.author, 10).await.unwrap();
    assert_eq!(
        (
            told[0].kind.as_str(),
            told[0].subject_id,
            told[0].detail.as_str()
        ),
        ("post_unconfirmed", post, "Blog")
    );

    // The author looked: it is not there. It goes out once more.
    w.store
        .settle_unconfirmed(w.ws, t.id, None, now())
        .await
        .unwrap();
    let done = dispatch_once(&w.store, &cipher(), &config(), now() + 10).await;
    assert_eq!(done.len(), 1);
    assert_eq!(w.targets(post).await[0].state, "published");
    assert_eq!(net.calls().len(), 2);
    // Settling is for unconfirmed targets only.
    assert!(
        w.store
            .settle_unconfirmed(w.ws, t.id, None, now())
            .await
            .is_err()
    );
}

async fn an_idempotent_network_gets_the_same_key_again(store: Store) {
    let w = World::new(store).await;
    let net = FakeNetwork::start().await;
    let ch = w.channel(&net.mastodon(), "@bakkerij").await;
    let post = w.post("Zondag open", &[ch], None).await;
    let t0 = now();
    die_mid_publish(&w, &net, t0, 0).await;
    let done = dispatch_once(&w.store, &cipher(), &config(), t0 + lease_ms() + 1).await;
    assert!(matches!(done[0].outcome, Some(Outcome::Published { .. })));
    let calls = net.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[0].key, calls[1].key,
        "Mastodon recognises the second as the first"
    );
    assert!(
        calls[0]
            .key
            .as_deref()
            .is_some_and(|k| k.starts_with("key-Zondag open"))
    );
    // Past the time Mastodon remembers keys, it is asked about instead.
    let late = w.post("Te laat", &[ch], None).await;
    let t1 = now();
    die_mid_publish(&w, &net, t1, 2).await;
    let window = i64::try_from(config().resend_window.as_millis()).unwrap();
    dispatch_once(&w.store, &cipher(), &config(), t1 + window + lease_ms()).await;
    assert_eq!(w.targets(late).await[0].state, "unconfirmed");
    assert_eq!(net.calls().len(), 3);
    let _ = post;
}

async fn a_refusal_after_a_lost_answer_keeps_it_perhaps_sent(store: Store) {
    let w = World::new(store).await;
    let net = FakeNetwork::start().await;
    let ch = w.channel(&net.mastodon(), "@bakkerij").await;
    let post = w.post("Pasen", &[ch], None).await;
    let t0 = now();
    die_mid_publish(&w, &net, t0, 0).await;
    // Taken over: sent again with the same key, and refused for now. The
    // refusal is about the second call; the first may have gone through.
    net.set(Mode::Status(429));
    let t1 = t0 + lease_ms() + 1;
    dispatch_once(&w.store, &cipher(), &config(), t1).await;
    let t = &w.targets(post).await[0];
    assert_eq!(t.state, "scheduled");
    assert!(t.sending_since.is_some(), "still perhaps sent: {t:?}");
    // So the author cannot move it meanwhile.
    assert!(matches!(
        w.store
            .reschedule_post(w.ws, post, t1 + 3_600_000, t1)
            .await,
        Err(StoreError::Conflict)
    ));
    // Past the time Mastodon remembers the key, it is asked about, not
    // sent blindly.
    net.set(Mode::Accept);
    let window = i64::try_from(config().resend_window.as_millis()).unwrap();
    dispatch_once(&w.store, &cipher(), &config(), t0 + window + lease_ms()).await;
    assert_eq!(w.targets(post).await[0].state, "unconfirmed");
    assert_eq!(net.calls().len(), 2);
}

async fn attempts_running_out_after_a_lost_answer_ask_instead_of_failing(store: Store) {
    let w = World::new(store).await;
    let net = FakeNetwork::start().await;
    let ch = w.channel(&net.mastodon(), "@bakkerij").await;
    let post = w.post("Koningsdag", &[ch], None).await;
    let t0 = now();
    die_mid_publish(&w, &net, t0, 0).await;
    // The last attempt is refused for now; the first may be out, so the
    // post is not called failed: the author is asked.
    net.set(Mode::Status(503));
    let cfg = dialoog_engine::dispatcher::DispatcherConfig {
        max_attempts: 2,
        ..config()
    };
    dispatch_once(&w.store, &cipher(), &cfg, t0 + lease_ms() + 1).await;
    let t = &w.targets(post).await[0];
    assert_eq!(
        (t.state.as_str(), t.error_code.as_str()),
        ("unconfirmed", "outcome_unknown")
    );
    assert!(t.error.contains("503"), "{}", t.error);
    assert_eq!(
        w.store.notifications(w.author, 10).await.unwrap()[0].kind,
        "post_unconfirmed"
    );
}

async fn a_claim_that_was_taken_over_records_nothing(store: Store) {
    let w = World::new(store).await;
    let net = FakeNetwork::start().await;
    let ch = w.channel(&net.mastodon(), "@bakkerij").await;
    let post = w.post("Hallo", &[ch], None).await;
    let t0 = now();
    let first = w
        .store
        .claim_targets(t0, t0 + 10, 1)
        .await
        .unwrap()
        .remove(0);
    let second = w
        .store
        .claim_targets(t0 + 11, t0 + 1000, 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(second.target.attempts, first.target.attempts + 1);
    let id = first.target.id;
    assert!(
        !w.store
            .mark_sending(id, first.target.attempts, t0)
            .await
            .unwrap()
    );
    let published = Outcome::Published {
        remote_id: "9".into(),
        url: None,
    };
    assert!(
        !w.store
            .finish_attempt(id, first.target.attempts, &published, t0)
            .await
            .unwrap()
    );
    assert!(
        w.store
            .mark_sending(id, second.target.attempts, t0)
            .await
            .unwrap()
    );
    assert!(
        w.store
            .finish_attempt(id, second.target.attempts, &published, t0)
            .await
            .unwrap()
    );
    assert_eq!(w.targets(post).await[0].state, "published");
}

async fn temporary_refusals_wait_and_then_fail_with_the_reason(store: Store) {
    let w = World::new(store).await;
    let net = FakeNetwork::start().await;
    let ch = w.channel(&net.mastodon(), "@bakkerij").await;
    let post = w.post("Later", &[ch], None).await;
    net.set(Mode::Status(429));
    let mut t = now();
    let max = config().max_attempts;
    for attempt in 1..=max {
        let done = dispatch_once(&w.store, &cipher(), &config(), t).await;
        assert_eq!(done.len(), 1, "attempt {attempt}");
        let target = &w.targets(post).await[0];
        if attempt < max {
            assert_eq!(
                (target.state.as_str(), target.error_code.as_str()),
                ("scheduled", "retrying")
            );
            let due = target.due_at.unwrap();
            // Never sooner than the network's Retry-After (120 s).
            assert!(due >= t + 120_000, "attempt {attempt}: due {due}, now {t}");
            // Not before its time.
            assert!(
                dispatch_once(&w.store, &cipher(), &config(), due - 1000)
                    .await
                    .is_empty()
            );
            t = due;
        } else {
            assert_eq!(
                (target.state.as_str(), target.error_code.as_str()),
                ("failed", "retries_exhausted")
            );
            assert!(
                target.error.contains("429") || target.error.contains("rate"),
                "{}",
                target.error
            );
        }
    }
    assert_eq!(net.calls().len(), usize::try_from(max).unwrap());
    assert_eq!(
        w.store.notifications(w.author, 10).await.unwrap()[0].kind,
        "post_failed"
    );
}

async fn one_failing_channel_leaves_the_others_alone(store: Store) {
    let w = World::new(store).await;
    let good = FakeNetwork::start().await;
    let bad = FakeNetwork::start().await;
    bad.set(Mode::Status(422));
    let revoked = FakeNetwork::start().await;
    revoked.set(Mode::Status(401));
    let a = w.channel(&good.mastodon(), "@goed").await;
    let b = w.channel(&bad.mastodon(), "@fout").await;
    let c = w.channel(&revoked.mastodon(), "@ingetrokken").await;
    let d = w.channel(&good.wordpress(), "Weg").await;
    let post = w.post("Voor iedereen", &[a, b, c, d], None).await;
    w.store.delete_channel(w.ws, d).await.unwrap();
    dispatch_once(&w.store, &cipher(), &config(), now()).await;
    let states: Vec<(String, String)> = w
        .targets(post)
        .await
        .into_iter()
        .map(|t| (t.state, t.error_code))
        .collect();
    assert_eq!(
        states,
        [
            ("published".into(), String::new()),
            ("failed".into(), "rejected".into()),
            ("failed".into(), "needs_reconnect".into()),
            ("failed".into(), "channel_disconnected".into()),
        ]
    );
    let targets = w.targets(post).await;
    assert!(
        targets[1].error.contains("Nee, vandaag niet"),
        "the network's words: {}",
        targets[1].error
    );
    let ch = w.store.channel(w.ws, c).await.unwrap();
    assert_eq!(ch.status, "needs_reconnect");
    // A later post to the channel that must be reconnected fails before
    // anything is sent.
    let next = w.post("Nog een", &[c], None).await;
    dispatch_once(&w.store, &cipher(), &config(), now()).await;
    assert_eq!(w.targets(next).await[0].error_code, "needs_reconnect");
    assert_eq!(revoked.calls().len(), 1);
}

async fn text_over_the_limit_is_refused_before_sending(store: Store) {
    let w = World::new(store).await;
    let net = FakeNetwork::start().await;
    let ch = w.channel(&net.mastodon(), "@bakkerij").await;
    let rules = net.mastodon().connector().unwrap().rules();
    let long = "a".repeat(rules.max_length.unwrap() + 1);
    let post = w.post(&long, &[ch], None).await;
    dispatch_once(&w.store, &cipher(), &config(), now()).await;
    let t = &w.targets(post).await[0];
    assert_eq!(
        (t.state.as_str(), t.error_code.as_str(), t.error.as_str()),
        ("failed", "too_long", "501 / 500")
    );
    assert!(net.calls().is_empty());
}

dialoog_store::both_backends!(
    due_posts_go_out_once_and_on_time,
    a_process_that_dies_after_claiming_is_taken_over,
    a_process_that_dies_mid_publish_asks_before_sending_again,
    an_idempotent_network_gets_the_same_key_again,
    a_refusal_after_a_lost_answer_keeps_it_perhaps_sent,
    attempts_running_out_after_a_lost_answer_ask_instead_of_failing,
    a_claim_that_was_taken_over_records_nothing,
    temporary_refusals_wait_and_then_fail_with_the_reason,
    one_failing_channel_leaves_the_others_alone,
    text_over_the_limit_is_refused_before_sending,
);

/// Two dispatcher processes (two connection pools) on one PostgreSQL
/// database share 300 due targets: each goes out exactly once.
#[tokio::test]
async fn two_dispatchers_on_one_postgres_never_publish_twice() {
    let Some(db) = dialoog_store::testing::TestDb::postgres().await else {
        return;
    };
    let w = World::new(db.store.clone()).await;
    let net = FakeNetwork::start().await;
    let a = w.channel(&net.mastodon(), "@een").await;
    let b = w.channel(&net.wordpress(), "Twee").await;
    let c = w.channel(&net.mastodon(), "@drie").await;
    let mut posts = vec![];
    for n in 0..100 {
        posts.push(w.post(&format!("Post {n}"), &[a, b, c], None).await);
    }
    let other = Store::connect(&db.url).await.unwrap();
    let run = |store: Store| async move {
        let cfg = dialoog_engine::dispatcher::DispatcherConfig {
            batch: 7,
            concurrency: 4,
            ..config()
        };
        let mut n = 0;
        for _ in 0..200 {
            let done = dispatch_once(&store, &cipher(), &cfg, now()).await.len();
            n += done;
            if done == 0 {
                break;
            }
        }
        n
    };
    let (x, y) = tokio::join!(run(w.store.clone()), run(other));
    assert_eq!(x + y, 300, "every target once ({x} + {y})");
    let mut texts: Vec<String> = net.calls().into_iter().map(|c| c.text).collect();
    texts.sort();
    let before = texts.len();
    texts.dedup();
    assert_eq!(before, 300);
    assert_eq!(
        texts.len(),
        100,
        "each post's text at most three times, once per channel"
    );
    for p in posts {
        assert!(
            w.targets(p)
                .await
                .iter()
                .all(|t| t.state == "published" && t.attempts == 1)
        );
    }
}
