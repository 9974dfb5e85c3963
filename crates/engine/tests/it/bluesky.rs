//! The dispatcher publishing to a real Bluesky PDS through a proxy that
//! rate-limits, fails and loses answers on purpose, on SQLite and
//! PostgreSQL: every post reaches the account exactly once (counted on the
//! PDS), never before the rate limit resets, and what cannot be done says
//! why in plain words. One PDS serves every case; each case has accounts
//! of its own, so its posts can be counted.

use crate::support::{World, cipher, config, lease_ms, now};
use dialoog_engine::Credentials;
use dialoog_engine::dispatcher::{DispatcherConfig, dispatch_once};
use dialoog_networks::testing::{BlueskyPeer, Fault, FaultProxy};
use dialoog_store::{NewPost, NewTarget, Outcome, PostExtras, Store, StoreError, Target};
use serde_json::Value;
use std::time::{Duration, Instant};

const CREATE: &str = "com.atproto.repo.createRecord";
const UPLOAD: &str = "com.atproto.repo.uploadBlob";
const GET: &str = "com.atproto.repo.getRecord";
const POSTS: &str = "app.bsky.feed.post";
/// How long the connector waits for an answer in these tests.
const TIMEOUT: Duration = Duration::from_secs(2);

fn cfg() -> DispatcherConfig {
    DispatcherConfig {
        network_timeout: Some(TIMEOUT),
        ..config()
    }
}

/// The PDS, the proxy in front of it, and the case's backend.
struct Net {
    peer: BlueskyPeer,
    proxy: FaultProxy,
    /// Makes handles unique across backends on the one PDS.
    tag: &'static str,
}

/// An account on the PDS.
struct Account {
    did: String,
}

impl Net {
    /// A new account and a channel to it, through the proxy or straight to
    /// the PDS.
    async fn channel(&self, w: &World, name: &str, through_proxy: bool) -> (i64, Account) {
        let handle = format!("{name}{}.test", self.tag);
        let account = self
            .peer
            .create_account(&handle, "lang-genoeg-wachtwoord")
            .await;
        let app_password = self.peer.app_password(&account, "Dialoog").await;
        let creds = Credentials::Bluesky {
            service_url: if through_proxy {
                self.proxy.url.clone()
            } else {
                self.peer.url.clone()
            },
            identifier: handle.clone(),
            app_password,
        };
        let ch = w.channel(&creds, &format!("@{handle}")).await;
        (ch, Account { did: account.did })
    }

    /// The account's posts as the PDS has them.
    async fn posts(&self, a: &Account) -> Vec<Value> {
        self.peer.records(&a.did, POSTS).await
    }
}

async fn round(w: &World, at: i64) -> Vec<Option<Outcome>> {
    dispatch_once(&w.store, &cipher(), &cfg(), at)
        .await
        .into_iter()
        .map(|d| d.outcome)
        .collect()
}

async fn target(w: &World, post: i64) -> Target {
    w.targets(post).await.remove(0)
}

/// The post went out once: the PDS has exactly one post with its text, and
/// the target points at it.
async fn published_once(net: &Net, w: &World, a: &Account, post: i64, text: &str) {
    let t = target(w, post).await;
    assert_eq!(t.state, "published", "{t:?}");
    let posts = net.posts(a).await;
    assert_eq!(posts.len(), 1, "exactly one post on Bluesky: {posts:?}");
    assert_eq!(posts[0]["value"]["text"], text);
    assert_eq!(t.remote_id.as_deref(), posts[0]["uri"].as_str());
    let rkey = t.remote_id.as_deref().unwrap().rsplit('/').next().unwrap();
    assert!(
        t.remote_url
            .as_deref()
            .is_some_and(|u| u.ends_with(&format!("/post/{rkey}"))),
        "{:?}",
        t.remote_url
    );
}

