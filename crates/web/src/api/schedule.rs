//! The scheduling endpoints: channels' weekly queues, recurring series and
//! the CSV import.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dialoog_domain::Action;
use dialoog_domain::schedule::Recurrence;
use dialoog_domain::schedule::Slot;
use dialoog_store::Series;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{Problem, rfc3339};
use super::{ApiError, ApiJson, ApiUser, current_tr};
use crate::error::{AppError, field_message};
use crate::import::{self, Imported};
use crate::schedule::{self as sched, Queue, SeriesInput};
use crate::{AppState, service};

type ApiResult<T> = Result<T, ApiError>;

/// One slot of a weekly queue.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotDto {
    /// Day of the week: 1 (Monday) to 7 (Sunday).
    pub weekday: i64,
    /// Local time in the workspace's timezone, `HH:MM`.
    pub time: String,
}

/// A channel's weekly queue.
#[derive(Serialize, ToSchema)]
pub struct QueueDto {
    /// The channel.
    pub channel_id: i64,
    /// Its name.
    pub channel_name: String,
    /// Its slots, by day and time.
    pub slots: Vec<SlotDto>,
}

impl From<&Queue> for QueueDto {
    fn from(q: &Queue) -> Self {
        Self {
            channel_id: q.channel_id,
            channel_name: q.channel_name.clone(),
            slots: q
                .slots
                .iter()
                .map(|s| SlotDto {
                    weekday: i64::from(s.weekday),
                    time: s.time(),
                })
                .collect(),
        }
    }
}

/// `PUT /api/v1/workspaces/{ws}/channels/{id}/queue`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueSet {
    /// The whole weekly queue (replaces the one there was).
    pub slots: Vec<SlotDto>,
}

/// Every channel's weekly queue.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/queues", tag = "scheduling", security(("bearer" = [])),
    params(("ws" = i64, Path)), responses((status = 200, body = Vec<QueueDto>), (status = 404, body = Problem)))]
pub async fn list_queues(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
) -> ApiResult<Json<Vec<QueueDto>>> {
    let q = sched::queues(&s, &u, ws).await?;
    Ok(Json(q.iter().map(QueueDto::from).collect()))
}

