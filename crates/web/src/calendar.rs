//! The content calendar: which days a month or week shows (weeks start on
//! Monday, days are the workspace's local days, however long daylight
//! saving makes them), the posts on each day (bounded, with a count of the
//! rest), and the workspace's secret iCalendar feed of the plan.

use dialoog_domain::{Action, Locale, time};
use dialoog_store::{Post, Target, User};
use jiff::civil::{Date, ISOWeekDate, Weekday};
use serde_json::json;

use crate::error::AppError;
use crate::i18n::Tr;
use crate::security::{random_token, token_hash};
use crate::service::{Result, access, audit, now_ms};
use crate::{AppState, ical};

/// Posts shown per day in the month view (the rest is counted).
pub const MONTH_PER_DAY: usize = 3;
/// Posts shown per day in the week view.
pub const WEEK_PER_DAY: usize = 50;
/// The feed reaches this many days back…
pub const FEED_DAYS_BACK: i64 = 90;
/// …and this many ahead.
pub const FEED_DAYS_AHEAD: i64 = 366;
/// The most events in a feed.
pub const FEED_MAX: i64 = 5000;

/// One post as the calendar shows it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The post.
    pub post: Post,
    /// Its channels.
    pub targets: Vec<Target>,
    /// Its local wall-clock time.
    pub local: jiff::Zoned,
}

impl Entry {
    /// Whether it may still move: no channel has started on it.
    pub fn movable(&self) -> bool {
        self.targets.iter().all(|t| {
            matches!(
                t.state.as_str(),
                "draft" | "in_review" | "approved" | "scheduled"
            ) && t.sending_since.is_none()
        })
    }
}

/// One local day.
#[derive(Debug, Clone)]
pub struct Day {
    /// The date.
    pub date: Date,
    /// Its first posts, by time.
    pub entries: Vec<Entry>,
    /// How many more it has than shown.
    pub more: i64,
}

/// The dates from the Monday on or before `first` to the Sunday on or
/// after `last`.
pub fn weeks_around(first: Date, last: Date) -> Vec<Date> {
    let start = first
        .checked_sub(jiff::Span::new().days(i64::from(first.weekday().to_monday_zero_offset())))
        .unwrap_or(first);
    let end = last
        .checked_add(jiff::Span::new().days(i64::from(6 - last.weekday().to_monday_zero_offset())))
        .unwrap_or(last);
    dates(start, end)
}

/// Every date from `start` to `end`, both included.
pub fn dates(start: Date, end: Date) -> Vec<Date> {
    let mut out = vec![];
    let mut d = start;
    while d <= end && out.len() < 400 {
        out.push(d);
        match d.tomorrow() {
            Ok(n) => d = n,
            Err(_) => break,
        }
    }
    out
}

/// The instant (UTC ms) a local day starts in `tz`: midnight, or the first
/// moment after it when midnight is skipped.
pub fn day_start(d: Date, tz: &str) -> i64 {
    d.to_zoned(time::zone(tz))
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or_default()
}

/// The days of a month grid (whole weeks, Monday first).
pub fn month_grid(year: i16, month: i8) -> Option<Vec<Date>> {
    let first = Date::new(year, month, 1).ok()?;
    Some(weeks_around(first, first.last_of_month()))
}

/// The seven days of ISO week `week` of `year`.
pub fn week_days(year: i16, week: i8) -> Option<Vec<Date>> {
    let monday = ISOWeekDate::new(year, week, Weekday::Monday).ok()?.date();
    let sunday = monday.checked_add(jiff::Span::new().days(6)).ok()?;
    Some(dates(monday, sunday))
}

/// The posts on each of `days` (consecutive dates) in the workspace's
/// timezone, at most `per_day` each.
pub async fn days(
    state: &AppState,
    user: &User,
    ws: i64,
    tz: &str,
    days: &[Date],
    per_day: usize,
) -> Result<Vec<Day>> {
    access(state, user, ws, Action::ViewPosts).await?;
    let Some(last) = days.last() else {
        return Ok(vec![]);
    };
    let end = last.tomorrow().map_err(AppError::internal)?;
    let mut bounds: Vec<i64> = days.iter().map(|d| day_start(*d, tz)).collect();
    bounds.push(day_start(end, tz));
    let found = state.store.calendar_days(ws, &bounds, per_day).await?;
    Ok(days
        .iter()
        .zip(found)
        .map(|(date, d)| {
            let entries: Vec<Entry> = d
                .posts
                .into_iter()
                .map(|(post, targets)| Entry {
                    local: time::local(post.scheduled_at.unwrap_or_default(), tz),
                    post,
                    targets,
                })
                .collect();
            Day {
                date: *date,
                more: d.total - i64::try_from(entries.len()).unwrap_or(0),
                entries,
            }
        })
        .collect())
}