/// 429 with the PDS's rate-limit headers: nothing is sent again before the
/// budget resets, then the post goes out once.
async fn rate_limits_are_waited_out(net: &Net, w: &World) {
    let (ch, a) = net.channel(w, "limiet", true).await;
    let text = "Vers brood om acht uur";
    let post = w.post(text, &[ch], None).await;
    let t0 = now();
    let reset = t0 / 1000 + 600;
    net.proxy.inject(CREATE, Fault::RateLimited { reset }, 2);
    let seen = net.proxy.seen(CREATE);

    assert_eq!(round(w, t0).await.len(), 1);
    let t = target(w, post).await;
    assert_eq!(
        (t.state.as_str(), t.error_code.as_str()),
        ("scheduled", "retrying")
    );
    assert!(t.error.contains("429"), "{}", t.error);
    let due = t.due_at.unwrap();
    assert!(
        due >= reset * 1000,
        "not before the reset: due {due}, reset {reset}"
    );
    assert!(
        round(w, due - 1000).await.is_empty(),
        "nothing before its time"
    );

    // Limited once more: waits again, longer than before.
    assert_eq!(round(w, due).await.len(), 1);
    let t = target(w, post).await;
    assert_eq!(t.error_code, "retrying");
    let due2 = t.due_at.unwrap();
    assert!(due2 >= due + 60_000, "backs off: {due2} after {due}");
    assert!(net.posts(&a).await.is_empty());

    assert!(matches!(
        round(w, due2).await[..],
        [Some(Outcome::Published { .. })]
    ));
    published_once(net, w, &a, post, text).await;
    assert_eq!(net.proxy.seen(CREATE) - seen, 3);
}

/// A gateway error (the post may have been taken) and the service's own
/// 503: retried, and out once.
async fn server_errors_are_retried(net: &Net, w: &World) {
    let (ch, a) = net.channel(w, "storing", true).await;
    let text = "Vandaag appeltaart";
    let post = w.post(text, &[ch], None).await;
    net.proxy.inject(CREATE, Fault::Status(502), 1);
    net.proxy.inject(
        CREATE,
        Fault::Said(
            503,
            "NotEnoughResources",
            "Server is druk, probeer het later",
        ),
        1,
    );
    let t0 = now();

    assert_eq!(round(w, t0).await.len(), 1);
    let t = target(w, post).await;
    assert_eq!(t.state, "scheduled");
    assert!(t.error.contains("502"), "{}", t.error);
    let first_call = t.sending_since;
    assert!(first_call.is_some(), "a 502 may hide a post that was taken");

    let due = t.due_at.unwrap();
    assert!(round(w, due - 1000).await.is_empty());
    assert_eq!(round(w, due).await.len(), 1);
    let t = target(w, post).await;
    assert_eq!(t.state, "scheduled");
    assert!(
        t.error.contains("Server is druk"),
        "the service's words: {}",
        t.error
    );
    assert_eq!(
        t.sending_since, first_call,
        "the first call may still have reached Bluesky"
    );
    assert!(net.posts(&a).await.is_empty());

    assert_eq!(round(w, t.due_at.unwrap()).await.len(), 1);
    published_once(net, w, &a, post, text).await;
}

/// The post is taken but the answer never comes: the connector times out,
/// and the next attempt finds the post by its record key instead of
/// posting it again.
async fn a_lost_answer_is_found_again(net: &Net, w: &World) {
    let (ch, a) = net.channel(w, "verloren", true).await;
    let text = "Zaterdag open tot vijf";
    let post = w.post(text, &[ch], None).await;
    net.proxy.inject(CREATE, Fault::LoseAnswer, 1);
    let creates = net.proxy.seen(CREATE);
    let t0 = now();

    let started = Instant::now();
    assert_eq!(round(w, t0).await.len(), 1);
    assert!(started.elapsed() < TIMEOUT * 3, "{:?}", started.elapsed());
    let t = target(w, post).await;
    assert_eq!(
        (t.state.as_str(), t.error_code.as_str()),
        ("scheduled", "resending"),
        "{t:?}"
    );
    assert!(t.error.contains("did not confirm"), "{}", t.error);
    assert!(t.sending_since.is_some());
    assert_eq!(net.posts(&a).await.len(), 1, "Bluesky did take it");

    let due = t.due_at.unwrap();
    assert!(round(w, due - 1000).await.is_empty());
    assert!(matches!(
        round(w, due).await[..],
        [Some(Outcome::Published { .. })]
    ));
    published_once(net, w, &a, post, text).await;
    assert_eq!(net.proxy.seen(CREATE) - creates, 1, "not posted again");
}

/// The request reaches Bluesky only after the connector gave up, and
/// lands after the next attempt posted it: still one post.
async fn a_late_request_does_not_double(net: &Net, w: &World) {
    let (ch, a) = net.channel(w, "traag", true).await;
    let text = "Nieuwe openingstijden";
    let post = w.post(text, &[ch], None).await;
    let answered = net.proxy.forwarded(CREATE);
    net.proxy.inject(
        CREATE,
        Fault::Delay(TIMEOUT + Duration::from_millis(1500)),
        1,
    );

    assert_eq!(round(w, now()).await.len(), 1);
    let t = target(w, post).await;
    assert_eq!(t.error_code, "resending", "{t:?}");
    // The next attempt goes before the late request lands.
    round(w, t.due_at.unwrap()).await;
    for _ in 0..100 {
        if net.proxy.forwarded(CREATE) >= answered + 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        net.proxy.forwarded(CREATE),
        answered + 2,
        "the late request arrived"
    );
    published_once(net, w, &a, post, text).await;
}

