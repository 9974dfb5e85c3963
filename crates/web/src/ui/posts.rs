//! The posts page: compose one text for several channels (now, at a time
//! in the workspace's timezone, or as a draft) and see how each channel's
//! publish went, with the reason when it did not.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use dialoog_domain::{Action, time};

use super::approval::{ReviewView, review_view};
use super::compose;
use super::forms::FieldErrs;
use super::upload::UiUpload;
use super::{Page, UiError, WsCtx, html, see_other};
use crate::AppState;
use crate::error::AppError;
use crate::posts::{Compose, When};

/// One channel's publish as the page shows it.
struct TargetView {
    channel: String,
    state: String,
    state_key: String,
    /// What a failure means, in the user's language.
    lead: String,
    /// The network's words.
    detail: String,
    url: String,
}

/// One post as the page shows it.
struct PostView {
    id: i64,
    review: ReviewView,
    text: String,
    /// The recurring series it belongs to, if any.
    series: Option<i64>,
    when: String,
    targets: Vec<TargetView>,
    images: Vec<ImageView>,
    /// None of its channels has started: it can be edited.
    editable: bool,
    /// Why it can no longer be edited (empty when it can).
    sent_note: String,
}

/// A channel that can be chosen, with its own text and how its network
/// counts (for `count.js` and the preview).
pub(super) struct ChannelChoice {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) network: String,
    pub(super) checked: bool,
    pub(super) own: String,
    pub(super) counting: &'static str,
    pub(super) max: String,
    pub(super) max_images: usize,
}

/// An image of the post being composed (uploaded already).
pub(super) struct ImageView {
    pub(super) id: i64,
    pub(super) alt: String,
    pub(super) url: String,
}

/// How one channel will show the post.
struct PreviewView {
    channel: String,
    network: String,
    segments: Vec<compose::Seg>,
    count: usize,
    max: String,
    over: bool,
    images: Vec<ImageView>,
    too_many_images: bool,
}

#[derive(Template)]
#[template(path = "posts.html")]
struct PostsView {
    page: Page,
    errors: FieldErrs,
    notice: Option<String>,
    ws: i64,
    can_compose: bool,
    can_approve: bool,
    can_comment: bool,
    /// Only the posts awaiting approval.
    queue: bool,
    /// How many posts await approval.
    in_review: usize,
    /// This member's posts wait for approval before they go out.
    needs_approval: bool,
    channels: Vec<ChannelChoice>,
    posts: Vec<PostView>,
    text: String,
    date: String,
    time: String,
    when: String,
    timezone: String,
    campaign: String,
    images: Vec<ImageView>,
    new_slots: Vec<usize>,
    previews: Vec<PreviewView>,
    alt_missing: Vec<String>,
    repeat: super::compose_repeat::RepeatTyped,
    /// The shared fields are composing, not editing.
    editing: bool,
}

/// What was typed into the compose form.
#[derive(Default)]
struct Typed {
    text: String,
    channels: Vec<i64>,
    own: Vec<(i64, String)>,
    date: String,
    time: String,
    when: String,
    campaign: String,
    /// Uploaded images with their alt text.
    media: Vec<(i64, String)>,
    preview: bool,
    repeat: super::compose_repeat::RepeatTyped,
}

/// The page with a review step's outcome: an error at the top, or a
/// client link just made for one post.
pub(super) async fn render_with(
    s: &AppState,
    w: WsCtx,
    errors: FieldErrs,
    link: Option<(i64, String)>,
) -> Result<Response, UiError> {
    render(s, w, errors, None, Typed::default(), false, link).await
}

/// Room for new images in the form.
pub(super) const SLOTS: usize = 4;

/// Why a post can no longer be edited, naming the channels it went (or
/// is going) out on; empty when it can be.
pub(super) fn sent_note(t: crate::i18n::Tr, targets: &[dialoog_store::Target]) -> String {
    let sent = crate::edit::started(targets);
    if sent.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = sent.iter().map(|x| x.channel_name.as_str()).collect();
    t.fmt("edit.not_editable", &[("channels", &names.join(", "))])
}

/// Stores the form's new images (each checked by its first bytes) and
/// adds them to `media` with the alt text typed beside them; gives the
/// problems with files that are no image.
pub(super) async fn store_uploads(
    s: &AppState,
    w: &WsCtx,
    f: &UiUpload,
    media: &mut Vec<(i64, String)>,
) -> Result<Vec<dialoog_domain::FieldError>, UiError> {
    let t = w.me.ctx.t;
    let upload_errors = store_uploads(&s, &w, &f, &mut typed.media).await?;
    if !upload_errors.is_empty() {
        let errors = FieldErrs::from_error(AppError::Invalid(upload_errors), t)?;
        return render(&s, w, errors, None, typed, false, None).await;
    }
    if typed.preview {
        return render(&s, w, FieldErrs::default(), None, typed, false, None).await;
    }
    if typed.when == "repeat" {
        let result =
            super::compose_repeat::start(&s, &w, &typed.text, &typed.channels, &typed.repeat).await;
        return match result {
            Ok(()) => Ok(see_other(&format!("/w/{ws}/series?done=series_started"))),
            Err(e @ (AppError::Forbidden | AppError::NotFound)) => Err(UiError(e, t)),
            Err(e) => {
                let errors = FieldErrs::from_error(e, t)?;
                render(&s, w, errors, None, typed, false, None).await
            }
        };
    }
    let at = || time::local_instant(&typed.date, &typed.time, &w.m.workspace.timezone);
    let when = match typed.when.as_str() {
        "at" => at().map(When::At),
        "draft" if !typed.date.is_empty() => at().map(|a| When::Draft(Some(a))),
        "draft" => Ok(When::Draft(None)),
        "queue" => Ok(When::Queue),
        _ => Ok(When::Now),
    };
    let c = when.map(|when| Compose {
        text: typed.text.clone(),
        targets: typed
            .channels
            .iter()
            .map(|id| {
                let own = typed
                    .own
                    .iter()
                    .find(|(o, _)| o == id)
                    .map(|(_, t)| t.clone());
                (*id, own)
            })
            .collect(),
        when,
        media: typed.media.clone(),
        campaign: typed.campaign.clone(),
    });
    let result = match &c {
        Ok(c) => crate::posts::create(&s, &w.me.user, ws, c)
            .await
            .map(|_| ()),
        Err(e) => Err(e.clone().into()),
    };
    match result {
        Ok(()) => {
            let done = match &c {
                Ok(c) if !crate::posts::warnings(c).is_empty() => "post_saved_alt_missing",
                _ => "post_saved",
            };
            Ok(see_other(&format!("/w/{ws}/posts?done={done}")))
        }
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => Err(UiError(e, t)),
        Err(e) => {
            let errors = FieldErrs::from_error(e, t)?;
            render(&s, w, errors, None, typed, false, None).await
        }
    }
}

/// An uploaded image, to the workspace's members.
pub async fn image(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
) -> Result<Response, UiError> {
    w.require(Action::ViewPosts)?;
    let t = w.me.ctx.t;
    let (m, bytes) = s
        .store
        .media_bytes(w.m.workspace.id, id)
        .await
        .map_err(|e| UiError(e.into(), t))?;
    Ok(crate::api::image_response(&m, bytes))
}
