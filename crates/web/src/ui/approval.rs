//! Approval in the interface: the setting, the review steps on the posts
//! page, and the public page a client opens through a secret link.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use dialoog_domain::Action;
use dialoog_store::{Comment, Review, Target};
use serde::Deserialize;

use super::forms::{FieldErrs, UiForm};
use super::{Ctx, Page, UiError, WsCtx, html, see_other};
use crate::AppState;
use crate::approval::{self, ApprovalError};
use crate::error::{AppError, field_message};
use crate::i18n::Tr;

/// One entry of a post's thread as the page shows it.
pub struct CommentView {
    /// Who.
    pub who: String,
    /// What kind of step, as a translation key.
    pub kind_key: String,
    /// The words.
    pub body: String,
    /// When, in the workspace's zone.
    pub when: String,
}

/// A post's review as the posts page shows it.
#[derive(Default)]
pub struct ReviewView {
    /// `draft`, `in_review` or something further along.
    pub stage: String,
    /// The round to name in the approve and send-back forms.
    pub round: i64,
    /// The thread.
    pub thread: Vec<CommentView>,
    /// A client link just made for this post.
    pub link: String,
}

/// The review part of one post on the posts page.
pub fn review_view(
    page: &Page,
    tz: &str,
    targets: &[Target],
    review: Option<&Review>,
    thread: &[&Comment],
) -> ReviewView {
    let t = page.t;
    let stage = if targets.iter().any(|x| x.state == "in_review") {
        "in_review"
    } else if !targets.is_empty() && targets.iter().all(|x| x.state == "draft") {
        "draft"
    } else {
        ""
    };
    ReviewView {
        stage: stage.to_owned(),
        round: review.map_or(0, |r| r.round),
        thread: thread
            .iter()
            .map(|c| CommentView {
                who: match (c.user_id, c.author_name.is_empty()) {
                    (Some(_), _) => c.author_name.clone(),
                    (None, false) => t.fmt("approval.via_link", &[("name", &c.author_name)]),
                    (None, true) => t.s("approval.client_unnamed").to_owned(),
                },
                kind_key: format!("approval.kind.{}", c.kind),
                body: c.body.clone(),
                when: page.when(&c.created_at, tz),
            })
            .collect(),
        link: String::new(),
    }
}

/// An error of a review step, as a message for the top of the page.
fn message(e: &AppError, t: Tr) -> String {
    match e {
        AppError::Invalid(fields) => fields
            .iter()
            .map(|f| field_message(t, f))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.message(t),
    }
}

async fn after(
    s: &AppState,
    w: WsCtx,
    result: Result<(), AppError>,
    done: &str,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    match result {
        Ok(()) => Ok(see_other(&format!("/w/{ws}/posts?done={done}"))),
        Err(e @ (AppError::Forbidden | AppError::NotFound | AppError::Internal(_))) => {
            Err(UiError(e, t))
        }
        Err(e) => super::posts::render_with(s, w, form_error(message(&e, t)), None).await,
    }
}

fn form_error(msg: String) -> FieldErrs {
    let mut errors = FieldErrs::default();
    errors.form = Some(msg);
    errors
}

/// The empty form (CSRF token only).
#[derive(Deserialize)]
pub struct Empty {}

/// Submitting a draft for approval.
pub async fn submit(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, post)): Path<(i64, i64)>,
    UiForm(_): UiForm<Empty>,
) -> Result<Response, UiError> {
    w.require(Action::ComposePosts)?;
    let r = approval::submit(&s, &w.me.user, w.m.workspace.id, post).await;
    after(&s, w, r, "post_submitted").await
}

/// A decision, naming the round the decider saw.
#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    round: Option<i64>,
    #[serde(default)]
    comment: String,
}

/// Approving.
pub async fn approve(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, post)): Path<(i64, i64)>,
    UiForm(f): UiForm<DecideForm>,
) -> Result<Response, UiError> {
    w.require(Action::ApprovePosts)?;
    let r = approval::approve(&s, &w.me.user, w.m.workspace.id, post, f.round).await;
    after(&s, w, r, "post_approved").await
}

/// Sending back with a reason.
pub async fn reject(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, post)): Path<(i64, i64)>,
    UiForm(f): UiForm<DecideForm>,
) -> Result<Response, UiError> {
    w.require(Action::ApprovePosts)?;
    let r = approval::reject(&s, &w.me.user, w.m.workspace.id, post, f.round, &f.comment).await;
    after(&s, w, r, "post_rejected").await
}

/// A comment.
#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    name: String,
}

/// Commenting.
pub async fn comment(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, post)): Path<(i64, i64)>,
    UiForm(f): UiForm<CommentForm>,
) -> Result<Response, UiError> {
    w.require(Action::CommentPosts)?;
    let r = approval::comment(&s, &w.me.user, w.m.workspace.id, post, &f.text)
        .await
        .map(|_| ());
    after(&s, w, r, "comment_added").await
}