/// The answer breaks off after Bluesky took the post, and the look-up on
/// the next attempt is rate-limited: the post still counts as perhaps
/// sent, so it cannot be moved (which would give it another record key and
/// a second post), and it goes out once.
async fn a_broken_answer_keeps_the_post_as_perhaps_sent(net: &Net, w: &World) {
    let (ch, a) = net.channel(w, "afgebroken", true).await;
    let text = "Koffie gratis bij elk gebak";
    let post = w.post(text, &[ch], None).await;
    net.proxy.inject(CREATE, Fault::CutAnswer, 1);
    let creates = net.proxy.seen(CREATE);
    let t0 = now();

    assert_eq!(round(w, t0).await.len(), 1);
    let t = target(w, post).await;
    assert_eq!(net.posts(&a).await.len(), 1, "Bluesky did take it");
    assert_eq!(t.error_code, "resending", "{t:?}");
    assert!(t.sending_since.is_some());

    net.proxy.inject(
        GET,
        Fault::RateLimited {
            reset: now() / 1000 + 120,
        },
        1,
    );
    let due = t.due_at.unwrap();
    assert_eq!(round(w, due).await.len(), 1);
    let t = target(w, post).await;
    assert_eq!(t.state, "scheduled");
    assert!(t.error.contains("429"), "{}", t.error);
    assert!(t.sending_since.is_some(), "still perhaps sent: {t:?}");

    // The author moves the post to later: refused while it may be out.
    let moved = w
        .store
        .reschedule_post(w.ws, post, t.due_at.unwrap() + 3_600_000, now())
        .await;
    assert!(matches!(moved, Err(StoreError::Conflict)), "{moved:?}");
    round(w, t.due_at.unwrap()).await;
    published_once(net, w, &a, post, text).await;
    assert_eq!(net.proxy.seen(CREATE) - creates, 1, "not posted again");
}

/// An answer lost longer ago than the dispatcher trusts a resend: not sent
/// again, the author is asked, with the reason.
async fn a_lost_answer_found_late_is_not_sent_blindly(net: &Net, w: &World) {
    let (ch, a) = net.channel(w, "telaat", true).await;
    let text = "Kerstbestellingen";
    let post = w.post(text, &[ch], None).await;
    net.proxy.inject(CREATE, Fault::LoseAnswer, 1);
    let creates = net.proxy.seen(CREATE);
    let t0 = now();
    round(w, t0).await;
    assert_eq!(target(w, post).await.error_code, "resending");
    let window = i64::try_from(cfg().resend_window.as_millis()).unwrap();

    let done = round(w, t0 + window + lease_ms()).await;
    assert_eq!(done.len(), 1);
    let t = target(w, post).await;
    assert_eq!(t.state, "unconfirmed", "{t:?}");
    assert!(!t.error_code.is_empty());
    assert_eq!(net.posts(&a).await.len(), 1);
    assert_eq!(net.proxy.seen(CREATE) - creates, 1, "never twice");
    let told = w.store.notifications(w.author, 10).await.unwrap();
    assert!(
        told.iter()
            .any(|n| n.kind == "post_unconfirmed" && n.subject_id == post),
        "{told:?}"
    );
}

/// A post with an image to `ch`, due now.
async fn post_with_image(w: &World, ch: i64, text: &str, alt: &str) -> i64 {
    let image = w
        .store
        .put_media(
            w.ws,
            "png-1x1",
            "image/png",
            BlueskyPeer::PNG_1X1,
            None,
            now(),
        )
        .await
        .unwrap();
    let channel = w.store.channel(w.ws, ch).await.unwrap();
    let new = NewPost {
        workspace_id: w.ws,
        author_id: Some(w.author),
        text: text.to_owned(),
        scheduled_at: None,
        state: "scheduled".into(),
        targets: vec![NewTarget {
            channel_id: ch,
            network: channel.network,
            channel_name: channel.name,
            text: None,
            idempotency_key: format!("key-{text}-{}", now()),
        }],
    };
    let extras = PostExtras {
        media: vec![(image.id, alt.to_owned())],
        ..PostExtras::default()
    };
    w.store
        .create_post_with(&new, &extras, now())
        .await
        .unwrap()
        .0
        .id
}

