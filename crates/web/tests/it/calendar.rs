//! The calendar on both backends, with a Mastodon channel on the real test
//! server: posts on the right local day in Europe/Amsterdam around the
//! October clock change, the week by hour, "+k more", moving a post from
//! the calendar (and the refusals: a started post, a time in the past, a
//! time the spring change skips), and the secret iCalendar feed (folded
//! lines, CRLF, escaped Dutch text with emoji, a revoked link is gone).

use crate::browser::Browser;
use crate::harness::App;
use dialoog_domain::time::local;
use dialoog_engine::Cipher;
use dialoog_engine::dispatcher::{DispatcherConfig, dispatch_once, now_ms};
use dialoog_networks::testing::MastodonPeer;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The part of a calendar page that is one day (`id="d-YYYY-MM-DD"`).
fn day<'a>(html: &'a str, iso: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"d-{iso}\""))
        .unwrap_or_else(|| panic!("no day {iso} on the page"));
    let rest = &html[start..];
    let end = rest[1..]
        .find("<li class=\"day")
        .map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

async fn plan(app: &App, owner: &str, ch: i64, text: &str, at: &str) -> i64 {
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/posts",
            Some(owner),
            Some(json!({"text": text, "targets": [{"channel_id": ch}], "scheduled_at": at})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn post(app: &App, owner: &str, id: i64) -> Value {
    app.call(
        "GET",
        &format!("/api/v1/workspaces/1/posts/{id}"),
        Some(owner),
        None,
    )
    .await
    .1
}

/// The lines of an iCalendar body, checked: CRLF ends, at most 75 octets,
/// then unfolded.
fn ical_lines(body: &str) -> Vec<String> {
    assert!(body.ends_with("\r\n"), "ends with CRLF");
    for (i, line) in body.split_terminator("\r\n").enumerate() {
        assert!(
            line.len() <= 75,
            "line {i} has {} octets: {line}",
            line.len()
        );
        assert!(
            !line.contains('\n') && !line.contains('\r'),
            "bare newline in {line:?}"
        );
    }
    dialoog_web::ical::unfold(body)
        .split_terminator("\r\n")
        .map(str::to_owned)
        .collect()
}

/// The unescaped value of `NAME:` within the event with `uid`.
fn event_field(lines: &[String], uid: &str, name: &str) -> Option<String> {
    let start = lines.iter().position(|l| l == &format!("UID:{uid}"))?;
    lines[start..]
        .iter()
        .take_while(|l| *l != "END:VEVENT")
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(dialoog_web::ical::unescape_text)
}

async fn story(app: App, peer: MastodonPeer) {
    let owner = app.setup().await;
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/channels",
            Some(&owner),
            Some(json!({"network": "mastodon", "instance_url": peer.url, "access_token": "ada_token"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let ch = v["id"].as_i64().unwrap();
    let channel_name = v["name"].as_str().unwrap().to_owned();

    // Europe/Amsterdam: 00:30 on 26 October 2038 is 22:30 UTC on the 25th;
    // the clocks go back on the 31st, so 00:30 on 1 November is 23:30 UTC
    // on 31 October. Each belongs on its own local day.
    let text = "Herfstactie: appeltaart, 2 halen = 1 betalen; alleen vandaag!\nKom langs 🍎🥧 bij Bakkerij De Vries, ook voor koffie ☕ en een praatje met de bakker zelf";
    let autumn = plan(&app, &owner, ch, text, "2038-10-25T22:30:00Z").await;
    let november = plan(&app, &owner, ch, "Novemberbrood", "2038-10-31T23:30:00Z").await;
    for i in 0..5 {
        plan(
            &app,
            &owner,
            ch,
            &format!("Drukke dag {i}"),
            &format!("2038-10-27T0{i}:00:00Z"),
        )
        .await;
    }
    let b = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let r = b.get(&app, "/w/1/calendar?month=2038-10").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let d26 = day(&html, "2038-10-26");
    assert!(
        d26.contains("00:30") && d26.contains("Herfstactie: appeltaart,"),
        "{d26}"
    );
    assert!(
        d26.contains(&channel_name) && d26.contains("Mastodon"),
        "{d26}"
    );
    assert!(d26.contains("state-scheduled"), "{d26}");
    assert!(!day(&html, "2038-10-25").contains("Herfstactie"));
    // The grid starts on Monday 27 September and ends on Sunday 31 October.
    assert!(html.contains("id=\"d-2038-09-27\"") && !html.contains("id=\"d-2038-09-26\""));
    assert!(!html.contains("id=\"d-2038-11-01\""));
    // Three posts per day, the rest counted.
    let busy = day(&html, "2038-10-27");
    assert_eq!(busy.matches("class=\"entry ").count(), 3, "{busy}");
    assert!(
        busy.contains("+ nog 2") || busy.contains("+ 2 more"),
        "{busy}"
    );
    let nov = b
        .get(&app, "/w/1/calendar?month=2038-11")
        .await
        .text()
        .await
        .unwrap();
    assert!(day(&nov, "2038-11-01").contains("Novemberbrood"));
    assert!(!day(&html, "2038-10-31").contains("Novemberbrood"));

    // The week of the clock change, by hour: all five of the busy day.
    let week = b
        .get(&app, "/w/1/calendar?week=2038-W43")
        .await
        .text()
        .await
        .unwrap();
    assert!(day(&week, "2038-10-26").contains("Herfstactie"));
    assert_eq!(
        day(&week, "2038-10-27").matches("class=\"entry ").count(),
        5
    );
    // 02:00 UTC on the 27th is 04:00 in Amsterdam (summer time).
    let d27 = day(&week, "2038-10-27");
    let h4 = &d27[d27.find(">04:00<").unwrap()..];
    assert!(
        h4[..h4.find("</li>\n").unwrap_or(h4.len())].contains("Drukke dag 2"),
        "{d27}"
    );
    // The list shows what is coming, by day.
    let list = b
        .get(&app, "/w/1/calendar?view=list&from=2038-10-26")
        .await
        .text()
        .await
        .unwrap();
    assert!(day(&list, "2038-10-26").contains("Herfstactie"));
    assert!(
        !list.contains("id=\"d-2038-10-28\""),
        "empty days are left out of the list"
    );
    // A date that does not exist is said so, and this month shown.
    let bad = b.get(&app, "/w/1/calendar?month=2038-13").await;
    assert_eq!(bad.status(), StatusCode::OK);
    let bad = bad.text().await.unwrap();
    assert!(bad.contains("Die datum bestaat niet") || bad.contains("That date does not exist"));

    // Moving from the calendar: to 09:15 on the 28th, local time.
    let r = b
        .post(
            &app,
            &format!("/w/1/calendar/posts/{autumn}/move"),
            "date=2038-10-28&time=09%3A15&back=month%3D2038-10",
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        format!("/w/1/calendar?month=2038-10&done=post_moved#post-{autumn}")
    );
    assert_eq!(
        post(&app, &owner, autumn).await["scheduled_at"],
        "2038-10-28T07:15:00Z"
    );
    let html = b
        .get(&app, "/w/1/calendar?month=2038-10&done=post_moved")
        .await
        .text()
        .await
        .unwrap();
    assert!(day(&html, "2038-10-28").contains("09:15"));
    assert!(!day(&html, "2038-10-26").contains("Herfstactie"));
    // Refused: a time the spring change skips, a time in the past.
    for (form, words) in [
        ("date=2038-03-28&time=02%3A30", ["02:30", "02:30"]),
        ("date=2020-01-01&time=09%3A00", ["al voorbij", "has passed"]),
    ] {
        let r = b
            .post(
                &app,
                &format!("/w/1/calendar/posts/{autumn}/move"),
                &format!("{form}&back=month%3D2038-10"),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{form}");
        let html = r.text().await.unwrap();
        let mine = &html[html.find(&format!("id=\"post-{autumn}\"")).unwrap()..];
        let mine = &mine[..mine.find("</details>").unwrap()];
        assert!(mine.contains("role=\"alert\""), "{mine}");
        assert!(words.iter().any(|w| mine.contains(w)), "{form}: {mine}");
        assert!(
            mine.contains("details class=\"move\" open"),
            "the form stays open"
        );
    }
    assert_eq!(
        post(&app, &owner, autumn).await["scheduled_at"],
        "2038-10-28T07:15:00Z"
    );
    // Refused: a post that went out. Now, then published by the dispatcher.
    let (_, v) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/posts",
            Some(&owner),
            Some(json!({"text": "Vers brood, nu!", "targets": [{"channel_id": ch}]})),
        )
        .await;
    let gone = v["id"].as_i64().unwrap();
    dispatch_once(
        &app.db.store,
        &Cipher::new([7; 32]),
        &DispatcherConfig::default(),
        now_ms(),
    )
    .await;
    assert_eq!(
        post(&app, &owner, gone).await["targets"][0]["state"],
        "published"
    );
    let r = b
        .post(
            &app,
            &format!("/w/1/calendar/posts/{gone}/move"),
            "date=2038-10-28&time=10%3A00&back=view%3Dlist",
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("no longer be changed") || html.contains("niet meer"),
        "{html}"
    );
    let today = b
        .get(&app, "/w/1/calendar?view=list")
        .await
        .text()
        .await
        .unwrap();
    let gone_html = &today[today.find(&format!("id=\"post-{gone}\"")).unwrap()..];
    let gone_html = &gone_html[..gone_html.find("</li>\n</ul>").unwrap_or(gone_html.len())];
    assert!(gone_html.contains("state-published"));
    assert!(
        !gone_html.contains("/move\""),
        "no move form for a post that went out"
    );

    // The feed holds the plan from 90 days back to a year ahead: the
    // autumn posts above are further out, so one more, ten days from now.
    let (day_ms, now) = (86_400_000, now_ms());
    // 07:15 UTC on the tenth day from today.
    let soon_ms = now - now % day_ms + 10 * day_ms + 7 * 3_600_000 + 15 * 60_000;
    let soon_at = jiff::Timestamp::from_millisecond(soon_ms).unwrap();
    let soon = plan(&app, &owner, ch, text, &soon_at.to_string()).await;
    let soon_week = local(soon_ms, "Europe/Amsterdam").date().iso_week_date();

    // The feed: a secret link, shown once, only with the right token.
    let r = b
        .post(&app, "/w/1/calendar/feed", "back=month%3D2038-10")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let at = html.find(&format!("{}/ical/", app.url)).unwrap();
    let first_url = html[at..].split('"').next().unwrap().to_owned();
    assert!(first_url.ends_with(".ics"));
    let again = b.get(&app, "/w/1/calendar").await.text().await.unwrap();
    assert!(!again.contains(&first_url), "the link is shown once");
    let stored = app.db.store.calendar_feed(1).await.unwrap().unwrap();
    assert_eq!(stored.workspace_id, 1);

    let (s, v) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/calendar/feed",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let url = v["url"].as_str().unwrap().to_owned();
    assert_ne!(url, first_url);
    let old = app.http.get(&first_url).send().await.unwrap();
    assert_eq!(
        old.status(),
        StatusCode::NOT_FOUND,
        "a new link revokes the old one"
    );
    let r = app.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/calendar; charset=utf-8");
    assert!(r.headers().get("set-cookie").is_none());
    let body = r.text().await.unwrap();
    let lines = ical_lines(&body);
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    assert_eq!(lines.last().map(String::as_str), Some("END:VCALENDAR"));
    for needed in ["VERSION:2.0", "X-WR-CALNAME:Bakkerij De Vries · Dialoog"] {
        assert!(lines.iter().any(|l| l == needed), "{needed}");
    }
    assert!(lines.iter().any(|l| l.starts_with("PRODID:")));
    let host = app.url.trim_start_matches("http://");
    let uid = format!("post-{soon}@{host}");
    assert_eq!(
        event_field(&lines, &uid, "DTSTART").unwrap(),
        soon_at.strftime("%Y%m%dT071500Z").to_string()
    );
    assert_eq!(event_field(&lines, &uid, "DURATION").unwrap(), "PT15M");
    for far in [autumn, november] {
        let far_uid = format!("UID:post-{far}@{host}");
        assert!(!lines.contains(&far_uid), "more than a year ahead: {far}");
    }
    assert!(event_field(&lines, &uid, "DTSTAMP").unwrap().ends_with('Z'));
    assert_eq!(
        event_field(&lines, &uid, "SUMMARY").unwrap(),
        "Herfstactie: appeltaart, 2 halen = 1 betalen; alleen…"
    );
    let description = event_field(&lines, &uid, "DESCRIPTION").unwrap();
    assert!(
        description.ends_with(text),
        "the whole text survives: {description}"
    );
    assert!(
        description.contains(&format!("{channel_name} (Mastodon): Ingepland")),
        "{description}"
    );
    let link = event_field(&lines, &uid, "URL").unwrap();
    assert_eq!(
        link,
        format!(
            "{}/w/1/calendar?week={}-W{:02}#post-{soon}",
            app.url,
            soon_week.year(),
            soon_week.week()
        )
    );
    // The raw text is escaped: its newline, commas and semicolon.
    assert!(
        dialoog_web::ical::unfold(&body)
            .contains("appeltaart\\, 2 halen = 1 betalen\\; alleen vandaag!\\nKom langs 🍎🥧")
    );
    // The post ten days ahead and the one that went out today.
    assert_eq!(lines.iter().filter(|l| *l == "BEGIN:VEVENT").count(), 2);
    // Someone else's guess, and a stopped link: not found.
    let r = app
        .http
        .get(format!("{}/ical/{}.ics", app.url, "A".repeat(43)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = b
        .post(&app, "/w/1/calendar/feed/remove", "back=view%3Dlist")
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        "/w/1/calendar?view=list&done=calendar_feed_removed"
    );
    assert_eq!(
        app.http.get(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert!(app.db.store.calendar_feed(1).await.unwrap().is_none());
    let (s, _) = app
        .call(
            "DELETE",
            "/api/v1/workspaces/1/calendar/feed",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn calendar_and_feed_sqlite() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    story(App::sqlite().await, peer).await;
}

#[tokio::test]
async fn calendar_and_feed_postgres() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    if let Some(app) = App::postgres().await {
        story(app, peer).await;
    }
}
