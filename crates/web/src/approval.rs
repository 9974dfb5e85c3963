//! Approval of posts: the workspace's setting, submitting, approving,
//! sending back with a reason, comments, and the secret link through which
//! a client approves or comments without an account.
//!
//! Decisions taken here:
//! - With approval required, a post an editor plans (now or at a time)
//!   waits in review; owners and managers may approve, so their own posts
//!   skip review. Drafts stay drafts until submitted; anyone who composes
//!   may submit a draft for review, required or not.
//! - Approving schedules the post at its time, or now when that time has
//!   passed or it had none. The `approved` state of the contract is not a
//!   resting state: an approved post is `scheduled`, and its review record
//!   says it was approved.
//! - Sending back needs a reason; the post becomes a draft with the reason
//!   in its thread.
//! - A change by someone who may not approve sends a post in review or
//!   approved (not yet started) back to review in a new round; links made
//!   for an earlier round stop working.
//! - A client link works for one review round, at most 14 days, and for one
//!   approval; comments through it are allowed while the round is open.

use dialoog_domain::{Action, FieldError, PersonName};
use dialoog_store::{Actor, ApprovalLink, Comment, Membership, Post, StoreError, Target, User};
use serde_json::json;

use crate::AppState;
use crate::error::AppError;
use crate::security::{random_token, token_hash};
use crate::service::{Result, access, audit, now_ms};

/// The longest comment or reason accepted.
pub const MAX_COMMENT: usize = 5000;
/// How long a client link works at most.
pub const LINK_DAYS: i64 = 14;

/// What can go wrong in a review, with its stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalError {
    /// The post is not awaiting approval (any more): decided by someone
    /// else, changed, published or sent back.
    NotInReview,
    /// Only a draft can be submitted.
    NotDraft,
    /// The client link is not one of ours.
    LinkInvalid,
    /// The client link was used to approve already.
    LinkUsed,
    /// The client link expired, or its post left review.
    LinkExpired,
}

impl ApprovalError {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            ApprovalError::NotInReview => "not_in_review",
            ApprovalError::NotDraft => "not_a_draft",
            ApprovalError::LinkInvalid => "approval_link_invalid",
            ApprovalError::LinkUsed => "approval_link_used",
            ApprovalError::LinkExpired => "approval_link_expired",
        }
    }

    /// The HTTP status.
    pub fn status(self) -> axum::http::StatusCode {
        use axum::http::StatusCode as S;
        match self {
            ApprovalError::NotInReview | ApprovalError::NotDraft => S::CONFLICT,
            ApprovalError::LinkInvalid => S::NOT_FOUND,
            ApprovalError::LinkUsed | ApprovalError::LinkExpired => S::GONE,
        }
    }
}

fn review_err(not: ApprovalError) -> impl FnOnce(StoreError) -> AppError {
    move |e| match e {
        StoreError::Conflict => AppError::Approval(not),
        other => other.into(),
    }
}

fn actor(user: &User) -> Actor<'_> {
    Actor {
        user_id: Some(user.id),
        name: &user.name,
    }
}

/// Whether the workspace requires approval.
pub async fn required(state: &AppState, user: &User, ws: i64) -> Result<bool> {
    access(state, user, ws, Action::ViewWorkspace).await?;
    Ok(state.store.approval_required(ws).await?)
}

/// Turns the approval requirement on or off (owners, managers).
pub async fn set_required(state: &AppState, user: &User, ws: i64, on: bool) -> Result<()> {
    access(state, user, ws, Action::EditSettings).await?;
    let was = state.store.approval_required(ws).await?;
    state.store.set_approval_required(ws, on, now_ms()).await?;
    if was != on {
        audit(
            state,
            Some(ws),
            Some(user.id),
            "workspace.approval_changed",
            json!({"required": on}),
        )
        .await;
    }
    Ok(())
}

/// The state a post that should go out starts in: `in_review` when the
/// workspace requires approval and the author may not approve.
pub async fn planned_state(state: &AppState, m: &Membership) -> Result<&'static str> {
    if !m.role.can(Action::ApprovePosts) && state.store.approval_required(m.workspace.id).await? {
        Ok("in_review")
    } else {
        Ok("scheduled")
    }
}