/// Replaces a channel's weekly queue: local times in the workspace's
/// timezone that keep their wall time across daylight saving.
#[utoipa::path(put, path = "/api/v1/workspaces/{ws}/channels/{id}/queue", tag = "scheduling", security(("bearer" = [])), request_body = QueueSet,
    params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 200, body = QueueDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_queue(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
    ApiJson(r): ApiJson<QueueSet>,
) -> ApiResult<Json<QueueDto>> {
    service::access(&s, &u, ws, Action::ViewPosts).await?;
    let mut slots = vec![];
    let mut errors = vec![];
    for x in &r.slots {
        match Slot::parse(x.weekday, &x.time) {
            Ok(s) => slots.push(s),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        errors.dedup();
        return Err(AppError::Invalid(errors).into());
    }
    sched::set_queue(&s, &u, ws, id, &slots).await?;
    let q = sched::queues(&s, &u, ws).await?;
    let mine = q
        .iter()
        .find(|q| q.channel_id == id)
        .ok_or(AppError::NotFound)?;
    Ok(Json(mine.into()))
}

/// Which channels' common queue to look in.
#[derive(Deserialize, IntoParams)]
pub struct NextQuery {
    /// Channel ids, comma-separated.
    pub channels: String,
}

/// The next free slot.
#[derive(Serialize, ToSchema)]
pub struct NextSlot {
    /// When (RFC 3339).
    pub scheduled_at: String,
}

/// The first slot after now that every given channel has in its queue and
/// at which none of them has a post planned.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/queues/next", tag = "scheduling", security(("bearer" = [])),
    params(("ws" = i64, Path), NextQuery), responses((status = 200, body = NextSlot), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn next_slot(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    Query(q): Query<NextQuery>,
) -> ApiResult<Json<NextSlot>> {
    let m = service::access(&s, &u, ws, Action::ViewPosts).await?;
    let ids: Vec<i64> = q
        .channels
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let at = sched::next_free_slot(&s, ws, &m.workspace.timezone, &ids, service::now_ms()).await?;
    Ok(Json(NextSlot {
        scheduled_at: rfc3339(at),
    }))
}

/// `POST /api/v1/workspaces/{ws}/series`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeriesCreate {
    /// The text of every occurrence.
    pub text: String,
    /// The channels.
    pub channels: Vec<i64>,
    /// `weekly` or `monthly`.
    pub repeat: String,
    /// For `weekly`: days 1 (Monday) to 7 (Sunday).
    #[serde(default)]
    pub weekdays: Vec<i64>,
    /// For `monthly`: the day of the month (the 31st falls on the last
    /// day of shorter months).
    #[serde(default)]
    pub month_day: Option<i64>,
    /// Local time, `HH:MM`, in the workspace's timezone.
    pub time: String,
    /// First day, `YYYY-MM-DD`.
    pub start_date: String,
    /// Last day, if any.
    #[serde(default)]
    pub until_date: Option<String>,
    /// At most this many occurrences.
    #[serde(default)]
    pub count: Option<i64>,
}

/// A recurring post.
#[derive(Serialize, ToSchema)]
pub struct SeriesDto {
    /// Stable id.
    pub id: i64,
    /// The text.
    pub text: String,
    /// The channels.
    pub channels: Vec<i64>,
    /// `weekly` or `monthly`.
    pub repeat: String,
    /// For `weekly`: the days.
    pub weekdays: Vec<i64>,
    /// For `monthly`: the day.
    pub month_day: Option<i64>,
    /// Local time.
    pub time: String,
    /// First day.
    pub start_date: String,
    /// Last day.
    pub until_date: Option<String>,
    /// At most this many.
    pub count: Option<i64>,
    /// When it was stopped.
    pub stopped_at: Option<String>,
    /// Its occurrences made so far (posts), by time.
    pub posts: Vec<OccurrenceDto>,
}

/// One occurrence of a series.
#[derive(Serialize, ToSchema)]
pub struct OccurrenceDto {
    /// The post.
    pub post_id: i64,
    /// When (RFC 3339).
    pub scheduled_at: Option<String>,
}

async fn series_dto(s: &AppState, ws: i64, x: &Series) -> ApiResult<SeriesDto> {
    let posts = s.store.series_posts(ws, x.id).await?;
    Ok(SeriesDto {
        id: x.id,
        text: x.text.clone(),
        channels: x.channels(),
        repeat: x.kind.clone(),
        weekdays: x
            .weekdays
            .split(',')
            .filter_map(|d| d.parse().ok())
            .collect(),
        month_day: x.month_day,
        time: format!("{:02}:{:02}", x.minute / 60, x.minute % 60),
        start_date: x.start_date.clone(),
        until_date: x.until_date.clone(),
        count: x.max_count,
        stopped_at: x.stopped_at.map(rfc3339),
        posts: posts
            .iter()
            .map(|p| OccurrenceDto {
                post_id: p.id,
                scheduled_at: p.scheduled_at.map(rfc3339),
            })
            .collect(),
    })
}

/// The workspace's recurring posts, newest first.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/series", tag = "scheduling", security(("bearer" = [])),
    params(("ws" = i64, Path)), responses((status = 200, body = Vec<SeriesDto>), (status = 404, body = Problem)))]
pub async fn list_series(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
) -> ApiResult<Json<Vec<SeriesDto>>> {
    service::access(&s, &u, ws, Action::ViewPosts).await?;
    let mut out = vec![];
    for x in s.store.series_list(ws).await? {
        out.push(series_dto(&s, ws, &x).await?);
    }
    Ok(Json(out))
}

