//! The alert endpoints of listening: alerts with their reason, the rules,
//! and the signed webhook; and share of voice with the rising terms.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use dialoog_store::{Alert, AlertRule};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{Problem, rfc3339};
use super::{ApiError, ApiJson, ApiUser, current_tr};
use crate::AppState;
use crate::alerts::{self as a, RuleInput};

type ApiResult<T> = Result<T, ApiError>;

/// An alert and why it fired.
#[derive(Serialize, ToSchema)]
pub struct AlertDto {
    /// Stable id.
    pub id: i64,
    /// `volume`, `negative` or `words`.
    pub kind: String,
    /// The query it is about (null: every mention, or the query is gone).
    pub query_id: Option<i64>,
    /// The query's name when it fired (empty: every mention).
    pub subject: String,
    /// The watched word (`words`).
    pub word: String,
    /// Mentions in the window (volume, words) or negative ones (negative).
    pub observed: i64,
    /// All mentions in the window.
    pub total: i64,
    /// The same window over the last 7 days: the mean count (volume) or
    /// the share of negative mentions, 0 to 1 (negative).
    pub baseline: f64,
    /// The window (RFC 3339).
    pub window_start: String,
    /// The window's end (RFC 3339).
    pub window_end: String,
    /// When it fired (RFC 3339).
    pub fired_at: String,
    /// The alert in one line (the request's language).
    pub headline: String,
    /// Why it fired, with the numbers.
    pub reason: String,
    /// The mentions behind it in the app (a path).
    pub mentions_url: String,
}

fn alert_dto(x: &Alert) -> AlertDto {
    let t = current_tr();
    AlertDto {
        id: x.id,
        kind: x.kind.clone(),
        query_id: x.query_id,
        subject: x.subject.clone(),
        word: x.word.clone(),
        observed: x.observed,
        total: x.total,
        baseline: x.baseline,
        window_start: rfc3339(x.window_start),
        window_end: rfc3339(x.window_end),
        fired_at: rfc3339(x.fired_at),
        headline: a::headline(t, x),
        reason: a::reason(t, x),
        mentions_url: a::mentions_path(x),
    }
}

/// A rule.
#[derive(Serialize, ToSchema)]
pub struct RuleDto {
    /// Stable id.
    pub id: i64,
    /// `volume`, `negative` or `words`.
    pub kind: String,
    /// The query it watches (null: every mention).
    pub query_id: Option<i64>,
    /// `volume`: how many times the usual fires.
    pub factor: f64,
    /// The fewest mentions (negative ones for `negative`) that fire.
    pub min_count: i64,
    /// `negative`: the share that fires, in percent.
    pub share_percent: f64,
    /// `words`: the watched words.
    pub words: Vec<String>,
    /// The window in minutes.
    pub window_minutes: i64,
    /// When it last fired (RFC 3339).
    pub last_fired_at: Option<String>,
}

fn rule_dto(r: &AlertRule) -> RuleDto {
    RuleDto {
        id: r.id,
        kind: r.kind.clone(),
        query_id: r.query_id,
        factor: r.factor,
        min_count: r.min_count,
        share_percent: (r.share * 1000.0).round() / 10.0,
        words: r.word_list().map(str::to_owned).collect(),
        window_minutes: r.window_minutes,
        last_fired_at: r.last_fired_at.map(rfc3339),
    }
}

/// The workspace's newest alerts.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/listening/alerts", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path)),
    responses((status = 200, body = [AlertDto]), (status = 404, body = Problem)))]
pub async fn list_alerts(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
) -> ApiResult<Json<Vec<AlertDto>>> {
    let xs = a::alerts(&s, &u, ws).await?;
    Ok(Json(xs.iter().map(alert_dto).collect()))
}

/// The workspace's alert rules.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/listening/alert-rules", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path)),
    responses((status = 200, body = [RuleDto]), (status = 404, body = Problem)))]
pub async fn list_rules(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
) -> ApiResult<Json<Vec<RuleDto>>> {
    let rs = a::rules(&s, &u, ws).await?;
    Ok(Json(rs.iter().map(rule_dto).collect()))
}

/// Adds a rule.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/listening/alert-rules", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path)), request_body = RuleInput,
    responses((status = 201, body = RuleDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_rule(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    ApiJson(b): ApiJson<RuleInput>,
) -> ApiResult<(StatusCode, Json<RuleDto>)> {
    let r = a::create_rule(&s, &u, ws, &b).await?;
    Ok((StatusCode::CREATED, Json(rule_dto(&r))))
}

/// Removes a rule (its alerts stay).
#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/listening/alert-rules/{id}", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_rule(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    a::delete_rule(&s, &u, ws, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The webhook to set.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    /// Where alerts are POSTed (http or https).
    pub url: String,
}

/// The webhook just set, with its signing secret (given only now).
#[derive(Serialize, ToSchema)]
pub struct WebhookSet {
    /// Where alerts are POSTed.
    pub url: String,
    /// The secret: `Dialoog-Signature: t=<unix seconds>,v1=<hex
    /// HMAC-SHA256 of "t.body">`.
    pub secret: String,
}

/// Sets the workspace's alert webhook with a new signing secret.
#[utoipa::path(put, path = "/api/v1/workspaces/{ws}/listening/webhook", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path)), request_body = WebhookBody,
    responses((status = 200, body = WebhookSet), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn set_webhook(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    ApiJson(b): ApiJson<WebhookBody>,
) -> ApiResult<Json<WebhookSet>> {
    let secret = a::set_webhook(&s, &u, ws, &b.url).await?;
    Ok(Json(WebhookSet {
        url: b.url.trim().to_owned(),
        secret,
    }))
}

/// Removes the workspace's alert webhook.
#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/listening/webhook", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_webhook(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
) -> ApiResult<StatusCode> {
    a::delete_webhook(&s, &u, ws).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?days=` for share of voice.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct VoiceQuery {
    /// 7, 30 (default) or 90.
    pub days: Option<i64>,
}

/// The brand against its competitors: mentions per day per brand or
/// competitor query, with each one's share.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/listening/share-of-voice", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path), VoiceQuery),
    responses((status = 200, body = crate::voice::Voice), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn share_of_voice(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    Query(q): Query<VoiceQuery>,
) -> ApiResult<Json<crate::voice::Voice>> {
    let v = crate::voice::share_of_voice(&s, &u, ws, q.days.unwrap_or(30)).await?;
    Ok(Json(v))
}

/// A term said more often today than in the week before.
#[derive(Serialize, ToSchema)]
pub struct RisingDto {
    /// The term (lower case, accents removed; hashtags with `#`).
    pub term: String,
    /// Mentions with it in the last 24 hours.
    pub now: usize,
    /// Mentions with it in the 7 days before.
    pub before: usize,
    /// How much more often, scaled for the sizes of the two periods.
    pub growth: f64,
}

/// The terms rising in the last 24 hours against the 7 days before.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/listening/rising-terms", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path)),
    responses((status = 200, body = [RisingDto]), (status = 404, body = Problem)))]
pub async fn rising_terms(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
) -> ApiResult<Json<Vec<RisingDto>>> {
    let r = crate::voice::rising_terms(&s, &u, ws).await?;
    Ok(Json(
        r.into_iter()
            .map(|x| RisingDto {
                term: x.term,
                now: x.now,
                before: x.before,
                growth: (x.growth * 100.0).round() / 100.0,
            })
            .collect(),
    ))
}
