//! Queue slots ("the next free slot" of a channel's weekly queue) and
//! recurring posts (a series whose occurrences are ordinary posts made
//! ahead of time by the engine).
//!
//! Decisions: editing a queue needs the right to compose posts (planning
//! the week is an editor's job); a post for several channels goes to the
//! first slot that all of them have and that is free in all of them.

use dialoog_domain::schedule::{self, Recurrence, Repeat, Slot};
use dialoog_domain::{Action, FieldError};
use dialoog_store::{NewSeries, Series, User};
use serde_json::json;

use crate::AppState;
use crate::error::AppError;
use crate::posts::{Compose, When};
use crate::service::{Result, access, audit, now_ms};

/// How far ahead the next free slot is looked for, in ms.
const SLOT_HORIZON_MS: i64 = schedule::HORIZON_DAYS as i64 * 86_400_000;

/// One channel's weekly queue.
#[derive(Debug, Clone)]
pub struct Queue {
    /// The channel.
    pub channel_id: i64,
    /// Its name.
    pub channel_name: String,
    /// Its slots, by day and time.
    pub slots: Vec<Slot>,
}

/// Every channel's queue in a workspace.
pub async fn queues(state: &AppState, user: &User, ws: i64) -> Result<Vec<Queue>> {
    access(state, user, ws, Action::ViewPosts).await?;
    let channels = state.store.channels(ws).await?;
    let rows = state.store.workspace_slots(ws).await?;
    Ok(channels
        .into_iter()
        .map(|c| Queue {
            slots: rows
                .iter()
                .filter(|r| r.0 == c.id)
                .map(|r| Slot {
                    weekday: u8::try_from(r.1).unwrap_or(1),
                    minute: u16::try_from(r.2).unwrap_or(0),
                })
                .collect(),
            channel_id: c.id,
            channel_name: c.name,
        })
        .collect())
}

/// Replaces a channel's weekly queue.
pub async fn set_queue(
    state: &AppState,
    user: &User,
    ws: i64,
    channel: i64,
    slots: &[Slot],
) -> Result<()> {
    access(state, user, ws, Action::ComposePosts).await?;
    if slots.len() > schedule::MAX_SLOTS {
        return Err(FieldError::new("slots", "too_many_slots")
            .with("max", schedule::MAX_SLOTS.to_string())
            .into());
    }
    let rows: Vec<(i64, i64)> = slots
        .iter()
        .map(|s| (i64::from(s.weekday), i64::from(s.minute)))
        .collect();
    state.store.set_slots(ws, channel, &rows).await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "queue.changed",
        json!({"channel": channel, "slots": rows.len()}),
    )
    .await;
    Ok(())
}

/// The first slot after `now` that every one of `channels` has in its
/// queue and at which none has a post planned.
pub async fn next_free_slot(
    state: &AppState,
    ws: i64,
    tz: &str,
    channels: &[i64],
    now: i64,
) -> Result<i64> {
    if channels.is_empty() {
        return Err(FieldError::new("targets", "channels_required").into());
    }
    let all = state.store.channels(ws).await?;
    let rows = state.store.workspace_slots(ws).await?;
    let mut queues = vec![];
    for id in channels {
        let Some(ch) = all.iter().find(|c| c.id == *id) else {
            return Err(FieldError::new("targets", "channel_unknown")
                .with("id", id.to_string())
                .into());
        };
        let q: Vec<Slot> = rows
            .iter()
            .filter(|r| r.0 == *id)
            .map(|r| Slot {
                weekday: u8::try_from(r.1).unwrap_or(1),
                minute: u16::try_from(r.2).unwrap_or(0),
            })
            .collect();
        if q.is_empty() {
            return Err(FieldError::new("scheduled_at", "queue_empty")
                .with("channel", ch.name.clone())
                .into());
        }
        queues.push(q);
    }
    let taken: std::collections::HashSet<i64> = state
        .store
        .planned_times(ws, channels, now, now.saturating_add(SLOT_HORIZON_MS))
        .await?
        .into_iter()
        .map(|(_, at)| at)
        .collect();
    schedule::next_free(&queues, tz, now, |ms| !taken.contains(&ms))
        .ok_or_else(|| FieldError::new("scheduled_at", "no_free_slot").into())
}

/// A recurring post as asked for.
#[derive(Debug, Clone)]
pub struct SeriesInput {
    /// The text.
    pub text: String,
    /// The channels.
    pub channels: Vec<i64>,
    /// How it repeats.
    pub rule: Recurrence,
}