/// The first words of a text, for a title: at most `words` words and 60
/// characters, with an ellipsis when cut.
pub fn first_words(text: &str, words: usize) -> String {
    let mut out = String::new();
    let mut cut = false;
    for (i, w) in text.split_whitespace().enumerate() {
        if i >= words || out.chars().count() + w.chars().count() > 60 {
            cut = true;
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    if out.is_empty() && !text.trim().is_empty() {
        out = text.trim().chars().take(60).collect();
        cut = text.trim().chars().count() > 60;
    }
    if cut {
        out.push('…');
    }
    out
}

/// A network's name as people write it.
pub fn network_name(network: &str) -> &str {
    match network {
        "mastodon" => "Mastodon",
        "bluesky" => "Bluesky",
        "wordpress" => "WordPress",
        "email" => "E-mail",
        "rss" => "RSS",
        other => other,
    }
}

/// The workspace's feed link: when it was made, if there is one.
pub async fn feed_link(state: &AppState, user: &User, ws: i64) -> Result<Option<i64>> {
    access(state, user, ws, Action::ViewPosts).await?;
    Ok(state.store.calendar_feed(ws).await?.map(|f| f.created_at))
}

/// Makes a new secret feed link (the old one stops working) and returns
/// its address: shown once, only its hash is kept.
pub async fn new_feed_link(state: &AppState, user: &User, ws: i64) -> Result<String> {
    access(state, user, ws, Action::ComposePosts).await?;
    let token = random_token();
    let replaced = state.store.calendar_feed(ws).await?.is_some();
    state
        .store
        .replace_calendar_feed(ws, &token_hash(&token), user.id, now_ms())
        .await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "calendar_feed.created",
        json!({"replaced": replaced}),
    )
    .await;
    Ok(feed_url(state, &token))
}

/// The address of a feed token.
pub fn feed_url(state: &AppState, token: &str) -> String {
    format!(
        "{}/ical/{token}.ics",
        state.config.public_url.trim_end_matches('/')
    )
}

/// Revokes the workspace's feed link (nothing happens when it has none).
pub async fn remove_feed_link(state: &AppState, user: &User, ws: i64) -> Result<()> {
    access(state, user, ws, Action::ComposePosts).await?;
    if state.store.delete_calendar_feed(ws).await? {
        audit(
            state,
            Some(ws),
            Some(user.id),
            "calendar_feed.removed",
            json!({}),
        )
        .await;
    }
    Ok(())
}

/// The iCalendar feed behind a secret token (`…/ical/{token}.ics`):
/// the plan from 90 days back to a year ahead. An unknown or revoked
/// token is "not found".
pub async fn feed(state: &AppState, token: &str, locale: Locale) -> Result<String> {
    let token = token.strip_suffix(".ics").unwrap_or(token);
    if token.is_empty() || token.len() > 100 {
        return Err(AppError::NotFound);
    }
    let ws = state
        .store
        .workspace_by_calendar_token(&token_hash(token))
        .await?
        .ok_or(AppError::NotFound)?;
    let now = now_ms();
    let day = 86_400_000;
    let posts = state
        .store
        .posts_between(
            ws.id,
            now - FEED_DAYS_BACK * day,
            now + FEED_DAYS_AHEAD * day,
            FEED_MAX,
        )
        .await?;
    let t = Tr(locale);
    let base = state.config.public_url.trim_end_matches('/');
    let host = base.rsplit("//").next().unwrap_or(base);
    let events: Vec<ical::Event> = posts
        .iter()
        .map(|(p, targets)| {
            let at = p.scheduled_at.unwrap_or(p.created_at);
            let local = time::local(at, &ws.timezone);
            let week = local.date().iso_week_date();
            let channels: Vec<String> = targets
                .iter()
                .map(|x| {
                    format!(
                        "{} ({}): {}",
                        x.channel_name,
                        network_name(&x.network),
                        t.s(&format!("posts.state.{}", x.state))
                    )
                })
                .collect();
            ical::Event {
                uid: format!("post-{}@{host}", p.id),
                start: at,
                duration: "PT15M",
                summary: first_words(&p.text, 8),
                description: format!(
                    "{}\n{}\n\n{}",
                    t.s("calendar.feed.channels"),
                    channels.join("\n"),
                    p.text
                ),
                url: format!(
                    "{base}/w/{}/calendar?week={}-W{:02}#post-{}",
                    ws.id,
                    week.year(),
                    week.week(),
                    p.id
                ),
            }
        })
        .collect();
    Ok(ical::calendar(
        &format!("{} · Dialoog", ws.name),
        now,
        &events,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_month_is_whole_weeks_from_monday() {
        let d = month_grid(2026, 12).unwrap();
        assert_eq!(d.first(), Some(&date(2026, 11, 30)));
        assert_eq!(d.last(), Some(&date(2027, 1, 3)));
        assert_eq!(d.len(), 35);
        // February 2027 starts on a Monday and ends on a Sunday.
        assert_eq!(month_grid(2027, 2).unwrap().len(), 28);
        assert!(month_grid(2026, 13).is_none());
    }

    #[test]
    fn iso_weeks_start_on_monday() {
        let d = week_days(2026, 49).unwrap();
        assert_eq!(d.first(), Some(&date(2026, 11, 30)));
        assert_eq!(d.last(), Some(&date(2026, 12, 6)));
        assert!(week_days(2026, 54).is_none());
    }

    #[test]
    fn days_start_at_local_midnight_across_the_clock_change() {
        let ams = "Europe/Amsterdam";
        // Summer time on the 25th until 03:00, winter time on the 26th.
        let s25 = day_start(date(2026, 10, 25), ams);
        let s26 = day_start(date(2026, 10, 26), ams);
        assert_eq!(s26 - s25, 25 * 3_600_000);
        assert_eq!(ical::utc_stamp(s26), "20261025T230000Z");
    }

    #[test]
    fn first_words_are_short() {
        assert_eq!(first_words("Vers brood  vandaag", 8), "Vers brood vandaag");
        assert_eq!(first_words("een twee drie vier", 2), "een twee…");
        assert_eq!(first_words(&"x".repeat(80), 8).chars().count(), 61);
        assert_eq!(first_words("   ", 8), "");
    }
}
