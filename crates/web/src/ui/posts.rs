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
    let mut upload_errors = vec![];
    for (name, file) in &f.files {
        let Some(slot) = name.strip_prefix("file_") else {
            continue;
        };
        let uploaded = match file {
            Ok(bytes) => crate::media::upload(s, &w.me.user, w.m.workspace.id, bytes).await,
            Err(e) => Err(e.clone().into()),
        };
        match uploaded {
            Ok(m) => {
                if !media.iter().any(|(id, _)| *id == m.id) {
                    media.push((m.id, f.get(&format!("alt_new_{slot}"))));
                }
            }
            Err(AppError::Invalid(errs)) => upload_errors.extend(errs),
            Err(e) => return Err(UiError(e, t)),
        }
    }
    Ok(upload_errors)
}

async fn render(
    s: &AppState,
    w: WsCtx,
    errors: FieldErrs,
    notice: Option<String>,
    typed: Typed,
    queue: bool,
    link: Option<(i64, String)>,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let tz = w.m.workspace.timezone.clone();
    let page = w.page.at(&format!("/w/{ws}/posts"));
    let err = |e: dialoog_store::StoreError| UiError(e.into(), t);
    let images: Vec<ImageView> = typed
        .media
        .iter()
        .map(|(id, alt)| ImageView {
            id: *id,
            alt: alt.clone(),
            url: format!("/w/{ws}/media/{id}"),
        })
        .collect();
    let mut previews = vec![];
    let mut channels = vec![];
    for c in s.store.channels(ws).await.map_err(err)? {
        let Some(r) = dialoog_engine::channel_rules(&s.cipher, &c).filter(|r| r.can_publish) else {
            continue;
        };
        let own = typed
            .own
            .iter()
            .find(|(id, _)| *id == c.id)
            .map(|(_, t)| t.clone())
            .unwrap_or_default();
        let checked = typed.channels.contains(&c.id);
        let max = r.max_length.map(|m| m.to_string()).unwrap_or_default();
        if typed.preview && checked {
            let body =
                crate::posts::channel_text(&typed.text, Some(&own), &c.network, &typed.campaign);
            let (count, limit) = compose::counted(&body, &r);
            previews.push(PreviewView {
                channel: c.name.clone(),
                network: c.network.clone(),
                segments: compose::segments(&body, &c.network),
                count,
                max: max.clone(),
                over: limit.is_some_and(|m| count > m),
                images: images
                    .iter()
                    .map(|i| ImageView {
                        id: i.id,
                        alt: i.alt.clone(),
                        url: i.url.clone(),
                    })
                    .collect(),
                too_many_images: images.len() > r.max_images,
            });
        }
        channels.push(ChannelChoice {
            checked,
            id: c.id,
            name: c.name,
            network: c.network,
            own,
            counting: compose::counting_name(r.counting),
            max,
            max_images: r.max_images,
        });
    }
    let alt_missing = typed
        .media
        .iter()
        .enumerate()
        .filter(|(_, (_, alt))| alt.trim().is_empty())
        .map(|(n, _)| t.fmt("posts.alt_missing", &[("n", &(n + 1).to_string())]))
        .collect();
    let waiting = s.store.posts_in_review(ws, 200).await.map_err(err)?;
    let in_review = waiting.len();
    let list = if queue {
        waiting
    } else {
        s.store.recent_posts(ws, None, 50).await.map_err(err)?
    };
    let ids: Vec<i64> = list.iter().map(|(p, _)| p.id).collect();
    let reviews = s.store.reviews_of(&ids).await.map_err(err)?;
    let comments = s.store.comments_of(&ids).await.map_err(err)?;
    let post_images = s.store.post_images(&ids).await.map_err(err)?;
    let posts = list
        .into_iter()
        .map(|(p, targets)| PostView {
            id: p.id,
            review: {
                let thread: Vec<_> = comments.iter().filter(|c| c.post_id == p.id).collect();
                let mut r = review_view(
                    &page,
                    &tz,
                    &targets,
                    reviews.iter().find(|r| r.post_id == p.id),
                    &thread,
                );
                if let Some((_, url)) = link.as_ref().filter(|(id, _)| *id == p.id) {
                    r.link.clone_from(url);
                }
                r
            },
            series: p.series_id,
            editable: crate::edit::started(&targets).is_empty(),
            sent_note: sent_note(t, &targets),
            images: post_images
                .iter()
                .filter(|i| i.post_id == p.id)
                .map(|i| ImageView {
                    id: i.media_id,
                    alt: i.alt.clone(),
                    url: format!("/w/{ws}/media/{}", i.media_id),
                })
                .collect(),
            text: p.text.chars().take(500).collect(),
            when: p
                .scheduled_at
                .map_or_else(|| t.s("posts.no_time").to_owned(), |at| page.when(&at, &tz)),
            targets: targets
                .into_iter()
                .map(|x| TargetView {
                    channel: x.channel_name,
                    state_key: format!("posts.state.{}", x.state),
                    lead: t
                        .get(&format!("posts.reason.{}", x.error_code))
                        .unwrap_or_default()
                        .to_owned(),
                    detail: x.error,
                    url: x
                        .remote_url
                        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                        .unwrap_or_default(),
                    state: x.state,
                })
                .collect(),
        })
        .collect();
    let status = if errors.any() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let v = PostsView {
        can_compose: w.m.role.can(Action::ComposePosts),
        can_approve: w.m.role.can(Action::ApprovePosts),
        can_comment: w.m.role.can(Action::CommentPosts),
        queue,
        in_review,
        needs_approval: crate::approval::planned_state(s, &w.m)
            .await
            .map_err(|e| UiError(e, t))?
            == "in_review",
        page,
        errors,
        notice,
        ws,
        channels,
        posts,
        text: typed.text,
        date: typed.date,
        time: typed.time,
        when: if typed.when.is_empty() {
            "now".into()
        } else {
            typed.when
        },
        timezone: tz,
        campaign: typed.campaign,
        new_slots: (1..=SLOTS.saturating_sub(images.len()).max(1)).collect(),
        images,
        previews,
        alt_missing,
        repeat: typed.repeat,
        editing: false,
    };
    Ok((status, html(&v, t)).into_response())
}