/// A recurring post goes out without a review of each occurrence, so
/// where approval is required of this person it is refused.
async fn needs_no_review(
    state: &AppState,
    m: &dialoog_store::Membership,
    errors: &mut Vec<FieldError>,
) -> Result<()> {
    if crate::approval::planned_state(state, m).await? == "in_review" {
        errors.push(FieldError::new("repeat", "series_needs_approver"));
    }
    Ok(())
}

/// Starts a series: the text is checked against every channel's rules as
/// in the composer; its first weeks of occurrences are made at once.
pub async fn create_series(
    state: &AppState,
    user: &User,
    ws: i64,
    input: &SeriesInput,
) -> Result<Series> {
    let m = access(state, user, ws, Action::ComposePosts).await?;
    let now = now_ms();
    let channels = state.store.channels(ws).await?;
    let compose = Compose {
        text: input.text.clone(),
        targets: input.channels.iter().map(|id| (*id, None)).collect(),
        when: When::Now,
        media: vec![],
        campaign: String::new(),
    };
    let mut errors = match crate::posts::check(state, &channels, &compose, &[], now) {
        Ok(_) => vec![],
        Err(e) => e,
    };
    needs_no_review(state, &m, &mut errors).await?;
    let tz = &m.workspace.timezone;
    if !input.rule.goes_out_from(tz, now) {
        errors.push(FieldError::new("repeat", "series_empty"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let r = &input.rule;
    let (kind, weekdays, month_day) = match &r.repeat {
        Repeat::Weekly(d) => ("weekly", d.clone(), None),
        Repeat::Monthly(d) => ("monthly", vec![], Some(i64::from(*d))),
    };
    let mut ids = input.channels.clone();
    ids.sort_unstable();
    ids.dedup();
    let series = state
        .store
        .create_series(
            &NewSeries {
                workspace_id: ws,
                author_id: Some(user.id),
                text: input.text.trim().to_owned(),
                channel_ids: ids,
                kind: kind.to_owned(),
                weekdays,
                month_day,
                minute: i64::from(r.minute),
                start_date: r.start.to_string(),
                until_date: r.until.map(|d| d.to_string()),
                max_count: r.count.map(i64::from),
            },
            now,
        )
        .await?;
    let made = dialoog_engine::series::top_up_series(&state.store, &series, tz, now)
        .await
        .map_err(AppError::internal)?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "series.created",
        json!({"series": series.id, "occurrences": made}),
    )
    .await;
    Ok(state.store.series(ws, series.id).await?)
}

/// Stops a series: its occurrences that have not started going out are
/// deleted. Returns how many.
pub async fn stop_series(state: &AppState, user: &User, ws: i64, id: i64) -> Result<u64> {
    access(state, user, ws, Action::ComposePosts).await?;
    let gone = state.store.stop_series(ws, id, now_ms()).await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "series.stopped",
        json!({"series": id, "removed": gone}),
    )
    .await;
    Ok(gone)
}

/// Changes a series' text (checked against its channels' rules), and with
/// it every future occurrence that has not started going out.
pub async fn change_series_text(
    state: &AppState,
    user: &User,
    ws: i64,
    id: i64,
    text: &str,
) -> Result<u64> {
    let m = access(state, user, ws, Action::ComposePosts).await?;
    let mut refused = vec![];
    needs_no_review(state, &m, &mut refused).await?;
    if !refused.is_empty() {
        return Err(AppError::Invalid(refused));
    }
    let series = state.store.series(ws, id).await?;
    let channels = state.store.channels(ws).await?;
    let now = now_ms();
    let compose = Compose {
        text: text.to_owned(),
        // Channels removed since the series started are left out.
        targets: series
            .channels()
            .into_iter()
            .filter(|c| channels.iter().any(|x| x.id == *c))
            .map(|c| (c, None))
            .collect(),
        when: When::Now,
        media: vec![],
        campaign: String::new(),
    };
    if let Err(errors) = crate::posts::check(state, &channels, &compose, &[], now) {
        // A series whose channels were all removed may still change text.
        let errors: Vec<FieldError> = errors
            .into_iter()
            .filter(|e| e.code != "channels_required")
            .collect();
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
    }
    let n = state
        .store
        .change_series_text(ws, id, text.trim(), now)
        .await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "series.changed",
        json!({"series": id, "posts": n}),
    )
    .await;
    Ok(n)
}
