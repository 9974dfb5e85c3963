//! The caller's own notifications: what happened to their posts, in the
//! request's language, with the reason a post did not go out.

use axum::Json;
use axum::extract::{Query, State, rejection::QueryRejection};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{Problem, rfc3339};
use super::{ApiError, ApiUser, current_tr};
use crate::error::AppError;
use crate::{AppState, notifications as n};

/// `GET /api/v1/notifications?limit=`.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct NotificationQuery {
    /// At most this many, newest first (1–200, default 50).
    pub limit: Option<i64>,
}

/// One notification.
#[derive(Serialize, ToSchema)]
pub struct NotificationDto {
    /// Stable id.
    pub id: i64,
    /// What happened, as a stable code: `post_failed`, `post_unconfirmed`,
    /// `post_approved`, `post_rejected`, `post_commented`, `listening_alert`,
    /// `inbox_overdue`.
    pub kind: String,
    /// What happened, in words (the request's language).
    pub title: String,
    /// The workspace it is about.
    pub workspace_id: i64,
    /// That workspace's name.
    pub workspace_name: String,
    /// The post it is about (null for an alert or a conversation).
    pub post_id: Option<i64>,
    /// The listening alert it is about (null otherwise).
    pub alert_id: Option<i64>,
    /// The conversation it is about (`inbox_overdue`; null otherwise).
    pub conversation_id: Option<i64>,
    /// The channel's name (a post that did not go out) or the person's
    /// (a decision or a comment).
    pub detail: String,
    /// Why the post did not go out, as a stable code (`rejected`, …), or
    /// the alert's kind (`volume`, `negative`, `words`); null for other kinds.
    pub reason_code: Option<String>,
    /// That reason in words (an alert's with its numbers); null for other kinds.
    pub reason: Option<String>,
    /// The network's own words, if it said any.
    pub network_error: Option<String>,
    /// The post or the alert in the app (a path).
    pub url: String,
    /// When it happened (RFC 3339).
    pub created_at: String,
    /// Whether it was read.
    pub read: bool,
}

/// The caller's notifications and how many are unread.
#[derive(Serialize, ToSchema)]
pub struct NotificationList {
    /// Unread notifications, of all (not only those listed).
    pub unread: i64,
    /// The newest first.
    pub notifications: Vec<NotificationDto>,
}

/// The caller's newest notifications, only of workspaces they belong to.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", security(("bearer" = [])),
    params(NotificationQuery),
    responses((status = 200, body = NotificationList), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn list_notifications(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    q: Result<Query<NotificationQuery>, QueryRejection>,
) -> Result<Json<NotificationList>, ApiError> {
    let Query(q) = q.map_err(|e| AppError::Malformed(e.body_text()))?;
    let t = current_tr();
    let notifications = n::list(&s, &u, q.limit.unwrap_or(n::SHOWN))
        .await?
        .into_iter()
        .map(|(x, alert)| {
            let failure = n::is_failure(&x.kind);
            let w = n::words(t, &x, alert.as_ref());
            let is_alert = x.kind == n::ALERT;
            let is_conversation = x.kind == n::OVERDUE;
            NotificationDto {
                id: x.id,
                title: w.headline,
                workspace_id: x.workspace_id,
                workspace_name: x.workspace_name,
                post_id: (!is_alert && !is_conversation).then_some(x.subject_id),
                alert_id: is_alert.then_some(x.subject_id),
                conversation_id: is_conversation.then_some(x.subject_id),
                reason: (!w.reason.is_empty()).then_some(w.reason),
                reason_code: if is_alert {
                    alert.map(|a| a.kind)
                } else {
                    (failure && !x.error_code.is_empty()).then_some(x.error_code)
                },
                network_error: (failure && !x.error.is_empty()).then_some(x.error),
                url: w.path,
                created_at: rfc3339(x.created_at),
                read: x.read_at.is_some(),
                kind: x.kind,
                detail: x.detail,
            }
        })
        .collect();
    Ok(Json(NotificationList {
        unread: n::unread(&s, &u).await?,
        notifications,
    }))
}

/// Marks all of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "notifications", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
pub async fn read_notifications(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
) -> Result<StatusCode, ApiError> {
    n::mark_read(&s, &u).await?;
    Ok(StatusCode::NO_CONTENT)
}
