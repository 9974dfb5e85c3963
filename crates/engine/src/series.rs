//! Recurring posts: a small loop makes each running series' occurrences
//! as ordinary posts some weeks ahead, so the dispatcher publishes them
//! like any other post and people see them in the plan. Each occurrence is
//! at the series' local wall time in its workspace's timezone (the rule in
//! `dialoog_domain::schedule`); making them twice is harmless (one post
//! per series and time, enforced by the store).

use dialoog_domain::schedule::Recurrence;
use dialoog_store::{NewPost, NewTarget, Series, Store, StoreError};
use std::time::Duration;

use crate::dispatcher::now_ms;

/// How often the loop also removes unused images.
const CLEAN_EVERY_MS: i64 = 3_600_000;

/// How far ahead occurrences are made.
pub const AHEAD_MS: i64 = 8 * 7 * 86_400_000;

/// Makes the occurrences of `series` up to [`AHEAD_MS`] after `now` that
/// are not made yet. Returns how many posts were made.
pub async fn top_up_series(
    store: &Store,
    series: &Series,
    tz: &str,
    now: i64,
) -> Result<usize, StoreError> {
    let horizon = now.saturating_add(AHEAD_MS);
    if series.stopped_at.is_some() || series.made_until >= horizon {
        return Ok(0);
    }
    let Some(rule) = rule(series) else {
        tracing::warn!(
            series = series.id,
            "a series with an unreadable rule is left alone"
        );
        return Ok(0);
    };
    let from = series.made_until.max(now);
    let channels = store.channels(series.workspace_id).await?;
    let wanted = series.channels();
    let mut posts = vec![];
    for (_, at) in rule.occurrences(tz, from, horizon) {
        let mut targets = vec![];
        // A channel disconnected since the series started is left out.
        for ch in channels.iter().filter(|c| wanted.contains(&c.id)) {
            targets.push(NewTarget {
                channel_id: ch.id,
                network: ch.network.clone(),
                channel_name: ch.name.clone(),
                text: None,
                idempotency_key: key(),
            });
        }
        if targets.is_empty() {
            continue;
        }
        posts.push(NewPost {
            workspace_id: series.workspace_id,
            author_id: series.author_id,
            text: series.text.clone(),
            scheduled_at: Some(at),
            state: "scheduled".to_owned(),
            targets,
        });
    }
    store.add_occurrences(series.id, &posts, horizon, now).await
}

fn key() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // Unique enough without randomness: the time and a counter.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return format!("series-{}-{n}", now_ms());
    }
    hex::encode(b)
}

/// The rule of a stored series.
fn rule(s: &Series) -> Option<Recurrence> {
    let weekdays: Vec<i64> = s
        .weekdays
        .split(',')
        .filter_map(|d| d.trim().parse().ok())
        .collect();
    let minute = u16::try_from(s.minute).ok()?;
    let time = format!("{:02}:{:02}", minute / 60, minute % 60);
    Recurrence::parse(
        &s.kind,
        &weekdays,
        s.month_day,
        &time,
        &s.start_date,
        s.until_date.as_deref(),
        s.max_count,
    )
    .ok()
}

/// One round: tops up every running series that needs it (a few dozen at
/// a time). Returns how many posts were made.
pub async fn top_up(store: &Store, now: i64) -> usize {
    // Top up a day before the horizon runs short, not every tick.
    let due = match store
        .series_to_top_up(now.saturating_add(AHEAD_MS - 86_400_000), 50)
        .await
    {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read which series need topping up");
            return 0;
        }
    };
    let mut made = 0;
    for (s, tz) in due {
        match top_up_series(store, &s, &tz, now).await {
            Ok(n) => made += n,
            Err(e) => tracing::warn!(series = s.id, error = %e, "topping up a series failed"),
        }
    }
    made
}

/// Tops series up every `tick`, and once an hour removes the images no
/// post uses ([`crate::cleanup`]), until `stop` resolves.
pub async fn run(store: Store, tick: Duration, stop: impl std::future::Future<Output = ()>) {
    tokio::pin!(stop);
    let mut cleaned = i64::MIN;
    loop {
        let now = now_ms();
        top_up(&store, now).await;
        // Housekeeping rides along, once an hour.
        if now.saturating_sub(cleaned) >= CLEAN_EVERY_MS {
            crate::cleanup::remove_unused_media(&store, now).await;
            cleaned = now;
        }
        tokio::select! {
            () = &mut stop => break,
            () = tokio::time::sleep(tick) => {}
        }
    }
}