/// After a post was made: one that starts in review opens its first round.
pub async fn after_create(state: &AppState, user: &User, post: &Post, targets: &[Target]) {
    if !targets.iter().any(|t| t.state == "in_review") {
        return;
    }
    let started = state
        .store
        .start_review(post.id, actor(user), now_ms())
        .await;
    if let Err(e) = started {
        tracing::error!(error = %e, post = post.id, "review round not recorded");
    }
    audit(
        state,
        Some(post.workspace_id),
        Some(user.id),
        "post.submitted",
        json!({"post": post.id, "round": 1}),
    )
    .await;
}

/// After a change to a post: by someone who may not approve, a post in
/// review or approved goes back to review.
pub async fn after_change(state: &AppState, user: &User, m: &Membership, id: i64) -> Result<()> {
    if m.role.can(Action::ApprovePosts) {
        return Ok(());
    }
    let ws = m.workspace.id;
    if let Some(round) = state
        .store
        .reopen_review(ws, id, actor(user), now_ms())
        .await?
    {
        audit(
            state,
            Some(ws),
            Some(user.id),
            "post.review_reopened",
            json!({"post": id, "round": round}),
        )
        .await;
    }
    Ok(())
}

/// Submits a draft for approval.
pub async fn submit(state: &AppState, user: &User, ws: i64, id: i64) -> Result<()> {
    access(state, user, ws, Action::ComposePosts).await?;
    let (post, targets) = state.store.post(ws, id).await?;
    let mut errors = vec![];
    if post.text.trim().is_empty() && targets.iter().any(|t| t.text.is_none()) {
        errors.push(FieldError::new("text", "required"));
    }
    if targets.is_empty() {
        errors.push(FieldError::new("targets", "channels_required"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let round = state
        .store
        .submit_post(ws, id, actor(user), now_ms())
        .await
        .map_err(review_err(ApprovalError::NotDraft))?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "post.submitted",
        json!({"post": id, "round": round}),
    )
    .await;
    Ok(())
}

fn check_text(text: &str, field: &'static str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, "required").into());
    }
    if text.chars().count() > MAX_COMMENT {
        return Err(FieldError::new(field, "comment_too_long").into());
    }
    Ok(text.to_owned())
}

/// Tells the post's author (unless they did it themselves).
async fn tell_author(state: &AppState, ws: i64, id: i64, kind: &str, who: Actor<'_>) {
    let author = match state.store.post(ws, id).await {
        Ok((p, _)) => p.author_id,
        Err(_) => None,
    };
    let Some(author) = author.filter(|a| Some(*a) != who.user_id) else {
        return;
    };
    if let Err(e) = state
        .store
        .notify(author, ws, kind, id, who.name, now_ms())
        .await
    {
        tracing::error!(error = %e, "notification not stored");
    }
}

/// Approves a post in review (`round`: the version the approver saw).
pub async fn approve(
    state: &AppState,
    user: &User,
    ws: i64,
    id: i64,
    round: Option<i64>,
) -> Result<()> {
    access(state, user, ws, Action::ApprovePosts).await?;
    decide(state, user, ws, id, round, None).await
}

/// Sends a post in review back to its author as a draft, with a reason.
pub async fn reject(
    state: &AppState,
    user: &User,
    ws: i64,
    id: i64,
    round: Option<i64>,
    reason: &str,
) -> Result<()> {
    access(state, user, ws, Action::ApprovePosts).await?;
    let reason = check_text(reason, "comment")?;
    decide(state, user, ws, id, round, Some(&reason)).await
}

/// Records a decision on a post in review (approved, or sent back with
/// `reason`), in the audit log, and tells the author.
async fn decide(
    state: &AppState,
    user: &User,
    ws: i64,
    id: i64,
    round: Option<i64>,
    reason: Option<&str>,
) -> Result<()> {
    let (approved, kind) = match reason {
        None => (true, "approved"),
        Some(_) => (false, "rejected"),
    };
    let review = state
        .store
        .decide(
            ws,
            id,
            round,
            approved,
            actor(user),
            reason.unwrap_or(""),
            now_ms(),
        )
        .await
        .map_err(review_err(ApprovalError::NotInReview))?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        &format!("post.{kind}"),
        json!({"post": id, "round": review.round}),
    )
    .await;
    tell_author(state, ws, id, &format!("post_{kind}"), actor(user)).await;
    Ok(())
}

