//! Posts: compose one text for several channels, check it against each
//! network's rules before anything is stored, schedule it (now, at a time,
//! or as a draft), and read back how each channel's publish went.

use dialoog_domain::{Action, FieldError};
use dialoog_networks::length;
use dialoog_store::{Channel, NewPost, NewTarget, Post, PostExtras, StoreError, Target, User};
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
    /// Images: a media id of the workspace and its alt text, in order.
    pub media: Vec<(i64, String)>,
    /// The campaign its links are tagged with (empty: no tagging).
    pub campaign: String,
}

/// The longest campaign name.
pub const MAX_CAMPAIGN: usize = 100;

/// What deserves a second look but does not stop a post: an image without
/// alt text (people who cannot see it learn nothing of it).
#[must_use]
pub fn warnings(c: &Compose) -> Vec<FieldError> {
    c.media
        .iter()
        .enumerate()
        .filter(|(_, (_, alt))| alt.trim().is_empty())
        .map(|(i, _)| FieldError::new("media", "alt_missing").with("n", (i + 1).to_string()))
        .collect()
}

/// The text a channel on `network` gets: its own or the shared one, with
/// the campaign's tags on its links.
#[must_use]
pub fn channel_text(shared: &str, own: Option<&str>, network: &str, campaign: &str) -> String {
    let body = own
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(shared.trim());
    dialoog_networks::utm::tag_links(body, network, campaign)
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
    let (sizes, mut errors) = media_sizes(state, ws, c).await?;
    let targets = match check(state, &channels, c, &sizes, now) {
        Ok(targets) if errors.is_empty() => with_keys(targets)?,
        Ok(_) => return Err(AppError::Invalid(errors)),
        Err(more) => {
            errors.extend(more);
            errors.dedup();
            return Err(AppError::Invalid(errors));
        }
    };
    let text = c.text.trim();
    let draft = matches!(c.when, When::Draft(_));
    let planned = crate::approval::planned_state(state, &m).await?;
    let (state_name, at) = match c.when {
        When::Now | When::Queue => (planned, None),
        When::At(at) => (planned, Some(at.max(now))),
        When::Draft(at) => ("draft", at),
    };
    let extras = PostExtras {
        campaign: c.campaign.trim().to_owned(),
        media: c
            .media
            .iter()
            .map(|(id, alt)| (*id, alt.trim().to_owned()))
            .collect(),
    };
    let made = state
        .store
        .create_post_with(
            &NewPost {
                workspace_id: ws,
                author_id: Some(user.id),
                text: text.to_owned(),
                scheduled_at: if draft { at } else { at.or(Some(now)) },
                state: state_name.to_owned(),
                targets,
            },
            &extras,
            now,
        )
        .await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "post.created",
        json!({"post": made.0.id, "state": state_name, "channels": made.1.len(), "images": c.media.len()}),
    )
    .await;
    crate::approval::after_create(state, user, &made.0, &made.1).await;
    Ok(made)
}

/// The sizes of a post's images, in order, and the problems with its
/// extras (a campaign name too long; too many images, alt text too long,
/// an image not this workspace's).
pub(crate) async fn media_sizes(
    state: &AppState,
    ws: i64,
    c: &Compose,
) -> Result<(Vec<usize>, Vec<FieldError>)> {
    let mut errors = vec![];
    if c.campaign.trim().chars().count() > MAX_CAMPAIGN {
        errors.push(FieldError::new("campaign", "campaign_too_long"));
    }
    if c.media.len() > crate::media::MAX_IMAGES {
        errors.push(
            FieldError::new("media", "too_many_images")
                .with("max", crate::media::MAX_IMAGES.to_string()),
        );
    }
    if c.media
        .iter()
        .any(|(_, alt)| alt.chars().count() > crate::media::MAX_ALT)
    {
        errors.push(
            FieldError::new("media", "alt_too_long").with("max", crate::media::MAX_ALT.to_string()),
        );
    }
    let ids: Vec<i64> = c.media.iter().map(|(id, _)| *id).collect();
    let infos = state.store.media_infos(ws, &ids).await?;
    let mut sizes = vec![];
    for id in &ids {
        match infos.iter().find(|m| m.id == *id) {
            Some(m) => sizes.push(usize::try_from(m.size).unwrap_or(usize::MAX)),
            None => {
                errors.push(FieldError::new("media", "media_unknown").with("id", id.to_string()))
            }
        }
    }
    Ok((sizes, errors))
}

/// Checks a composed post against every channel's rules (length as each
/// network counts it after the campaign's tags, the number and size of
/// images, channels known and able to publish, a time not in the past)
/// and gives the targets to store, or every problem found. `sizes` are
/// the post's image sizes.
pub(crate) fn check(
    state: &AppState,
    channels: &[Channel],
    c: &Compose,
    sizes: &[usize],
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
    let campaign = c.campaign.trim();
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
        let body = channel_text(text, own, &ch.network, campaign);
        let rules = dialoog_engine::channel_rules(&state.cipher, ch);
        match rules {
            Some(r) if r.can_publish => {
                if body.is_empty() && !draft {
                    errors.push(FieldError::new("text", "required"));
                }
                if c.media.len() > r.max_images {
                    errors.push(
                        FieldError::new("media", "too_many_images_for_channel")
                            .with("channel", ch.name.clone())
                            .with("max", r.max_images.to_string()),
                    );
                }
                if let Some(big) = sizes
                    .iter()
                    .copied()
                    .filter(|n| *n > r.max_image_bytes)
                    .max()
                {
                    errors.push(
                        FieldError::new("media", "image_too_large_for_channel")
                            .with("channel", ch.name.clone())
                            .with("size", crate::media::megabytes(big))
                            .with("max", crate::media::megabytes(r.max_image_bytes)),
                    );
                }
                if let Some((n, max)) = length::over_limit(&body, &r) {
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
            // What this channel sends, where it is not the shared text
            // (its own text, or the shared one with tagged links).
            text: (own.is_some() || body != text).then_some(body),
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