/// Starts a recurring post: weekly or monthly at a local time that keeps
/// its wall time across daylight saving; occurrences are made as ordinary
/// posts eight weeks ahead.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/series", tag = "scheduling", security(("bearer" = [])), request_body = SeriesCreate,
    params(("ws" = i64, Path)), responses((status = 201, body = SeriesDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_series(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    ApiJson(r): ApiJson<SeriesCreate>,
) -> ApiResult<(StatusCode, Json<SeriesDto>)> {
    service::access(&s, &u, ws, Action::ViewPosts).await?;
    let rule = Recurrence::parse(
        &r.repeat,
        &r.weekdays,
        r.month_day,
        &r.time,
        &r.start_date,
        r.until_date.as_deref(),
        r.count,
    )
    .map_err(AppError::Invalid)?;
    let x = sched::create_series(
        &s,
        &u,
        ws,
        &SeriesInput {
            text: r.text,
            channels: r.channels,
            rule,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(series_dto(&s, ws, &x).await?)))
}

/// One recurring post with its occurrences.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/series/{id}", tag = "scheduling", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 200, body = SeriesDto), (status = 404, body = Problem)))]
pub async fn get_series(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
) -> ApiResult<Json<SeriesDto>> {
    service::access(&s, &u, ws, Action::ViewPosts).await?;
    let x = s.store.series(ws, id).await?;
    Ok(Json(series_dto(&s, ws, &x).await?))
}

/// `PATCH /api/v1/workspaces/{ws}/series/{id}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeriesChange {
    /// The new text, for the series and its future occurrences that have
    /// not started going out.
    pub text: String,
}

/// Changes a series' text, and that of its future occurrences.
#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/series/{id}", tag = "scheduling", security(("bearer" = [])), request_body = SeriesChange,
    params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 200, body = SeriesDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn change_series(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
    ApiJson(r): ApiJson<SeriesChange>,
) -> ApiResult<Json<SeriesDto>> {
    sched::change_series_text(&s, &u, ws, id, &r.text).await?;
    let x = s.store.series(ws, id).await?;
    Ok(Json(series_dto(&s, ws, &x).await?))
}

/// Stops a series: its future occurrences that have not started going out
/// are removed.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/series/{id}/stop", tag = "scheduling", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 200, body = SeriesDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn stop_series(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
) -> ApiResult<Json<SeriesDto>> {
    sched::stop_series(&s, &u, ws, id).await?;
    let x = s.store.series(ws, id).await?;
    Ok(Json(series_dto(&s, ws, &x).await?))
}

/// How an import went.
#[derive(Serialize, ToSchema)]
pub struct ImportReport {
    /// How many posts were made.
    pub imported: usize,
}

/// One bad row, in a refused import's problem document (`rows`).
#[derive(Serialize, ToSchema)]
pub struct RowProblemDto {
    /// The row as a spreadsheet numbers it (the header is row 1).
    pub row: usize,
    /// The column as the file's header names it.
    pub column: String,
    /// A stable code.
    pub code: String,
    /// What is wrong, in the caller's language.
    pub message: String,
}

/// Reads a body of at most `max` bytes (`None`: larger).
pub(crate) async fn read_body(body: Body, max: usize) -> Option<axum::body::Bytes> {
    axum::body::to_bytes(body, max).await.ok()
}

/// Imports posts from a CSV file (`text/csv`, UTF-8, `,` or `;`): columns
/// `date`/`datum`, `time`/`tijd`, `channels`/`kanalen`, `text`/`tekst`.
/// Every row is checked first; with one bad row nothing is imported and
/// the problem document lists every bad row (`rows`, code
/// `import_refused`).
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/posts/import", tag = "scheduling", security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv"),
    params(("ws" = i64, Path)), responses((status = 201, body = ImportReport), (status = 403, body = Problem), (status = 404, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn import_posts(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    service::access(&s, &u, ws, Action::ComposePosts).await?;
    let csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.starts_with("text/csv") || v.starts_with("application/csv")
        });
    if !csv {
        return Err(AppError::UnsupportedMediaType.into());
    }
    let bytes = read_body(body, import::MAX_BYTES + 1)
        .await
        .ok_or(AppError::PayloadTooLarge)?;
    match import::import(&s, &u, ws, &bytes).await? {
        Imported::Done(n) => {
            Ok((StatusCode::CREATED, Json(ImportReport { imported: n })).into_response())
        }
        Imported::Refused(rows) => {
            let t = current_tr();
            let rows: Vec<RowProblemDto> = rows
                .iter()
                .map(|r| RowProblemDto {
                    row: r.row,
                    column: r.column.clone(),
                    code: r.error.code.to_owned(),
                    message: field_message(t, &r.error),
                })
                .collect();
            let body = serde_json::json!({
                "type": "urn:dialoog:problem:import_refused",
                "title": t.s("error.title.422"),
                "status": 422,
                "detail": t.fmt("import.refused", &[("rows", &rows.len().to_string())]),
                "code": "import_refused",
                "rows": rows,
            });
            let mut resp = (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/problem+json"),
            );
            Ok(resp)
        }
    }
}

/// The example file as a download.
pub(crate) fn example_response() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"dialoog-voorbeeld.csv\"",
            ),
        ],
        import::EXAMPLE,
    )
        .into_response()
}