/// Comments on a post.
pub async fn comment(
    state: &AppState,
    user: &User,
    ws: i64,
    id: i64,
    text: &str,
) -> Result<Comment> {
    access(state, user, ws, Action::CommentPosts).await?;
    let text = check_text(text, "text")?;
    let c = state
        .store
        .add_comment(ws, id, actor(user), &text, now_ms())
        .await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "post.commented",
        json!({"post": id, "comment": c.id}),
    )
    .await;
    tell_author(state, ws, id, "post_commented", actor(user)).await;
    Ok(c)
}

/// The thread under a post.
pub async fn comments(state: &AppState, user: &User, ws: i64, id: i64) -> Result<Vec<Comment>> {
    access(state, user, ws, Action::ViewPosts).await?;
    state.store.post(ws, id).await?;
    Ok(state.store.comments(ws, id).await?)
}

/// Makes a secret link through which a client approves or comments on a
/// post in review without an account. Returns the address and its expiry.
pub async fn client_link(state: &AppState, user: &User, ws: i64, id: i64) -> Result<(String, i64)> {
    access(state, user, ws, Action::ApprovePosts).await?;
    let (_, targets) = state.store.post(ws, id).await?;
    if !targets.iter().any(|t| t.state == "in_review") {
        return Err(AppError::Approval(ApprovalError::NotInReview));
    }
    let round = state
        .store
        .reviews_of(&[id])
        .await?
        .first()
        .map_or(1, |r| r.round);
    let token = random_token();
    let now = now_ms();
    let expires = now + LINK_DAYS * 86_400_000;
    state
        .store
        .create_approval_link(&token_hash(&token), id, round, user.id, now, expires)
        .await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "post.client_link_created",
        json!({"post": id, "round": round}),
    )
    .await;
    Ok((
        format!("{}/review/{token}", state.config.public_url),
        expires,
    ))
}

/// A client link that still works, or why it does not.
pub async fn open_link(state: &AppState, token: &str) -> Result<ApprovalLink> {
    if token.len() > 100 {
        return Err(AppError::Approval(ApprovalError::LinkInvalid));
    }
    let link = state
        .store
        .approval_link(&token_hash(token))
        .await?
        .ok_or(AppError::Approval(ApprovalError::LinkInvalid))?;
    if link.used_at.is_some() {
        return Err(AppError::Approval(ApprovalError::LinkUsed));
    }
    let open = link.current_round == Some(link.round) && link.status.as_deref() == Some("open");
    if !open || link.expires_at <= now_ms() {
        return Err(AppError::Approval(ApprovalError::LinkExpired));
    }
    Ok(link)
}

fn client_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(String::new());
    }
    Ok(PersonName::parse(name)?.as_str().to_owned())
}

/// A client approves through a link.
pub async fn link_approve(state: &AppState, token: &str, name: &str) -> Result<()> {
    let link = open_link(state, token).await?;
    let name = client_name(name)?;
    let who = Actor {
        user_id: None,
        name: &name,
    };
    let ws = link.workspace_id;
    state
        .store
        .decide(ws, link.post_id, Some(link.round), true, who, "", now_ms())
        .await
        .map_err(review_err(ApprovalError::LinkExpired))?;
    state
        .store
        .use_approval_link(&token_hash(token), now_ms())
        .await?;
    audit(
        state,
        Some(ws),
        None,
        "post.approved",
        json!({"post": link.post_id, "round": link.round, "via": "client_link", "name": name}),
    )
    .await;
    tell_author(state, ws, link.post_id, "post_approved", who).await;
    Ok(())
}

/// A client comments through a link.
pub async fn link_comment(state: &AppState, token: &str, name: &str, text: &str) -> Result<()> {
    let link = open_link(state, token).await?;
    let name = client_name(name)?;
    let text = check_text(text, "text")?;
    let who = Actor {
        user_id: None,
        name: &name,
    };
    let ws = link.workspace_id;
    let c = state
        .store
        .add_comment(ws, link.post_id, who, &text, now_ms())
        .await?;
    audit(
        state,
        Some(ws),
        None,
        "post.commented",
        json!({"post": link.post_id, "comment": c.id, "via": "client_link", "name": name}),
    )
    .await;
    tell_author(state, ws, link.post_id, "post_commented", who).await;
    Ok(())
}
