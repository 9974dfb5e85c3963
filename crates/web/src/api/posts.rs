//! The posts endpoints: compose, list, read, edit, delete.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use dialoog_domain::{Action, time};
use dialoog_store::{Post, Target};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{Problem, rfc3339};
use super::{ApiError, ApiJson, ApiUser};
use crate::posts::{Compose, When};
use crate::{AppState, service};

type ApiResult<T> = Result<T, ApiError>;

/// One channel of a new post.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetCreate {
    /// The channel.
    pub channel_id: i64,
    /// This channel's own text (left out: the post's).
    #[serde(default)]
    pub text: Option<String>,
}

/// `POST /api/v1/workspaces/{ws}/posts`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostCreate {
    /// The text.
    pub text: String,
    /// The channels.
    #[serde(default)]
    pub targets: Vec<TargetCreate>,
    /// When it goes out (RFC 3339); left out, now.
    #[serde(default)]
    pub scheduled_at: Option<String>,
    /// Save it as a draft: nothing goes out until it is scheduled.
    #[serde(default)]
    pub draft: bool,
    /// Put it in the next slot of the channels' weekly queues that is free
    /// in all of them (instead of `scheduled_at`).
    #[serde(default)]
    pub queue: bool,
    /// Images uploaded through `POST /api/v1/workspaces/{ws}/media`, in
    /// order, each with its alt text (an image without one is accepted and
    /// named in `warnings`).
    #[serde(default)]
    pub media: Vec<MediaRef>,
    /// A campaign: every web link in each channel's text gets
    /// `utm_source=<network>`, `utm_medium=social` and
    /// `utm_campaign=<campaign>` (parameters a link has already are kept).
    #[serde(default)]
    pub campaign: Option<String>,
}

/// An image of a post.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaRef {
    /// The uploaded image.
    pub id: i64,
    /// What it shows, for people who cannot see it.
    #[serde(default)]
    pub alt: String,
}

/// An image of a post, as stored.
#[derive(Serialize, ToSchema)]
pub struct PostMediaDto {
    /// The image.
    pub id: i64,
    /// Its alt text.
    pub alt: String,
    /// Its media type.
    pub mime: String,
    /// Its size in bytes.
    pub size: i64,
    /// Where Dialoog serves it.
    pub url: String,
}

/// Something that deserves a second look but did not stop the post.
#[derive(Serialize, ToSchema)]
pub struct Warning {
    /// The field.
    pub field: String,
    /// A stable code: `alt_missing`.
    pub code: String,
    /// In the caller's language.
    pub message: String,
}

/// How one channel's publish went.
#[derive(Serialize, ToSchema)]
pub struct TargetDto {
    /// Stable id.
    pub id: i64,
    /// The channel (none once it was disconnected).
    pub channel_id: Option<i64>,
    /// Its network.
    pub network: String,
    /// Its name.
    pub channel_name: String,
    /// Its own text, if it has one.
    pub text: Option<String>,
    /// `draft`, `in_review`, `approved`, `scheduled`, `publishing`,
    /// `published`, `failed` or `unconfirmed`.
    pub state: String,
    /// The network's id of the published post.
    pub remote_id: Option<String>,
    /// Its address.
    pub remote_url: Option<String>,
    /// Why it failed, is unconfirmed or is being retried, as a stable code:
    /// `channel_disconnected`, `needs_reconnect`, `cannot_publish`,
    /// `too_long`, `rejected`, `retries_exhausted`, `outcome_unknown`,
    /// `interrupted`, `retrying`, `resending`.
    pub error_code: Option<String>,
    /// The network's words.
    pub error: Option<String>,
    /// When it went out.
    pub published_at: Option<String>,
    /// When it is (next) due.
    pub due_at: Option<String>,
}

impl From<&Target> for TargetDto {
    fn from(t: &Target) -> Self {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Self {
            id: t.id,
            channel_id: t.channel_id,
            network: t.network.clone(),
            channel_name: t.channel_name.clone(),
            text: t.text.clone(),
            state: t.state.clone(),
            remote_id: t.remote_id.clone(),
            remote_url: t.remote_url.clone(),
            error_code: some(&t.error_code),
            error: some(&t.error),
            published_at: t.published_at.map(rfc3339),
            due_at: t.due_at.map(rfc3339),
        }
    }
}

