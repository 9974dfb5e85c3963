//! The service-level endpoints: opening hours and targets, and the figures
//! per agent and per channel.

use axum::Json;
use axum::extract::{Path, Query, State, rejection::QueryRejection};
use dialoog_domain::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::Problem;
use super::{ApiError, ApiJson, ApiUser};
use crate::AppState;
use crate::error::AppError;
use crate::service_levels::{self as sl, Figure, Levels};

type ApiResult<T> = Result<T, ApiError>;

/// Opening hours on one weekday.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenDay {
    /// 1 (Monday) to 7 (Sunday).
    pub weekday: u8,
    /// `HH:MM`.
    pub open: String,
    /// `HH:MM` (`24:00` for midnight).
    pub close: String,
}

/// A workspace's service levels.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceLevels {
    /// The days it is open (days left out are closed).
    pub hours: Vec<OpenDay>,
    /// Answer within this many business minutes (1 to 10080).
    pub first_response_minutes: i64,
    /// Resolve within this many business minutes (1 to 43200).
    pub resolution_minutes: i64,
}

fn dto(l: &Levels) -> ServiceLevels {
    let hhmm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
    ServiceLevels {
        hours: l
            .hours
            .0
            .iter()
            .enumerate()
            .filter_map(|(i, d)| {
                d.map(|(o, c)| OpenDay {
                    weekday: u8::try_from(i + 1).unwrap_or(7),
                    open: hhmm(o),
                    close: hhmm(c),
                })
            })
            .collect(),
        first_response_minutes: l.response_minutes,
        resolution_minutes: l.resolution_minutes,
    }
}

/// The workspace's opening hours and inbox targets (office hours, an hour
/// and a working day where none were set).
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/inbox/settings", tag = "inbox", security(("bearer" = [])),
    params(("ws" = i64, Path)), responses((status = 200, body = ServiceLevels), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_levels(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
) -> ApiResult<Json<ServiceLevels>> {
    Ok(Json(dto(&sl::get(&s, &u, ws).await?)))
}

/// Sets the opening hours and targets (owners, managers).
#[utoipa::path(put, path = "/api/v1/workspaces/{ws}/inbox/settings", tag = "inbox", security(("bearer" = [])),
    params(("ws" = i64, Path)), request_body = ServiceLevels,
    responses((status = 200, body = ServiceLevels), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn put_levels(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    ApiJson(r): ApiJson<ServiceLevels>,
) -> ApiResult<Json<ServiceLevels>> {
    let mut days = [("", ""); 7];
    for d in &r.hours {
        let i = usize::from(d.weekday);
        if !(1..=7).contains(&i) || !days[i - 1].0.is_empty() {
            return Err(FieldError::new("hours", "weekday_invalid").into());
        }
        days[i - 1] = (d.open.as_str(), d.close.as_str());
        if d.open.trim().is_empty() {
            days[i - 1].0 = " ";
        }
    }
    let l = sl::set(
        &s,
        &u,
        ws,
        &days,
        r.first_response_minutes,
        r.resolution_minutes,
    )
    .await?;
    Ok(Json(dto(&l)))
}

/// `?days=` (1–366, default 30).
#[derive(Deserialize, IntoParams)]
pub struct FiguresQuery {
    /// The period, in days up to now.
    pub days: Option<i64>,
}

/// The inbox's figures.
#[derive(Serialize, ToSchema)]
pub struct FiguresDto {
    /// The period, in days up to now.
    pub days: i64,
    /// Everything.
    pub all: Figure,
    /// Per agent who sent the first answer (`—`: not answered yet).
    pub agents: Vec<Figure>,
    /// Per channel.
    pub channels: Vec<Figure>,
}

/// First response and resolution against the targets, per agent and per
/// channel, in business time, for conversations that started in the period.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/inbox/figures", tag = "inbox", security(("bearer" = [])),
    params(("ws" = i64, Path), FiguresQuery),
    responses((status = 200, body = FiguresDto), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn figures(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    q: Result<Query<FiguresQuery>, QueryRejection>,
) -> ApiResult<Json<FiguresDto>> {
    let Query(q) = q.map_err(|e| AppError::Malformed(e.body_text()))?;
    let days = q.days.unwrap_or(30).clamp(1, 366);
    let f = sl::figures(&s, &u, ws, days).await?;
    Ok(Json(FiguresDto {
        days,
        all: f.all,
        agents: f.agents,
        channels: f.channels,
    }))
}
