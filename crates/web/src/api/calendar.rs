//! The calendar feed link endpoints: make a new secret link (the old one
//! stops working) and stop it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::dto::{Problem, rfc3339};
use super::{ApiError, ApiUser};
use crate::AppState;
use crate::service::now_ms;

/// A new feed link: the address is shown this once (only its hash is kept).
#[derive(Serialize, ToSchema)]
pub struct CalendarFeedDto {
    /// The secret address of the iCalendar feed (`…/ical/{token}.ics`).
    pub url: String,
    /// When it was made.
    pub created_at: String,
}

/// Makes a new secret iCalendar feed link for the workspace's plan; an
/// earlier link stops working.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/calendar/feed", tag = "posts", security(("bearer" = [])),
    params(("ws" = i64, Path)), responses((status = 201, body = CalendarFeedDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn create_feed(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
) -> Result<(StatusCode, Json<CalendarFeedDto>), ApiError> {
    let url = crate::calendar::new_feed_link(&s, &u, ws).await?;
    Ok((
        StatusCode::CREATED,
        Json(CalendarFeedDto {
            url,
            created_at: rfc3339(now_ms()),
        }),
    ))
}

/// Stops the workspace's feed link (also when it has none).
#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/calendar/feed", tag = "posts", security(("bearer" = [])),
    params(("ws" = i64, Path)), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_feed(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
) -> Result<StatusCode, ApiError> {
    crate::calendar::remove_feed_link(&s, &u, ws).await?;
    Ok(StatusCode::NO_CONTENT)
}