/// Making a client link: the page shows it under its post, ready to copy.
pub async fn client_link(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, post)): Path<(i64, i64)>,
    UiForm(_): UiForm<Empty>,
) -> Result<Response, UiError> {
    w.require(Action::ApprovePosts)?;
    match approval::client_link(&s, &w.me.user, w.m.workspace.id, post).await {
        Ok((url, _)) => {
            super::posts::render_with(&s, w, FieldErrs::default(), Some((post, url))).await
        }
        Err(e) => after(&s, w, Err(e), "").await,
    }
}

/// The approval setting.
#[derive(Deserialize)]
pub struct SettingForm {
    #[serde(default)]
    required: Option<String>,
}

/// Turning approval on or off.
pub async fn setting(
    State(s): State<AppState>,
    w: WsCtx,
    UiForm(f): UiForm<SettingForm>,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    approval::set_required(&s, &w.me.user, ws, f.required.is_some())
        .await
        .map_err(|e| UiError(e, t))?;
    Ok(see_other(&format!("/w/{ws}/settings?done=saved")))
}

/// One channel's version on the client's page.
struct Version {
    channel: String,
    network: String,
    text: String,
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    page: Page,
    token: String,
    /// `open`, `approved`, `commented`, or a problem's code.
    mode: String,
    message: String,
    intro: String,
    when: String,
    versions: Vec<Version>,
    errors: FieldErrs,
    name: String,
    text: String,
}

async fn review_page(
    s: &AppState,
    ctx: &Ctx,
    token: &str,
    mode: &str,
    errors: FieldErrs,
    typed: (String, String),
) -> Response {
    let t = ctx.t;
    let page = Page::anonymous(t, &ctx.csrf, &format!("/review/{token}"));
    let mut v = ReviewPage {
        page,
        token: token.to_owned(),
        mode: mode.to_owned(),
        message: String::new(),
        intro: String::new(),
        when: String::new(),
        versions: vec![],
        errors,
        name: typed.0,
        text: typed.1,
    };
    let link = if mode == "open" || mode == "commented" {
        approval::open_link(s, token).await
    } else {
        Err(AppError::NotFound)
    };
    let status = match link {
        Ok(link) => {
            match s.store.post(link.workspace_id, link.post_id).await {
                Ok((post, targets)) => {
                    v.intro = t.fmt(
                        "approval.page_intro",
                        &[("workspace", &link.workspace_name)],
                    );
                    // A time that has passed means: as soon as it is approved.
                    let now = crate::service::now_ms();
                    v.when = post.scheduled_at.filter(|at| *at > now).map_or_else(
                        || t.s("approval.when_approved").to_owned(),
                        |at| v.page.when(&at, &link.timezone),
                    );
                    v.when = format!("{} ({})", v.when, link.timezone);
                    v.versions = targets
                        .into_iter()
                        .map(|x| Version {
                            text: x.text.unwrap_or_else(|| post.text.clone()),
                            channel: x.channel_name,
                            network: x.network,
                        })
                        .collect();
                    if v.errors.any() {
                        axum::http::StatusCode::UNPROCESSABLE_ENTITY
                    } else {
                        axum::http::StatusCode::OK
                    }
                }
                Err(e) => return UiError(e.into(), t).into_response(),
            }
        }
        Err(AppError::NotFound) if mode != "open" => axum::http::StatusCode::OK,
        Err(e @ AppError::Approval(_)) => {
            v.mode = e.code().to_owned();
            v.message = e.message(t);
            e.status()
        }
        Err(e) => return UiError(e, t).into_response(),
    };
    (status, html(&v, t)).into_response()
}

/// The client's page: the post per channel and its time, with Approve and
/// Comment forms.
pub async fn public_page(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> Response {
    review_page(
        &s,
        &ctx,
        &token,
        "open",
        FieldErrs::default(),
        Default::default(),
    )
    .await
}

async fn outcome(
    s: &AppState,
    ctx: &Ctx,
    token: &str,
    r: Result<(), AppError>,
    done: &'static str,
    typed: (String, String),
) -> Response {
    let t = ctx.t;
    let (mode, errors) = match r {
        Ok(()) => (done, FieldErrs::default()),
        // The link's own problem (used, expired) shows as the page itself.
        Err(AppError::Approval(
            ApprovalError::LinkInvalid | ApprovalError::LinkUsed | ApprovalError::LinkExpired,
        )) => ("open", FieldErrs::default()),
        Err(e) => ("open", form_error(message(&e, t))),
    };
    review_page(s, ctx, token, mode, errors, typed).await
}

/// A client approves.
pub async fn public_approve(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    UiForm(f): UiForm<CommentForm>,
) -> Response {
    let r = approval::link_approve(&s, &token, &f.name).await;
    outcome(&s, &ctx, &token, r, "approved", (f.name, String::new())).await
}

/// A client comments.
pub async fn public_comment(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    UiForm(f): UiForm<CommentForm>,
) -> Response {
    let r = approval::link_comment(&s, &token, &f.name, &f.text).await;
    let typed = if r.is_ok() {
        (f.name, String::new())
    } else {
        (f.name, f.text)
    };
    outcome(&s, &ctx, &token, r, "commented", typed).await
}