/// `?done=…` after a redirect; `?show=review` for the review queue.
#[derive(serde::Deserialize)]
pub struct PageQuery {
    #[serde(flatten)]
    done: super::channels::Done,
    show: Option<String>,
}

/// The posts page.
pub async fn page(
    State(s): State<AppState>,
    w: WsCtx,
    Query(q): Query<PageQuery>,
) -> Result<Response, UiError> {
    w.require(Action::ViewPosts)?;
    let notice = q.done.notice(w.me.ctx.t);
    let queue = q.show.as_deref() == Some("review");
    render(
        &s,
        w,
        FieldErrs::default(),
        notice,
        Typed::default(),
        queue,
        None,
    )
    .await
}

/// Composing a post: the same checks as the API, in the user's language.
/// New images are checked and stored first (so they survive a preview or
/// a refused post); "Preview" shows each channel's version instead of
/// saving.
pub async fn create(State(s): State<AppState>, w: WsCtx, f: UiUpload) -> Result<Response, UiError> {
    w.require(Action::ComposePosts)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let field_id =
        |n: &str, prefix: &str| n.strip_prefix(prefix).and_then(|v| v.parse::<i64>().ok());
    let mut typed = Typed {
        text: f.get("text"),
        channels: f
            .fields
            .iter()
            .filter(|(n, _)| n == "channel")
            .filter_map(|(_, v)| v.parse().ok())
            .collect(),
        own: f
            .fields
            .iter()
            .filter_map(|(n, v)| Some((field_id(n, "text_")?, v.clone())))
            .collect(),
        date: f.get("date"),
        time: f.get("time"),
        when: f.get("when"),
        campaign: f.get("campaign"),
        media: f
            .fields
            .iter()
            .filter(|(n, _)| n == "media")
            .filter_map(|(_, v)| v.parse::<i64>().ok())
            .map(|id| (id, f.get(&format!("alt_{id}"))))
            .collect(),
        preview: f.get("action") == "preview",
        repeat: super::compose_repeat::RepeatTyped::from_form(&f.fields),
    };
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
