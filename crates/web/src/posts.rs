//! Posts: compose one text for several channels, check it against each
//! network's rules before anything is stored, schedule it (now, at a time,
//! or as a draft), and read back how each channel's publish went.

use dialoog_domain::{Action, FieldError};
use dialoog_networks::length;
use dialoog_store::{Channel, NewPost, NewTarget, Post, StoreError, Target, User};
use serde_json::json;

use crate::AppState;
use crate::error::AppError;
use crate::service::{Result, access, audit, now_ms};

/// The longest text accepted at all (each network has its own limit below).
pub const MAX_TEXT: usize = 64 * 1024;
/// The most channels one post goes to.
pub const MAX_TARGETS: usize = 50;
/// How far in the past a time may be and still mean "now" (a form filled
/// in a minute ago).
const GRACE_MS: i64 = 60_000;

/// When a post goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// As soon as possible.
    Now,
    /// At this instant (UTC ms).
    At(i64),
    /// Not yet: a draft (with the time it is planned for, if any).
    Draft(Option<i64>),
    /// At the next slot of the channels' weekly queues that is free in
    /// all of them.
    Queue,
}

/// A post as composed.
#[derive(Debug, Clone)]
pub struct Compose {
    /// The text every channel gets unless it has its own.
    pub text: String,
    /// The channels, each with its own text where it differs.
    pub targets: Vec<(i64, Option<String>)>,
    /// When.
    pub when: When,
}

fn random_key() -> Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(AppError::internal)?;
    Ok(hex::encode(b))
}

/// Checks a composed post against every channel's rules and stores it.
pub async fn create(
    state: &AppState,
    user: &User,
    ws: i64,
    c: &Compose,
) -> Result<(Post, Vec<Target>)> {
    let m = access(state, user, ws, Action::ComposePosts).await?;
    let now = now_ms();
    let channels = state.store.channels(ws).await?;
    let mut c = c.clone();
    if c.when == When::Queue {
        let ids: Vec<i64> = c.targets.iter().map(|t| t.0).collect();
        let tz = &m.workspace.timezone;
        c.when = When::At(crate::schedule::next_free_slot(state, ws, tz, &ids, now).await?);
    }
    let c = &c;
    let targets = with_keys(check(state, &channels, c, now).map_err(AppError::Invalid)?)?;
    let text = c.text.trim();
    let draft = matches!(c.when, When::Draft(_));
    let planned = crate::approval::planned_state(state, &m).await?;
    let (state_name, at) = match c.when {
        When::Now | When::Queue => (planned, None),
        When::At(at) => (planned, Some(at.max(now))),
        When::Draft(at) => ("draft", at),
    };
    let made = state
        .store
        .create_post(
            &NewPost {
                workspace_id: ws,
                author_id: Some(user.id),
                text: text.to_owned(),
                scheduled_at: if draft { at } else { at.or(Some(now)) },
                state: state_name.to_owned(),
                targets,
            },
            now,
        )
        .await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "post.created",
        json!({"post": made.0.id, "state": state_name, "channels": made.1.len()}),
    )
    .await;
    crate::approval::after_create(state, user, &made.0, &made.1).await;
    Ok(made)
}

/// Checks a composed post against every channel's rules (length as each
/// network counts it, channels known and able to publish, a time not in
/// the past) and gives the targets to store, or every problem found.
pub(crate) fn check(
    state: &AppState,
    channels: &[Channel],
    c: &Compose,
    now: i64,
) -> std::result::Result<Vec<NewTarget>, Vec<FieldError>> {
    let mut errors = vec![];
    let text = c.text.trim();
    if text.chars().count() > MAX_TEXT {
        errors.push(FieldError::new("text", "post_too_long"));
    }
    let draft = matches!(c.when, When::Draft(_));
    if c.targets.is_empty() && !draft {
        errors.push(FieldError::new("targets", "channels_required"));
    }
    if c.targets.len() > MAX_TARGETS {
        errors.push(FieldError::new("targets", "too_many_channels"));
    }
    if let When::At(at) = c.when
        && at < now - GRACE_MS
    {
        errors.push(FieldError::new("scheduled_at", "time_in_past"));
    }
    let mut targets = vec![];
    let mut seen = std::collections::HashSet::new();
    for (id, own) in &c.targets {
        let Some(ch) = channels.iter().find(|ch| ch.id == *id) else {
            errors.push(FieldError::new("targets", "channel_unknown").with("id", id.to_string()));
            continue;
        };
        if !seen.insert(*id) {
            continue;
        }
        let own = own.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let body = own.unwrap_or(text);
        let rules = dialoog_engine::channel_rules(&state.cipher, ch);
        match rules {
            Some(r) if r.can_publish => {
                if body.is_empty() && !draft {
                    errors.push(FieldError::new("text", "required"));
                }
                if let Some((n, max)) = length::over_limit(body, &r) {
                    errors.push(
                        FieldError::new("targets", "too_long_for_channel")
                            .with("channel", ch.name.clone())
                            .with("count", n.to_string())
                            .with("max", max.to_string()),
                    );
                }
            }
            _ => errors.push(
                FieldError::new("targets", "channel_cannot_publish")
                    .with("channel", ch.name.clone()),
            ),
        }
        targets.push(NewTarget {
            channel_id: ch.id,
            network: ch.network.clone(),
            channel_name: ch.name.clone(),
            text: own.map(str::to_owned),
            // Given by `with_keys` once the post is accepted.
            idempotency_key: String::new(),
        });
    }
    if !errors.is_empty() {
        errors.dedup();
        return Err(errors);
    }
    Ok(targets)
}

/// Gives each checked target its own random idempotency key.
pub(crate) fn with_keys(mut targets: Vec<NewTarget>) -> Result<Vec<NewTarget>> {
    for t in &mut targets {
        t.idempotency_key = random_key()?;
    }
    Ok(targets)
}

/// Moves a post that has not started going out to another time.
pub async fn reschedule(state: &AppState, user: &User, ws: i64, id: i64, at: i64) -> Result<()> {
    let m = access(state, user, ws, Action::ComposePosts).await?;
    let now = now_ms();
    if at < now - GRACE_MS {
        return Err(FieldError::new("scheduled_at", "time_in_past").into());
    }
    state
        .store
        .reschedule_post(ws, id, at.max(now), now)
        .await
        .map_err(started)?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "post.rescheduled",
        json!({"post": id}),
    )
    .await;
    crate::approval::after_change(state, user, &m, id).await
}

/// A refused change to a post that has started going out.
fn started(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict => AppError::PostStarted,
        other => other.into(),
    }
}

/// Deletes a post (not while one of its channels is publishing it).
pub async fn delete(state: &AppState, user: &User, ws: i64, id: i64) -> Result<()> {
    access(state, user, ws, Action::ComposePosts).await?;
    state.store.delete_post(ws, id).await.map_err(started)?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "post.deleted",
        json!({"post": id}),
    )
    .await;
    Ok(())
}

/// Settles a target whose outcome was unknown, after a person looked on
/// the network: there (`found`), or not (it goes out again).
pub async fn settle(
    state: &AppState,
    user: &User,
    ws: i64,
    target: i64,
    found: bool,
) -> Result<()> {
    access(state, user, ws, Action::ComposePosts).await?;
    let answer = found.then_some(None);
    state
        .store
        .settle_unconfirmed(ws, target, answer, now_ms())
        .await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "post.target_settled",
        json!({"target": target, "found": found}),
    )
    .await;
    Ok(())
}
