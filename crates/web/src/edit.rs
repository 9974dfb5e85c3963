//! Editing a post that has not gone out: its shared text, each channel's
//! text, its images and their alt texts, its campaign and its time.
//!
//! Decisions taken here:
//! - A post can be edited while none of its channels has started: once one
//!   is publishing, published, unconfirmed or failed, what went out (or
//!   may have) is on the network and an edit here would not change it.
//!   The store checks this in the transaction that makes the change.
//! - The edited post passes the composer's own check ([`crate::posts`]),
//!   the one the CSV import and series use too.
//! - Channels are not added or removed by an edit (the channels a post
//!   goes to are chosen when it is composed); a text for a channel the
//!   post does not go to is refused.
//! - Approval: an edit by someone who may not approve sends a post in
//!   review, approved or scheduled (back) to review in a new round, when
//!   the workspace requires approval (or the post was reviewed). An edit
//!   by someone who may approve keeps the post's state; a post in review
//!   starts a new round. Client links belong to one round, so a link made
//!   before the edit no longer approves: the client gets a new link for
//!   the new text.

use dialoog_domain::{Action, FieldError};
use dialoog_store::{Post, PostEdit, ReviewStep, StoreError, Target, User};
use serde_json::json;

use crate::AppState;
use crate::error::AppError;
use crate::posts::{Compose, When, channel_text, check, media_sizes};
use crate::service::{Result, access, audit, now_ms};

/// What changes; `None` leaves a part as it is.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    /// The shared text.
    pub text: Option<String>,
    /// Each channel's own text (a channel left out gets the shared text).
    pub targets: Option<Vec<(i64, Option<String>)>>,
    /// The time: `Some(None)` takes a draft's time away.
    pub at: Option<Option<i64>>,
    /// The images with their alt texts, in order.
    pub media: Option<Vec<(i64, String)>>,
    /// The campaign.
    pub campaign: Option<String>,
}

/// The targets that have started going out (or went out): these keep a
/// post from being edited.
#[must_use]
pub fn started(targets: &[Target]) -> Vec<&Target> {
    targets
        .iter()
        .filter(|t| {
            t.sending_since.is_some()
                || !matches!(
                    t.state.as_str(),
                    "draft" | "in_review" | "approved" | "scheduled"
                )
        })
        .collect()
}

/// A channel's own text as its author wrote it (`None`: it sends the
/// shared text, with the campaign's tags).
#[must_use]
pub fn own_text(post: &Post, t: &Target) -> Option<String> {
    let text = t.text.as_deref()?;
    let shared = channel_text(&post.text, None, &t.network, &post.campaign);
    (text != shared).then(|| text.to_owned())
}

/// Edits a post that has not started going out. Returns it as stored
/// and what deserves a second look (images without alt text).
pub async fn edit(
    state: &AppState,
    user: &User,
    ws: i64,
    id: i64,
    e: &Edit,
) -> Result<((Post, Vec<Target>), Vec<FieldError>)> {
    let m = access(state, user, ws, Action::ComposePosts).await?;
    let (post, targets) = state.store.post(ws, id).await?;
    if !started(&targets).is_empty() {
        return Err(AppError::PostSent);
    }
    let now = now_ms();
    let draft = targets.iter().all(|t| t.state == "draft");
    let channel_ids: Vec<i64> = targets.iter().filter_map(|t| t.channel_id).collect();
    let mut errors = vec![];
    let own: Vec<(i64, Option<String>)> = match &e.targets {
        Some(given) => {
            for (ch, _) in given {
                if !channel_ids.contains(ch) {
                    errors.push(
                        FieldError::new("targets", "channel_not_in_post")
                            .with("id", ch.to_string()),
                    );
                }
            }
            channel_ids
                .iter()
                .map(|ch| {
                    let text = given
                        .iter()
                        .find(|(g, _)| g == ch)
                        .and_then(|(_, t)| t.clone());
                    (*ch, text)
                })
                .collect()
        }
        None => targets
            .iter()
            .filter_map(|t| Some((t.channel_id?, own_text(&post, t))))
            .collect(),
    };
    // An unchanged time is not held against the clock: a post waiting in
    // review may be past its time and still be edited.
    let unchanged = When::Draft(post.scheduled_at);
    let (when, new_at, clear) = match e.at {
        Some(Some(at)) if Some(at) != post.scheduled_at => {
            if draft {
                (When::Draft(Some(at)), Some(at), false)
            } else {
                (When::At(at), Some(at), false)
            }
        }
        Some(None) if post.scheduled_at.is_some() => {
            if !draft {
                errors.push(FieldError::new("scheduled_at", "time_required"));
            }
            (When::Draft(None), None, draft)
        }
        _ if draft => (unchanged, None, false),
        _ => (When::At(now), None, false),
    };
    let c = Compose {
        text: e.text.clone().unwrap_or_else(|| post.text.clone()),
        targets: own,
        when,
        media: match &e.media {
            Some(m) => m.clone(),
            None => state
                .store
                .post_images(&[id])
                .await?
                .into_iter()
                .map(|i| (i.media_id, i.alt))
                .collect(),
        },
        campaign: e.campaign.clone().unwrap_or_else(|| post.campaign.clone()),
    };
    // A draft stays a draft; anything else is checked as going out.
    let checked = if draft {
        c.clone()
    } else {
        Compose {
            when: When::At(new_at.unwrap_or(now)),
            ..c.clone()
        }
    };
    let channels = state.store.channels(ws).await?;
    let (sizes, more) = media_sizes(state, ws, &checked).await?;
    errors.extend(more);
    let checked_targets = match check(state, &channels, &checked, &sizes, now) {
        Ok(t) if errors.is_empty() => t,
        Ok(_) => return Err(AppError::Invalid(errors)),
        Err(more) => {
            errors.extend(more);
            errors.dedup();
            return Err(AppError::Invalid(errors));
        }
    };
    let review = if draft {
        ReviewStep::Keep
    } else if m.role.can(Action::ApprovePosts) {
        ReviewStep::Renew
    } else {
        ReviewStep::Reopen {
            always: state.store.approval_required(ws).await?,
        }
    };
    let change = PostEdit {
        text: c.text.trim().to_owned(),
        // A time up to the check's grace in the past means now.
        scheduled_at: if draft {
            new_at
        } else {
            new_at.map(|at| at.max(now))
        },
        clear_time: clear,
        campaign: c.campaign.trim().to_owned(),
        media: c
            .media
            .iter()
            .map(|(id, alt)| (*id, alt.trim().to_owned()))
            .collect(),
        targets: checked_targets
            .into_iter()
            .map(|t| (t.channel_id, t.text))
            .collect(),
        review,
        by_user: Some(user.id),
        by_name: user.name.clone(),
    };
    let round = state
        .store
        .edit_post(ws, id, &change, now)
        .await
        .map_err(|e| match e {
            StoreError::Conflict => AppError::PostSent,
            other => other.into(),
        })?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "post.edited",
        json!({"post": id, "images": c.media.len(), "review_round": round,
               "to_review": matches!(review, ReviewStep::Reopen { .. }) && round.is_some()}),
    )
    .await;
    Ok((state.store.post(ws, id).await?, crate::posts::warnings(&c)))
}
