//! The media endpoints: upload an image (checked by its first bytes and
//! its size before it is stored) and read it back.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use dialoog_domain::Action;
use dialoog_store::MediaInfo;
use serde::Serialize;
use utoipa::ToSchema;

use super::dto::{Problem, rfc3339};
use super::{ApiError, ApiUser};
use crate::error::AppError;
use crate::media::{MAX_IMAGE_BYTES, too_large};
use crate::{AppState, service};

/// An uploaded image.
#[derive(Serialize, ToSchema)]
pub struct MediaDto {
    /// Stable id, to name in a post's `media`.
    pub id: i64,
    /// `image/jpeg`, `image/png`, `image/gif` or `image/webp`, found from
    /// the file's first bytes.
    pub mime: String,
    /// Its size in bytes.
    pub size: i64,
    /// Where Dialoog serves it to the workspace's members.
    pub url: String,
    /// When it was uploaded.
    pub created_at: String,
}

impl MediaDto {
    /// The API's view of an image of workspace `ws`.
    #[must_use]
    pub fn new(ws: i64, m: &MediaInfo) -> Self {
        Self {
            id: m.id,
            mime: m.mime.clone(),
            size: m.size,
            url: format!("/api/v1/workspaces/{ws}/media/{}", m.id),
            created_at: rfc3339(m.created_at),
        }
    }
}

/// How much of a too-large upload is still read (and dropped) so that the
/// sender gets the answer instead of a broken connection.
const DRAIN_LIMIT: usize = 64 << 20;

/// Reads a body of at most `max` bytes; a larger one is refused with its
/// size (read on and dropped up to 64 MB, so the sender hears why).
pub async fn read_limited(body: Body, max: usize) -> Result<Vec<u8>, AppError> {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| AppError::Malformed(e.to_string()))?;
        total = total.saturating_add(chunk.len());
        if total <= max {
            buf.extend_from_slice(&chunk);
        } else if total > DRAIN_LIMIT {
            return Err(too_large(None, max).into());
        } else {
            buf = Vec::new();
        }
    }
    if total > max {
        return Err(too_large(Some(total), max).into());
    }
    Ok(buf)
}

/// Uploads an image: the body is the file itself (JPEG, PNG, GIF or WebP,
/// at most 16 MB; each network may take less, which is checked when a
/// post uses it). The type is found from the file's first bytes, not from
/// its name or `Content-Type`. The same file uploaded twice is one image.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/media", tag = "posts", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the image file"),
    params(("ws" = i64, Path)), responses((status = 201, body = MediaDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "not an image, empty, or too large")))]
pub async fn upload_media(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    body: Body,
) -> Result<(StatusCode, Json<MediaDto>), ApiError> {
    // Membership and role first: a stranger's upload is not even read.
    service::access(&s, &u, ws, Action::ComposePosts).await?;
    let bytes = read_limited(body, MAX_IMAGE_BYTES).await?;
    let m = crate::media::upload(&s, &u, ws, &bytes).await?;
    Ok((StatusCode::CREATED, Json(MediaDto::new(ws, &m))))
}

/// An image as stored, served with its type (and never sniffed as
/// anything else), to the workspace's members.
pub fn image_response(m: &MediaInfo, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, m.mime.clone()),
            (header::CACHE_CONTROL, "private, max-age=3600".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"image-{}\"", m.id),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// An uploaded image itself.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/media/{id}", tag = "posts", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 200, content_type = "image/*", body = Vec<u8>), (status = 404, body = Problem)))]
pub async fn get_media(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    service::access(&s, &u, ws, Action::ViewPosts).await?;
    let (m, bytes) = s.store.media_bytes(ws, id).await?;
    Ok(image_response(&m, bytes))
}
