//! Editing a post in the interface: the composer's own fields (each
//! channel's text, the images with their alt texts, the campaign) filled
//! with the post, and its time. A post one of whose channels has started
//! going out shows why it can no longer be edited instead.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dialoog_domain::{Action, time};
use dialoog_store::{Post, Target};

use super::forms::FieldErrs;
use super::posts::{ChannelChoice, ImageView, SLOTS, store_uploads};
use super::upload::UiUpload;
use super::{Page, UiError, WsCtx, compose, html, see_other};
use crate::AppState;
use crate::edit::{Edit, own_text, started};
use crate::error::AppError;

#[derive(Template)]
#[template(path = "post_edit.html")]
struct EditView {
    page: Page,
    errors: FieldErrs,
    ws: i64,
    id: i64,
    /// The channels it went out (or is going out) on, with how far: when
    /// any, the post cannot be edited and the page says why.
    sent: Vec<String>,
    /// Saving sends it back to review.
    review_hint: bool,
    text: String,
    channels: Vec<ChannelChoice>,
    images: Vec<ImageView>,
    new_slots: Vec<usize>,
    alt_missing: Vec<String>,
    campaign: String,
    date: String,
    time: String,
    timezone: String,
    draft: bool,
    editing: bool,
}

/// What the form holds.
struct Typed {
    text: String,
    own: Vec<(i64, String)>,
    media: Vec<(i64, String)>,
    campaign: String,
    date: String,
    time: String,
}

