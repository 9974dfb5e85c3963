//! The Bluesky connector's inbox and counts against a whole Bluesky network
//! (`@atproto/dev-env`: PDS, AppView, PLC, Ozone, started per test): a
//! customer's reply, a mention and a quote come in through the
//! notifications, each once, and a like does not; our answer lands in the
//! thread under the customer's reply; the post's counts are the AppView's.

use dialoog_networks::bluesky::BlueskyConnector;
use dialoog_networks::testing::BlueskyNetwork;
use dialoog_networks::{Connector, ItemKind, Metrics, Outgoing, ReplyTo};
use serde_json::Value;
use std::time::Instant;

const PASSWORD: &str = "hunter2-lang-genoeg";

#[tokio::test]
async fn bluesky_network_inbox_threads_and_counts() {
    let started = Instant::now();
    let Some(net) = BlueskyNetwork::start().await else {
        return;
    };
    eprintln!(
        "network up in {:?}: PDS {}, AppView {}",
        started.elapsed(),
        net.url,
        net.appview_url
    );

    let bakkerij = net.create_account("bakkerij.test", PASSWORD).await;
    let klant = net.create_account("klant.test", PASSWORD).await;
    let anna = net.create_account("anna.test", PASSWORD).await;
    let piet = net.create_account("piet.test", PASSWORD).await;
    let sanne = net.create_account("sanne.test", PASSWORD).await;
    let joost = net.create_account("joost.test", PASSWORD).await;
    net.set_display_name(&klant, "Karel de Klant").await;
    let app_password = net.app_password(&bakkerij, "Dialoog").await;
    let c = BlueskyConnector::new(&net.url, "bakkerij.test", &app_password).unwrap();
    assert_eq!(c.check().await.unwrap(), "@bakkerij.test");

    // An earlier mention, read by an earlier sync.
    let earlier = net
        .mention(&anna, "Goedemorgen @bakkerij.test!", &bakkerij)
        .await;
    net.until_notified(&bakkerij, 1).await;
    let first = c.fetch("").await.unwrap();
    let ids: Vec<&str> = first.items.iter().map(|i| i.external_id.as_str()).collect();
    assert_eq!(ids, [earlier.0.as_str()], "{:#?}", first.items);
    assert!(!first.more);

    // Our post, published by the connector; then the world responds.
    let ours = c
        .publish(&Outgoing {
            text: "Vandaag vers: speculaas en appeltaart!".into(),
            language: Some("nl".into()),
            idempotency_key: "post-7-channel-1".into(),
            ..Outgoing::default()
        })
        .await
        .unwrap();
    let post = net.strong_ref(&ours.remote_id).await;
    // The AppView notifies about a reply only once it has the post replied
    // to (it indexes repositories concurrently), as with a real audience.
    let published = Instant::now();
    assert_eq!(net.indexed_post(&post.0).await["cid"], post.1.as_str());
    eprintln!("our post indexed after {:?}", published.elapsed());
    let complaint = net
        .reply(
            &klant,
            "Waarom is mijn bestelling zo laat? Slechte service",
            &post,
            &post,
        )
        .await;
    let mention = net
        .mention(&piet, "De taart van @bakkerij.test is top", &bakkerij)
        .await;
    let quote = net.quote(&sanne, "Moet je zien!", &post).await;
    let like = net.like(&joost, &post).await;
    let written = Instant::now();
    let seen = net.until_notified(&bakkerij, 5).await;
    eprintln!("all notified {:?} after the like", written.elapsed());
    let mut reasons: Vec<&str> = seen.iter().filter_map(|n| n["reason"].as_str()).collect();
    reasons.sort_unstable();
    assert_eq!(reasons, ["like", "mention", "mention", "quote", "reply"]);
    assert!(seen.iter().any(|n| n["uri"] == like.0.as_str()));

    // The next sync, from the earlier one's cursor: the reply, the mention
    // and the quote, each once, and not the like or the earlier mention.
    let second = c.fetch(&first.cursor).await.unwrap();
    assert!(!second.more);
    let mut ids: Vec<&str> = second
        .items
        .iter()
        .map(|i| i.external_id.as_str())
        .collect();
    ids.sort_unstable();
    let mut want = [complaint.0.as_str(), mention.0.as_str(), quote.0.as_str()];
    want.sort_unstable();
    assert_eq!(ids, want, "{:#?}", second.items);
    let item = |uri: &str| second.items.iter().find(|i| i.external_id == uri).unwrap();

    let r = item(&complaint.0);
    assert_eq!(r.kind, ItemKind::Comment);
    assert_eq!(r.text, "Waarom is mijn bestelling zo laat? Slechte service");
    assert_eq!(r.thread_ref.as_deref(), Some(post.0.as_str()));
    assert_eq!(r.in_reply_to.as_deref(), Some(post.0.as_str()));
    assert_eq!(r.author.id, klant.did);
    assert_eq!(r.author.name, "Karel de Klant");
    assert_eq!(r.author.handle.as_deref(), Some("@klant.test"));
    let rkey = complaint.0.rsplit('/').next().unwrap();
    assert_eq!(
        r.url.as_deref(),
        Some(format!("https://bsky.app/profile/klant.test/post/{rkey}").as_str())
    );
    assert!(r.published_at.is_some());

    let m = item(&mention.0);
    assert_eq!(m.kind, ItemKind::Mention);
    assert_eq!(m.text, "De taart van @bakkerij.test is top");
    assert_eq!(
        (
            m.author.id.as_str(),
            m.author.name.as_str(),
            m.author.handle.as_deref()
        ),
        (piet.did.as_str(), "piet.test", Some("@piet.test")),
        "no display name: the handle"
    );
    assert_eq!(m.thread_ref.as_deref(), Some(mention.0.as_str()));
    assert_eq!(m.in_reply_to, None);

    let q = item(&quote.0);
    assert_eq!(q.kind, ItemKind::Mention);
    assert_eq!(q.text, "Moet je zien!");
    assert_eq!(q.author.id, sanne.did);
    assert_eq!(
        q.thread_ref.as_deref(),
        Some(quote.0.as_str()),
        "a quote starts a thread of its own"
    );
    assert_eq!(q.in_reply_to, None);

    // Nothing new: nothing again.
    let third = c.fetch(&second.cursor).await.unwrap();
    assert!(third.items.is_empty(), "{:#?}", third.items);
    assert!(!third.more);

    // Our answer to the customer, under their reply in our post's thread.
    let to = ReplyTo {
        external_id: r.external_id.clone(),
        kind: Some(r.kind),
        author_handle: r.author.handle.clone(),
        thread_ref: r.thread_ref.clone(),
    };
    let answer = c
        .reply(
            &to,
            "Sorry Karel! Je bestelling komt vandaag nog.",
            "reply-complaint-1",
        )
        .await
        .unwrap();
    let under = |t: &Value, uri: &str| -> Vec<Value> {
        t["replies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["post"]["uri"] == uri)
            .cloned()
            .collect()
    };
    let thread = net
        .thread(&post.0, |t| {
            under(t, &complaint.0)
                .first()
                .is_some_and(|c| !under(c, &answer.remote_id).is_empty())
        })
        .await;
    assert_eq!(thread["post"]["uri"], post.0.as_str());
    let theirs = &under(&thread, &complaint.0)[0];
    let mine = &under(theirs, &answer.remote_id)[0]["post"];
    assert_eq!(mine["author"]["did"], bakkerij.did.as_str());
    assert_eq!(
        mine["record"]["text"],
        "Sorry Karel! Je bestelling komt vandaag nog."
    );
    assert_eq!(mine["record"]["reply"]["root"]["uri"], post.0.as_str());
    assert_eq!(mine["record"]["reply"]["root"]["cid"], post.1.as_str());
    assert_eq!(
        mine["record"]["reply"]["parent"]["uri"],
        complaint.0.as_str()
    );
    assert_eq!(
        mine["record"]["reply"]["parent"]["cid"],
        complaint.1.as_str()
    );
    // Our own answer is not in our inbox.
    assert!(c.fetch(&third.cursor).await.unwrap().items.is_empty());

    // The counts, as the AppView keeps them: replies are the direct ones,
    // so our answer counts on the customer's reply, not on our post.
    let theirs_view = net.indexed_post(&complaint.0).await;
    assert_eq!(theirs_view["replyCount"], 1);
    let view = net.indexed_post(&post.0).await;
    eprintln!(
        "AppView counts: likes {} reposts {} replies {} quotes {}",
        view["likeCount"], view["repostCount"], view["replyCount"], view["quoteCount"]
    );
    assert_eq!(
        c.metrics(&ours.remote_id).await.unwrap(),
        Metrics {
            likes: 1,
            shares: 0,
            replies: 1,
            quotes: 1,
        }
    );
    eprintln!("test done in {:?}", started.elapsed());
}

/// A reply whose `createdAt` lies before the previous sync (the author's
/// clock is behind, or the post reached the AppView late): the AppView
/// sorts notifications by `sortAt` = the earlier of `createdAt` and when it
/// indexed it, and reports that as the notification's `indexedAt`.
#[tokio::test]
async fn bluesky_network_backdated_reply() {
    let Some(net) = BlueskyNetwork::start().await else {
        return;
    };
    let bakkerij = net.create_account("bakkerij.test", PASSWORD).await;
    let klant = net.create_account("klant.test", PASSWORD).await;
    let app_password = net.app_password(&bakkerij, "Dialoog").await;
    let c = BlueskyConnector::new(&net.url, "bakkerij.test", &app_password).unwrap();
    let ours = c
        .publish(&Outgoing {
            text: "Open tot 18:00".into(),
            idempotency_key: "post-1".into(),
            ..Outgoing::default()
        })
        .await
        .unwrap();
    let post = net.strong_ref(&ours.remote_id).await;
    net.indexed_post(&post.0).await;
    net.reply(&klant, "Ook op zondag?", &post, &post).await;
    net.until_notified(&bakkerij, 1).await;
    let first = c.fetch("").await.unwrap();
    assert_eq!(first.items.len(), 1);

    // Their clock is 5 minutes behind.
    let five_minutes_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(5);
    let late = net
        .create_record(
            &klant,
            "app.bsky.feed.post",
            serde_json::json!({
                "$type": "app.bsky.feed.post",
                "text": "Hallo? Geen antwoord?",
                "createdAt": five_minutes_ago.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                "reply": {
                    "root": {"uri": post.0, "cid": post.1},
                    "parent": {"uri": post.0, "cid": post.1},
                },
            }),
        )
        .await;
    let seen = net.until_notified(&bakkerij, 2).await;
    eprintln!(
        "notifications: {:?}",
        seen.iter()
            .map(|n| (n["uri"].as_str(), n["indexedAt"].as_str()))
            .collect::<Vec<_>>()
    );
    let second = c.fetch(&first.cursor).await.unwrap();
    let ids: Vec<&str> = second
        .items
        .iter()
        .map(|i| i.external_id.as_str())
        .collect();
    assert_eq!(ids, [late.0.as_str()], "cursor {}", first.cursor);
}
