//! The approval endpoints: the workspace's setting, submitting, approving,
//! sending back, comments and client links.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dialoog_domain::Action;
use dialoog_store::Comment;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{Problem, rfc3339};
use super::posts::PostDto;
use super::{ApiError, ApiJson, ApiUser};
use crate::{AppState, approval, service};

type ApiResult<T> = Result<T, ApiError>;

/// Whether posts need approval before they go out.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalSetting {
    /// With approval required, posts planned by editors wait in review
    /// until an owner, manager or client approves them.
    pub required: bool,
}

/// The workspace's approval setting.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/approval", tag = "approval", security(("bearer" = [])),
    params(("ws" = i64, Path)), responses((status = 200, body = ApprovalSetting), (status = 404, body = Problem)))]
pub async fn get_setting(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
) -> ApiResult<Json<ApprovalSetting>> {
    let required = approval::required(&s, &u, ws).await?;
    Ok(Json(ApprovalSetting { required }))
}

/// Turns the approval requirement on or off (owners, managers).
#[utoipa::path(put, path = "/api/v1/workspaces/{ws}/approval", tag = "approval", security(("bearer" = [])), request_body = ApprovalSetting,
    params(("ws" = i64, Path)), responses((status = 200, body = ApprovalSetting), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn put_setting(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    ApiJson(r): ApiJson<ApprovalSetting>,
) -> ApiResult<Json<ApprovalSetting>> {
    approval::set_required(&s, &u, ws, r.required).await?;
    Ok(Json(r))
}

async fn post_dto(s: &AppState, ws: i64, id: i64) -> ApiResult<Json<PostDto>> {
    Ok(Json((&s.store.post(ws, id).await?).into()))
}

/// Submits a draft for approval: its channels wait in `in_review`.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/posts/{id}/submit", tag = "approval", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = PostDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`not_a_draft`"), (status = 422, body = Problem)))]
pub async fn submit(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
) -> ApiResult<Json<PostDto>> {
    approval::submit(&s, &u, ws, id).await?;
    post_dto(&s, ws, id).await
}

/// Approves a post in review: it is scheduled at its time, or now when
/// that time has passed (owners, managers, clients).
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/posts/{id}/approve", tag = "approval", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = PostDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`not_in_review`: decided by someone else, changed, or never submitted")))]
pub async fn approve(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
) -> ApiResult<Json<PostDto>> {
    approval::approve(&s, &u, ws, id, None).await?;
    post_dto(&s, ws, id).await
}

/// `POST /api/v1/workspaces/{ws}/posts/{id}/reject`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reject {
    /// Why it goes back (required; at most 5,000 characters).
    pub comment: String,
}

/// Sends a post in review back to draft, with the reason in its thread.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/posts/{id}/reject", tag = "approval", security(("bearer" = [])), request_body = Reject,
    params(("ws" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = PostDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`not_in_review`"), (status = 422, body = Problem)))]
pub async fn reject(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
    ApiJson(r): ApiJson<Reject>,
) -> ApiResult<Json<PostDto>> {
    approval::reject(&s, &u, ws, id, None, &r.comment).await?;
    post_dto(&s, ws, id).await
}

/// One entry of a post's thread.
#[derive(Serialize, ToSchema)]
pub struct CommentDto {
    /// Stable id.
    pub id: i64,
    /// The member who wrote it (none: a client through a link).
    pub user_id: Option<i64>,
    /// The name shown with it.
    pub author_name: String,
    /// `comment`, `submitted`, `approved`, `rejected` or `reopened`.
    pub kind: String,
    /// The review round it belongs to (0: before any submission).
    pub round: i64,
    /// The words (a rejection's reason).
    pub text: String,
    /// When.
    pub created_at: String,
}

impl From<&Comment> for CommentDto {
    fn from(c: &Comment) -> Self {
        Self {
            id: c.id,
            user_id: c.user_id,
            author_name: c.author_name.clone(),
            kind: c.kind.clone(),
            round: c.round,
            text: c.body.clone(),
            created_at: rfc3339(c.created_at),
        }
    }
}

/// The thread under a post: comments and review steps, oldest first.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/posts/{id}/comments", tag = "approval", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 200, body = Vec<CommentDto>), (status = 404, body = Problem)))]
pub async fn list_comments(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
) -> ApiResult<Json<Vec<CommentDto>>> {
    let list = approval::comments(&s, &u, ws, id).await?;
    Ok(Json(list.iter().map(CommentDto::from).collect()))
}

/// `POST /api/v1/workspaces/{ws}/posts/{id}/comments`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentCreate {
    /// The comment (at most 5,000 characters).
    pub text: String,
}

/// Comments on a post; its author is told.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/posts/{id}/comments", tag = "approval", security(("bearer" = [])), request_body = CommentCreate,
    params(("ws" = i64, Path), ("id" = i64, Path)),
    responses((status = 201, body = CommentDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_comment(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
    ApiJson(r): ApiJson<CommentCreate>,
) -> ApiResult<(StatusCode, Json<CommentDto>)> {
    let c = approval::comment(&s, &u, ws, id, &r.text).await?;
    Ok((StatusCode::CREATED, Json((&c).into())))
}

/// A client link.
#[derive(Serialize, ToSchema)]
pub struct ClientLink {
    /// The secret address: whoever has it may approve or comment on this
    /// version of the post, without an account.
    pub url: String,
    /// When it stops working (it also stops when the post leaves review).
    pub expires_at: String,
}

/// Makes a link through which a client approves or comments on a post in
/// review without an account (owners, managers, clients).
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/posts/{id}/client-link", tag = "approval", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)),
    responses((status = 201, body = ClientLink), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`not_in_review`")))]
pub async fn client_link(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
) -> ApiResult<(StatusCode, Json<ClientLink>)> {
    let (url, expires) = approval::client_link(&s, &u, ws, id).await?;
    Ok((
        StatusCode::CREATED,
        Json(ClientLink {
            url,
            expires_at: rfc3339(expires),
        }),
    ))
}

/// A post's review: its round and how it stands.
#[derive(Serialize, ToSchema)]
pub struct ReviewDto {
    /// The round (each submission starts one).
    pub round: i64,
    /// `open`, `approved` or `rejected`.
    pub status: String,
    /// Who submitted it.
    pub submitted_by: Option<i64>,
    /// When.
    pub submitted_at: String,
    /// Who decided (none for a client through a link).
    pub decided_by: Option<i64>,
    /// The decider's name.
    pub decided_name: Option<String>,
    /// When it was decided.
    pub decided_at: Option<String>,
}

/// How a post's review stands (404 when it was never submitted).
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/posts/{id}/review", tag = "approval", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 200, body = ReviewDto), (status = 404, body = Problem)))]
pub async fn review(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
) -> ApiResult<Json<ReviewDto>> {
    service::access(&s, &u, ws, Action::ViewPosts).await?;
    s.store.post(ws, id).await?;
    let r = s
        .store
        .reviews_of(&[id])
        .await?
        .into_iter()
        .next()
        .ok_or(crate::error::AppError::NotFound)?;
    Ok(Json(ReviewDto {
        round: r.round,
        status: r.status,
        submitted_by: r.submitted_by,
        submitted_at: rfc3339(r.submitted_at),
        decided_by: r.decided_by,
        decided_name: r.decided_at.map(|_| r.decided_name.clone()),
        decided_at: r.decided_at.map(rfc3339),
    }))
}