/// A post and its channels.
#[derive(Serialize, ToSchema)]
pub struct PostDto {
    /// Stable id.
    pub id: i64,
    /// The text.
    pub text: String,
    /// When it is due.
    pub scheduled_at: Option<String>,
    /// Who wrote it.
    pub author_id: Option<i64>,
    /// When it was made.
    pub created_at: String,
    /// One per channel.
    pub targets: Vec<TargetDto>,
    /// The recurring series it is an occurrence of, if any.
    pub series_id: Option<i64>,
    /// The campaign its links are tagged with, if any.
    pub campaign: Option<String>,
    /// Its images, in order.
    pub media: Vec<PostMediaDto>,
    /// On a new post only: what deserves a second look (an image without
    /// alt text).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

impl From<&(Post, Vec<Target>)> for PostDto {
    fn from((p, t): &(Post, Vec<Target>)) -> Self {
        Self {
            id: p.id,
            text: p.text.clone(),
            scheduled_at: p.scheduled_at.map(rfc3339),
            author_id: p.author_id,
            created_at: rfc3339(p.created_at),
            targets: t.iter().map(TargetDto::from).collect(),
            series_id: p.series_id,
            campaign: (!p.campaign.is_empty()).then(|| p.campaign.clone()),
            media: vec![],
            warnings: vec![],
        }
    }
}

/// Posts as the API shows them, with their images.
async fn dtos(s: &AppState, posts: &[(Post, Vec<Target>)]) -> ApiResult<Vec<PostDto>> {
    let ids: Vec<i64> = posts.iter().map(|(p, _)| p.id).collect();
    let images = s.store.post_images(&ids).await?;
    Ok(posts
        .iter()
        .map(|post| {
            let mut d = PostDto::from(post);
            d.media = images
                .iter()
                .filter(|i| i.post_id == post.0.id)
                .map(|i| PostMediaDto {
                    id: i.media_id,
                    alt: i.alt.clone(),
                    mime: i.mime.clone(),
                    size: i.size,
                    url: format!(
                        "/api/v1/workspaces/{}/media/{}",
                        post.0.workspace_id, i.media_id
                    ),
                })
                .collect();
            d
        })
        .collect())
}

/// One post as the API shows it.
async fn dto(s: &AppState, post: (Post, Vec<Target>)) -> ApiResult<PostDto> {
    let mut all = dtos(s, std::slice::from_ref(&post)).await?;
    all.pop().ok_or(ApiError(crate::error::AppError::NotFound))
}

/// Which posts to list.
#[derive(Deserialize, IntoParams)]
pub struct PostQuery {
    /// Due at or after this instant (RFC 3339); with `to`, the plan between.
    pub from: Option<String>,
    /// Due before this instant (RFC 3339).
    pub to: Option<String>,
    /// `in_review`: only the posts awaiting approval, the soonest first.
    pub state: Option<String>,
}

/// The workspace's posts: the plan between `from` and `to`, those awaiting
/// approval (`state=in_review`), or the newest 100.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/posts", tag = "posts", security(("bearer" = [])),
    params(("ws" = i64, Path), PostQuery), responses((status = 200, body = Vec<PostDto>), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn list_posts(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    Query(q): Query<PostQuery>,
) -> ApiResult<Json<Vec<PostDto>>> {
    service::access(&s, &u, ws, Action::ViewPosts).await?;
    let posts = match (q.from.as_deref(), q.to.as_deref()) {
        _ if q.state.is_some() => {
            if q.state.as_deref() != Some("in_review") {
                return Err(dialoog_domain::FieldError::new("state", "invalid").into());
            }
            s.store.posts_in_review(ws, 1000).await?
        }
        (Some(from), Some(to)) => {
            let from = time::parse_rfc3339(from, "from")?;
            let to = time::parse_rfc3339(to, "to")?;
            s.store.posts_between(ws, from, to, 5000).await?
        }
        _ => s.store.recent_posts(ws, None, 100).await?,
    };
    Ok(Json(dtos(&s, &posts).await?))
}

/// Composes a post: checked against every channel's rules (length as the
/// network counts it) before it is stored; then it goes out at its time.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/posts", tag = "posts", security(("bearer" = [])), request_body = PostCreate,
    params(("ws" = i64, Path)), responses((status = 201, body = PostDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_post(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    ApiJson(r): ApiJson<PostCreate>,
) -> ApiResult<(StatusCode, Json<PostDto>)> {
    let at = r
        .scheduled_at
        .as_deref()
        .map(|t| time::parse_rfc3339(t, "scheduled_at"))
        .transpose()?;
    let when = match (r.draft, at) {
        (false, None) if r.queue => When::Queue,
        (true, at) => When::Draft(at),
        (false, Some(at)) => When::At(at),
        (false, None) => When::Now,
    };
    let compose = Compose {
        text: r.text,
        targets: r
            .targets
            .into_iter()
            .map(|t| (t.channel_id, t.text))
            .collect(),
        when,
        media: r.media.into_iter().map(|m| (m.id, m.alt)).collect(),
        campaign: r.campaign.unwrap_or_default(),
    };
    let made = crate::posts::create(&s, &u, ws, &compose).await?;
    let mut out = dto(&s, made).await?;
    out.warnings = warnings_out(&crate::posts::warnings(&compose));
    Ok((StatusCode::CREATED, Json(out)))
}

/// One post and how each channel's publish went.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 200, body = PostDto), (status = 404, body = Problem)))]
pub async fn get_post(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
) -> ApiResult<Json<PostDto>> {
    service::access(&s, &u, ws, Action::ViewPosts).await?;
    Ok(Json(dto(&s, s.store.post(ws, id).await?).await?))
}

/// Deletes a post (refused while a channel is publishing it).
#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_post(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    crate::posts::delete(&s, &u, ws, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PATCH /api/v1/workspaces/{ws}/posts/{id}`: the fields of a new post,
/// each left out to keep it as it is.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostChange {
    /// The shared text.
    #[serde(default)]
    pub text: Option<String>,
    /// Each channel's own text. Only the post's own channels may be named
    /// (channels are chosen when a post is composed); one left out sends
    /// the shared text.
    #[serde(default)]
    pub targets: Option<Vec<TargetCreate>>,
    /// The new time (RFC 3339).
    #[serde(default)]
    pub scheduled_at: Option<String>,
    /// The images, in order, each with its alt text (replaces them all;
    /// an image no post uses any more is removed after a day).
    #[serde(default)]
    pub media: Option<Vec<MediaRef>>,
    /// The campaign its links are tagged with (empty: none).
    #[serde(default)]
    pub campaign: Option<String>,
}

/// Edits a post none of whose channels has started going out (409
/// `post_sent` otherwise; nothing changes): checked like a new post. With
/// approval required, an edit by someone who may not approve sends the
/// post back to review; a review in progress starts a new round, so client
/// links made for the old text stop working.
#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/posts/{id}", tag = "posts", security(("bearer" = [])), request_body = PostChange,
    params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 200, body = PostDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn change_post(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
    ApiJson(r): ApiJson<PostChange>,
) -> ApiResult<Json<PostDto>> {
    let at = r
        .scheduled_at
        .as_deref()
        .map(|t| time::parse_rfc3339(t, "scheduled_at"))
        .transpose()?;
    let edit = crate::edit::Edit {
        text: r.text,
        targets: r
            .targets
            .map(|ts| ts.into_iter().map(|t| (t.channel_id, t.text)).collect()),
        at: at.map(Some),
        media: r
            .media
            .map(|ms| ms.into_iter().map(|m| (m.id, m.alt)).collect()),
        campaign: r.campaign,
    };
    let (post, warnings) = crate::edit::edit(&s, &u, ws, id, &edit).await?;
    let mut out = dto(&s, post).await?;
    out.warnings = warnings_out(&warnings);
    Ok(Json(out))
}

/// `POST /api/v1/workspaces/{ws}/posts/{id}/targets/{target}/settle`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Settle {
    /// Whether the post is on the network after all.
    pub found: bool,
}

/// Settles an unconfirmed publish after looking on the network: there
/// (it becomes published) or not (it goes out again).
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/posts/{id}/targets/{target}/settle", tag = "posts", security(("bearer" = [])), request_body = Settle,
    params(("ws" = i64, Path), ("id" = i64, Path), ("target" = i64, Path)), responses((status = 200, body = PostDto), (status = 403, body = Problem), (status = 404, body = Problem, description = "no such unconfirmed target")))]
pub async fn settle_target(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id, target)): Path<(i64, i64, i64)>,
    ApiJson(r): ApiJson<Settle>,
) -> ApiResult<Json<PostDto>> {
    let post = s.store.post(ws, id).await;
    if !post
        .as_ref()
        .is_ok_and(|(_, t)| t.iter().any(|t| t.id == target))
    {
        service::access(&s, &u, ws, Action::ViewPosts).await?;
        return Err(crate::error::AppError::NotFound.into());
    }
    crate::posts::settle(&s, &u, ws, target, r.found).await?;
    Ok(Json(dto(&s, s.store.post(ws, id).await?).await?))
}

/// Warnings (stored, but worth a look) in the caller's language.
fn warnings_out(warnings: &[dialoog_domain::FieldError]) -> Vec<Warning> {
    let t = super::current_tr();
    warnings
        .iter()
        .map(|w| Warning {
            field: w.field.to_owned(),
            code: w.code.to_owned(),
            message: crate::error::field_message(t, w),
        })
        .collect()
}