/// The image upload is rate-limited, then meets a gateway error: nothing
/// was posted, so it is simply tried again, and the post goes out once
/// with its image and alt text.
async fn image_uploads_are_retried(net: &Net, w: &World) {
    let (ch, a) = net.channel(w, "plaatje", true).await;
    let text = "Zo ziet de nieuwe taart eruit";
    let post = post_with_image(w, ch, text, "Een taart met aardbeien").await;
    let reset = now() / 1000 + 300;
    net.proxy.inject(UPLOAD, Fault::RateLimited { reset }, 1);
    net.proxy.inject(UPLOAD, Fault::Status(502), 1);
    let (creates, uploads) = (net.proxy.seen(CREATE), net.proxy.seen(UPLOAD));

    assert_eq!(round(w, now()).await.len(), 1);
    let t = target(w, post).await;
    assert_eq!(t.error_code, "retrying", "{t:?}");
    assert!(t.due_at.unwrap() >= reset * 1000);
    assert_eq!(round(w, t.due_at.unwrap()).await.len(), 1);
    let t = target(w, post).await;
    assert_eq!(t.error_code, "retrying", "{t:?}");
    assert!(t.error.contains("502"), "{}", t.error);
    assert_eq!(net.proxy.seen(CREATE), creates, "no post without its image");

    assert_eq!(round(w, t.due_at.unwrap()).await.len(), 1);
    published_once(net, w, &a, post, text).await;
    let record = &net.posts(&a).await[0]["value"];
    assert_eq!(
        record["embed"]["images"][0]["alt"],
        "Een taart met aardbeien"
    );
    assert_eq!(net.proxy.seen(UPLOAD) - uploads, 3);
}

/// Bluesky keeps failing with 503 on one channel: after the last attempt
/// it fails with the reason in plain words; the other channel of the same
/// post went out at once.
async fn too_many_server_errors_fail_with_the_reason(net: &Net, w: &World) {
    let (bad, a) = net.channel(w, "kapot", true).await;
    let (good, b) = net.channel(w, "heel", false).await;
    let text = "Morgen gesloten";
    let post = w.post(text, &[bad, good], None).await;
    let max = cfg().max_attempts;
    net.proxy
        .inject(CREATE, Fault::Status(503), usize::try_from(max).unwrap());
    let mut at = now();
    for attempt in 1..=max {
        let done = round(w, at).await;
        assert_eq!(
            done.len(),
            if attempt == 1 { 2 } else { 1 },
            "attempt {attempt}"
        );
        let t = target(w, post).await;
        if attempt < max {
            assert_eq!(t.state, "scheduled", "attempt {attempt}: {t:?}");
            at = t.due_at.unwrap();
        } else {
            assert_eq!(
                (t.state.as_str(), t.error_code.as_str()),
                ("failed", "retries_exhausted")
            );
            assert_eq!(t.error, "Bluesky has a problem (503 Service Unavailable)");
        }
    }
    assert_eq!(net.proxy.pending(CREATE), 0);
    assert!(net.posts(&a).await.is_empty());
    let other = w.targets(post).await.remove(1);
    assert_eq!((other.state.as_str(), other.attempts), ("published", 1));
    assert_eq!(net.posts(&b).await.len(), 1);
    let told = w.store.notifications(w.author, 10).await.unwrap();
    assert!(
        told.iter()
            .any(|n| n.kind == "post_failed" && n.subject_id == post && n.detail.contains("kapot")),
        "{told:?}"
    );
}

async fn every_case(net: &Net, store: Store) {
    let w = World::new(store).await;
    rate_limits_are_waited_out(net, &w).await;
    server_errors_are_retried(net, &w).await;
    image_uploads_are_retried(net, &w).await;
    a_lost_answer_is_found_again(net, &w).await;
    a_late_request_does_not_double(net, &w).await;
    a_broken_answer_keeps_the_post_as_perhaps_sent(net, &w).await;
    a_lost_answer_found_late_is_not_sent_blindly(net, &w).await;
    too_many_server_errors_fail_with_the_reason(net, &w).await;
}

/// Every case on SQLite, then on PostgreSQL, against one PDS.
#[tokio::test]
async fn publishing_to_bluesky_through_rate_limits_errors_and_lost_answers() {
    let Some(peer) = BlueskyPeer::start().await else {
        return;
    };
    let proxy = FaultProxy::start(&peer.url).await;
    let mut net = Net {
        peer,
        proxy,
        tag: "s",
    };
    let db = dialoog_store::testing::TestDb::sqlite().await;
    every_case(&net, db.store.clone()).await;
    if let Some(db) = dialoog_store::testing::TestDb::postgres().await {
        net.tag = "p";
        every_case(&net, db.store.clone()).await;
    }
}
