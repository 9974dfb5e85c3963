//! Queue slots and recurring posts through the API, with a real Mastodon
//! test server as the channel: the next free slot skips taken slots; a
//! series is made as ordinary posts at the same local wall time across the
//! March and October changes in Europe/Amsterdam; stopping a series
//! removes its future occurrences, a new text changes the ones not yet
//! out.

use crate::browser::Browser;
use crate::harness::App;
use dialoog_domain::time::{local, local_instant};
use dialoog_engine::Cipher;
use dialoog_engine::dispatcher::{DispatcherConfig, dispatch_once, now_ms};
use dialoog_networks::testing::MastodonPeer;
use jiff::ToSpan;
use jiff::civil::Weekday;
use reqwest::StatusCode;
use serde_json::{Value, json};

const AMS: &str = "Europe/Amsterdam";

fn wall(rfc: &str) -> String {
    let ms = dialoog_domain::time::parse_rfc3339(rfc, "x").unwrap();
    local(ms, AMS).strftime("%Y-%m-%d %a %H:%M %:z").to_string()
}

pub async fn mastodon_channel(app: &App, owner: &str, peer: &MastodonPeer) -> (i64, String) {
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/channels",
            Some(owner),
            Some(json!({"network": "mastodon", "instance_url": peer.url, "access_token": "ada_token"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    (
        v["id"].as_i64().unwrap(),
        v["name"].as_str().unwrap().to_owned(),
    )
}

async fn queue_story(app: &App, owner: &str, ch: i64) {
    // Bad slots are refused with the reason, and nothing changes.
    let (s, v) = app
        .call(
            "PUT",
            &format!("/api/v1/workspaces/1/channels/{ch}/queue"),
            Some(owner),
            Some(json!({"slots": [{"weekday": 8, "time": "09:00"}, {"weekday": 1, "time": "9 uur"}]})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let codes: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["weekday_invalid", "slot_time_invalid"]);
    // No queue yet: "in the queue" says so.
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/posts",
            Some(owner),
            Some(json!({"text": "Vers brood", "targets": [{"channel_id": ch}], "queue": true})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["code"], "queue_empty");

    // Every day at 09:00 and 15:30.
    let slots: Vec<Value> = (1..=7)
        .flat_map(|d| {
            [
                json!({"weekday": d, "time": "09:00"}),
                json!({"weekday": d, "time": "15:30"}),
            ]
        })
        .collect();
    let (s, v) = app
        .call(
            "PUT",
            &format!("/api/v1/workspaces/1/channels/{ch}/queue"),
            Some(owner),
            Some(json!({ "slots": slots })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["slots"].as_array().unwrap().len(), 14);
    assert_eq!(v["slots"][1], json!({"weekday": 1, "time": "15:30"}));
    let (_, list) = app
        .call("GET", "/api/v1/workspaces/1/queues", Some(owner), None)
        .await;
    assert_eq!(list[0]["slots"].as_array().unwrap().len(), 14);

    // The next free slot, then the one after; a post planned by hand at
    // the third slot makes the queue skip it.
    let (_, next) = app
        .call(
            "GET",
            &format!("/api/v1/workspaces/1/queues/next?channels={ch}"),
            Some(owner),
            None,
        )
        .await;
    let first = next["scheduled_at"].as_str().unwrap().to_owned();
    let mut expected: Vec<String> = vec![];
    let mut at = dialoog_domain::time::parse_rfc3339(&first, "x").unwrap();
    for _ in 0..4 {
        expected.push(dialoog_web_slot_after(at));
        at = dialoog_domain::time::parse_rfc3339(expected.last().unwrap(), "x").unwrap();
    }
    let (s, _) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/posts",
            Some(owner),
            Some(json!({"text": "Met de hand", "targets": [{"channel_id": ch}], "scheduled_at": expected[1]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let mut got = vec![];
    for n in 0..3 {
        let (s, v) = app
            .call(
                "POST",
                "/api/v1/workspaces/1/posts",
                Some(owner),
                Some(json!({"text": format!("Uit de wachtrij {n}"), "targets": [{"channel_id": ch}], "queue": true})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["targets"][0]["state"], "scheduled");
        got.push(v["scheduled_at"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        got,
        [first.clone(), expected[0].clone(), expected[2].clone()]
    );
    for g in &got {
        let w = wall(g);
        assert!(w.contains(" 09:00 ") || w.contains(" 15:30 "), "{w}");
    }
}

/// The slot after `at` in the every-day 09:00/15:30 queue, as RFC 3339.
fn dialoog_web_slot_after(at: i64) -> String {
    let q: Vec<dialoog_domain::schedule::Slot> = (1..=7)
        .flat_map(|d| {
            [
                dialoog_domain::schedule::Slot::parse(d, "09:00").unwrap(),
                dialoog_domain::schedule::Slot::parse(d, "15:30").unwrap(),
            ]
        })
        .collect();
    let ms = dialoog_domain::schedule::slot_instants(&q, AMS, at)
        .next()
        .unwrap();
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

async fn series_story(app: &App, owner: &str, ch: i64) {
    let store = &app.db.store;
    // Bad rules and texts are refused before anything is stored.
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/series",
            Some(owner),
            Some(json!({"text": "x", "channels": [ch], "repeat": "weekly", "weekdays": [], "time": "09:00", "start_date": "2038-01-01"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0]["code"], "weekdays_required");
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/series",
            Some(owner),
            Some(json!({"text": "a".repeat(501), "channels": [ch], "repeat": "weekly", "weekdays": [7], "time": "09:00", "start_date": "2038-01-01"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0]["code"], "too_long_for_channel");
    assert!(store.series_list(1).await.unwrap().is_empty());

    // Sundays at 09:00 and at 02:30 from March 2038: made as posts when
    // the engine tops them up (here with the clock set to 20 March 2038).
    let mut ids = vec![];
    for time in ["09:00", "02:30"] {
        let (s, v) = app
            .call(
                "POST",
                "/api/v1/workspaces/1/series",
                Some(owner),
                Some(json!({"text": format!("Zondag {time}"), "channels": [ch], "repeat": "weekly", "weekdays": [7], "time": time, "start_date": "2038-03-14", "count": 30})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["posts"].as_array().unwrap().len(), 0, "not yet: {v}");
        ids.push(v["id"].as_i64().unwrap());
    }
    let march = local_instant("2038-03-20", "12:00", AMS).unwrap();
    let made = dialoog_engine::series::top_up(store, march).await;
    assert_eq!(made, 16, "eight Sundays each");
    assert_eq!(dialoog_engine::series::top_up(store, march).await, 0);
    let (_, v) = app
        .call(
            "GET",
            &format!("/api/v1/workspaces/1/series/{}", ids[0]),
            Some(owner),
            None,
        )
        .await;
    let times: Vec<String> = v["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| wall(p["scheduled_at"].as_str().unwrap()))
        .collect();
    assert_eq!(
        &times[..3],
        [
            "2038-03-21 Sun 09:00 +01:00",
            "2038-03-28 Sun 09:00 +02:00",
            "2038-04-04 Sun 09:00 +02:00"
        ]
    );
    let (_, v) = app
        .call(
            "GET",
            &format!("/api/v1/workspaces/1/series/{}", ids[1]),
            Some(owner),
            None,
        )
        .await;
    let times: Vec<String> = v["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| wall(p["scheduled_at"].as_str().unwrap()))
        .collect();
    assert_eq!(
        &times[..3],
        [
            "2038-03-21 Sun 02:30 +01:00",
            "2038-03-28 Sun 03:00 +02:00",
            "2038-04-04 Sun 02:30 +02:00"
        ]
    );
    // The occurrences are ordinary posts of the series.
    let post = v["posts"][0]["post_id"].as_i64().unwrap();
    let (_, p) = app
        .call(
            "GET",
            &format!("/api/v1/workspaces/1/posts/{post}"),
            Some(owner),
            None,
        )
        .await;
    assert_eq!(p["series_id"], ids[1]);
    assert_eq!(p["text"], "Zondag 02:30");
    assert_eq!(p["targets"][0]["state"], "scheduled");

    // October 2038 (the clocks go back on the 31st): 02:30 once, in
    // summer time; 09:00 moves to +01:00.
    let october = local_instant("2038-10-20", "12:00", AMS).unwrap();
    dialoog_engine::series::top_up(store, october).await;
    let around = |v: &Value| -> Vec<String> {
        v["posts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| wall(p["scheduled_at"].as_str().unwrap()))
            .filter(|w| w.starts_with("2038-10-31") || w.starts_with("2038-11-07"))
            .collect()
    };
    let (_, v0) = app
        .call(
            "GET",
            &format!("/api/v1/workspaces/1/series/{}", ids[0]),
            Some(owner),
            None,
        )
        .await;
    // Thirty times from 14 March: the count ends it before October.
    assert!(around(&v0).is_empty(), "{v0}");
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/series",
            Some(owner),
            Some(json!({"text": "Herfst", "channels": [ch], "repeat": "weekly", "weekdays": [7], "time": "02:30", "start_date": "2038-10-01", "until_date": "2038-11-30"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let autumn = v["id"].as_i64().unwrap();
    dialoog_engine::series::top_up(store, october).await;
    let (_, v) = app
        .call(
            "GET",
            &format!("/api/v1/workspaces/1/series/{autumn}"),
            Some(owner),
            None,
        )
        .await;
    assert_eq!(
        around(&v),
        ["2038-10-31 Sun 02:30 +02:00", "2038-11-07 Sun 02:30 +01:00"]
    );

    // Monthly on the 31st: the last day of shorter months.
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/series",
            Some(owner),
            Some(json!({"text": "Maandelijks", "channels": [ch], "repeat": "monthly", "month_day": 31, "time": "10:00", "start_date": "2038-01-01"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let monthly = v["id"].as_i64().unwrap();
    dialoog_engine::series::top_up(store, local_instant("2038-02-10", "00:00", AMS).unwrap()).await;
    let (_, v) = app
        .call(
            "GET",
            &format!("/api/v1/workspaces/1/series/{monthly}"),
            Some(owner),
            None,
        )
        .await;
    let times: Vec<String> = v["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| wall(p["scheduled_at"].as_str().unwrap()))
        .collect();
    assert_eq!(
        times,
        ["2038-02-28 Sun 10:00 +01:00", "2038-03-31 Wed 10:00 +02:00"]
    );

    // The first occurrence goes out; then a new text changes only the
    // ones not out yet, and stopping removes those.
    let (_, v) = app
        .call(
            "GET",
            &format!("/api/v1/workspaces/1/series/{}", ids[1]),
            Some(owner),
            None,
        )
        .await;
    let occ: Vec<(i64, i64)> = v["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["post_id"].as_i64().unwrap(),
                dialoog_domain::time::parse_rfc3339(p["scheduled_at"].as_str().unwrap(), "x")
                    .unwrap(),
            )
        })
        .collect();
    let total = occ.len();
    dispatch_once(
        store,
        &Cipher::new([7; 32]),
        &DispatcherConfig::default(),
        occ[0].1,
    )
    .await;
    let (_, p) = app
        .call(
            "GET",
            &format!("/api/v1/workspaces/1/posts/{}", occ[0].0),
            Some(owner),
            None,
        )
        .await;
    assert_eq!(p["targets"][0]["state"], "published", "{p}");
    let (s, v) = app
        .call(
            "PATCH",
            &format!("/api/v1/workspaces/1/series/{}", ids[1]),
            Some(owner),
            Some(json!({"text": "Zondagnacht"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["text"], "Zondagnacht");
    let text_of = |id: i64| async move {
        let (_, p) = app
            .call(
                "GET",
                &format!("/api/v1/workspaces/1/posts/{id}"),
                Some(owner),
                None,
            )
            .await;
        p["text"].as_str().unwrap().to_owned()
    };
    assert_eq!(text_of(occ[0].0).await, "Zondag 02:30");
    assert_eq!(text_of(occ[1].0).await, "Zondagnacht");
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/workspaces/1/series/{}/stop", ids[1]),
            Some(owner),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["stopped_at"].is_string());
    let left: Vec<i64> = v["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["post_id"].as_i64().unwrap())
        .collect();
    assert_eq!(left, [occ[0].0], "only the published one stays of {total}");
    // A stopped series is not topped up again.
    let later = local_instant("2038-06-01", "12:00", AMS).unwrap();
    dialoog_engine::series::top_up(store, later).await;
    assert_eq!(store.series_posts(1, ids[1]).await.unwrap().len(), 1);
}

/// The same through the pages: the queue form, "in the queue" and
/// "repeat" in the composer, the recurring posts page.
async fn ui_story(app: &App, ch: i64) {
    let b = Browser::signed_in(app, "anna@bakkerij.nl").await;
    let r = b.post(app, &format!("/w/1/queue/{ch}"), "day1=9+uur").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("9 uur") && html.contains("09:00"), "{html}");
    let r = b
        .post(
            app,
            &format!("/w/1/queue/{ch}"),
            "day1=09%3A00+12%3A00&day4=09%3A00",
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = b.get(app, "/w/1/queue").await.text().await.unwrap();
    assert!(html.contains("value=\"09:00 12:00\""), "{html}");
    let before = app
        .db
        .store
        .recent_posts(1, None, 1000)
        .await
        .unwrap()
        .len();
    let r = b
        .post(
            app,
            "/w/1/posts",
            &format!("text=Via+de+wachtrij&channel={ch}&when=queue"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (post, _) = app
        .db
        .store
        .recent_posts(1, None, 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(post.text, "Via de wachtrij");
    let w = local(post.scheduled_at.unwrap(), AMS)
        .strftime("%a %H:%M")
        .to_string();
    assert!(
        ["Mon 09:00", "Mon 12:00", "Thu 09:00"].contains(&w.as_str()),
        "{w}"
    );
    // Repeat without days: the reason, nothing stored.
    let r = b
        .post(app, "/w/1/posts", &format!("text=Elke+week&channel={ch}&when=repeat&repeat_kind=weekly&repeat_time=09%3A00&repeat_start=2038-01-01"))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.db
            .store
            .recent_posts(1, None, 1000)
            .await
            .unwrap()
            .len(),
        before + 1
    );
    // A week from today, so that all four fall within the eight weeks a
    // series is made ahead, whatever day the test runs.
    let start = local(now_ms(), AMS).date().saturating_add(7.days());
    let expected: Vec<String> = start
        .series(1.day())
        .filter(|d| matches!(d.weekday(), Weekday::Monday | Weekday::Thursday))
        .take(4)
        .map(|d| format!("{d} 09:00"))
        .collect();
    let r = b
        .post(app, "/w/1/posts", &format!("text=Elke+week&channel={ch}&when=repeat&repeat_kind=weekly&repeat_day=1&repeat_day=4&repeat_time=09%3A00&repeat_start={start}&repeat_count=4"))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/w/1/series?done=series_started");
    let series = app.db.store.series_list(1).await.unwrap().remove(0);
    let made: Vec<String> = app
        .db
        .store
        .series_posts(1, series.id)
        .await
        .unwrap()
        .iter()
        .map(|p| {
            local(p.scheduled_at.unwrap(), AMS)
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .collect();
    assert_eq!(made, expected);
    let html = b.get(app, "/w/1/series").await.text().await.unwrap();
    assert!(html.contains("Elke week"), "{html}");
    assert!(
        html.contains("maandag, donderdag") || html.contains("Monday, Thursday"),
        "{html}"
    );
    let html = b.get(app, "/w/1/posts").await.text().await.unwrap();
    assert!(
        html.contains(&format!("/w/1/series#series-{}", series.id)),
        "{html}"
    );
    let r = b
        .post(app, &format!("/w/1/series/{}/stop", series.id), "")
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        app.db
            .store
            .series_posts(1, series.id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn story(app: App, peer: MastodonPeer) {
    let owner = app.setup().await;
    let (ch, _) = mastodon_channel(&app, &owner, &peer).await;
    queue_story(&app, &owner, ch).await;
    series_story(&app, &owner, ch).await;
    ui_story(&app, ch).await;
}

#[tokio::test]
async fn queue_and_series_sqlite() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    story(App::sqlite().await, peer).await;
}

#[tokio::test]
async fn queue_and_series_postgres() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    if let Some(app) = App::postgres().await {
        story(app, peer).await;
    }
}