fn typed_from(post: &Post, targets: &[Target], media: Vec<(i64, String)>, tz: &str) -> Typed {
    let local = post.scheduled_at.map(|at| time::local(at, tz));
    Typed {
        text: post.text.clone(),
        own: targets
            .iter()
            .filter_map(|t| Some((t.channel_id?, own_text(post, t).unwrap_or_default())))
            .collect(),
        media,
        campaign: post.campaign.clone(),
        date: local
            .as_ref()
            .map(|z| z.strftime("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        time: local
            .as_ref()
            .map(|z| z.strftime("%H:%M").to_string())
            .unwrap_or_default(),
    }
}

async fn render(
    s: &AppState,
    w: WsCtx,
    id: i64,
    typed: Typed,
    errors: FieldErrs,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let err = |e: dialoog_store::StoreError| UiError(e.into(), t);
    let (_, targets) = s.store.post(ws, id).await.map_err(err)?;
    let all = s.store.channels(ws).await.map_err(err)?;
    let mut channels = vec![];
    for x in &targets {
        let Some(c) = x.channel_id.and_then(|c| all.iter().find(|ch| ch.id == c)) else {
            continue;
        };
        let rules = dialoog_engine::channel_rules(&s.cipher, c);
        channels.push(ChannelChoice {
            id: c.id,
            name: c.name.clone(),
            network: c.network.clone(),
            checked: true,
            own: typed
                .own
                .iter()
                .find(|(o, _)| *o == c.id)
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
            counting: rules
                .as_ref()
                .map_or("characters", |r| compose::counting_name(r.counting)),
            max: rules
                .as_ref()
                .and_then(|r| r.max_length)
                .map(|m| m.to_string())
                .unwrap_or_default(),
            max_images: rules.as_ref().map_or(0, |r| r.max_images),
        });
    }
    let sent = started(&targets)
        .iter()
        .map(|x| {
            format!(
                "{}: {}",
                x.channel_name,
                t.s(&format!("posts.state.{}", x.state))
            )
        })
        .collect();
    let draft = targets.iter().all(|x| x.state == "draft");
    let review_hint = !draft
        && !w.m.role.can(Action::ApprovePosts)
        && s.store.approval_required(ws).await.map_err(err)?;
    let images: Vec<ImageView> = typed
        .media
        .iter()
        .map(|(mid, alt)| ImageView {
            id: *mid,
            alt: alt.clone(),
            url: format!("/w/{ws}/media/{mid}"),
        })
        .collect();
    let alt_missing = typed
        .media
        .iter()
        .enumerate()
        .filter(|(_, (_, alt))| alt.trim().is_empty())
        .map(|(n, _)| t.fmt("posts.alt_missing", &[("n", &(n + 1).to_string())]))
        .collect();
    let status = if errors.form.is_some() && !started(&targets).is_empty() {
        StatusCode::CONFLICT
    } else if errors.any() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let v = EditView {
        page: w.page.at(&format!("/w/{ws}/posts")),
        errors,
        ws,
        id,
        sent,
        review_hint,
        text: typed.text,
        channels,
        new_slots: (1..=SLOTS.saturating_sub(images.len()).max(1)).collect(),
        images,
        alt_missing,
        campaign: typed.campaign,
        date: typed.date,
        time: typed.time,
        timezone: w.m.workspace.timezone.clone(),
        draft,
        editing: true,
    };
    Ok((status, html(&v, t)).into_response())
}

/// The edit form of a post, filled with what it says now.
pub async fn page(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
) -> Result<Response, UiError> {
    w.require(Action::ComposePosts)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let err = |e: dialoog_store::StoreError| UiError(e.into(), t);
    let (post, targets) = s.store.post(ws, id).await.map_err(err)?;
    let media = s
        .store
        .post_images(&[id])
        .await
        .map_err(err)?
        .into_iter()
        .map(|i| (i.media_id, i.alt))
        .collect();
    let typed = typed_from(&post, &targets, media, &w.m.workspace.timezone);
    render(&s, w, id, typed, FieldErrs::default()).await
}

/// Saving an edit: the composer's check, in the user's language; new
/// images are stored first (so they survive a refused edit).
pub async fn save(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    f: UiUpload,
) -> Result<Response, UiError> {
    w.require(Action::ComposePosts)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let field_id =
        |n: &str, prefix: &str| n.strip_prefix(prefix).and_then(|v| v.parse::<i64>().ok());
    let mut typed = Typed {
        text: f.get("text"),
        own: f
            .fields
            .iter()
            .filter_map(|(n, v)| Some((field_id(n, "text_")?, v.clone())))
            .collect(),
        media: f
            .fields
            .iter()
            .filter(|(n, _)| n == "media")
            .filter_map(|(_, v)| v.parse::<i64>().ok())
            .filter(|id| f.get(&format!("remove_{id}")).is_empty())
            .map(|id| (id, f.get(&format!("alt_{id}"))))
            .collect(),
        campaign: f.get("campaign"),
        date: f.get("date"),
        time: f.get("time"),
    };
    let upload_errors = store_uploads(&s, &w, &f, &mut typed.media).await?;
    if !upload_errors.is_empty() {
        let errors = FieldErrs::from_error(AppError::Invalid(upload_errors), t)?;
        return render(&s, w, id, typed, errors).await;
    }
    let at = if typed.date.trim().is_empty() {
        Ok(None)
    } else {
        time::local_instant(&typed.date, &typed.time, &w.m.workspace.timezone).map(Some)
    };
    let result = match at {
        Ok(at) => {
            let edit = Edit {
                text: Some(typed.text.clone()),
                targets: Some(
                    typed
                        .own
                        .iter()
                        .map(|(ch, text)| (*ch, Some(text.clone())))
                        .collect(),
                ),
                at: Some(at),
                media: Some(typed.media.clone()),
                campaign: Some(typed.campaign.clone()),
            };
            crate::edit::edit(&s, &w.me.user, ws, id, &edit).await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok((_, warnings)) => {
            let done = if warnings.is_empty() {
                "post_edited"
            } else {
                "post_edited_alt_missing"
            };
            Ok(see_other(&format!("/w/{ws}/posts?done={done}#post-{id}")))
        }
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => Err(UiError(e, t)),
        Err(e) => {
            let errors = FieldErrs::from_error(e, t)?;
            render(&s, w, id, typed, errors).await
        }
    }
}
