//! The listening endpoints: queries, sources (with their health), fetching
//! a source now, and the mentions found, with facets.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use dialoog_domain::time::parse_rfc3339;
use dialoog_engine::listen_sources::CHANNEL;
use dialoog_engine::listening::Held;
use dialoog_networks::listen::SourceInput;
use dialoog_store::{ListeningQuery, MentionFilter, Source};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{Problem, rfc3339};
use super::{ApiError, ApiJson, ApiUser};
use crate::AppState;
use crate::error::AppError;
use crate::listening::{self, QueryInput};
use crate::service::now_ms;

type ApiResult<T> = Result<T, ApiError>;

/// A listening query.
#[derive(Serialize, ToSchema)]
pub struct QueryDto {
    /// Stable id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The query, as written.
    pub query: String,
    /// `brand`, `competitor` or `topic`.
    pub role: String,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
}

fn query_dto(q: ListeningQuery) -> QueryDto {
    QueryDto {
        id: q.id,
        name: q.name,
        query: q.query,
        role: q.role,
        updated_at: rfc3339(q.updated_at),
    }
}

/// A query to add or change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryBody {
    /// Its name (unique in the workspace).
    pub name: String,
    /// The query: AND, OR, NOT, parentheses, "phrases", prefix*, #hashtag,
    /// @mention, lang:, source:.
    pub query: String,
    /// `brand` (default), `competitor` or `topic`.
    pub role: Option<String>,
}

fn input(b: QueryBody) -> QueryInput {
    QueryInput {
        name: b.name,
        query: b.query,
        role: b.role,
    }
}

/// The workspace's listening queries.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/listening/queries", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path)),
    responses((status = 200, body = [QueryDto]), (status = 404, body = Problem)))]
pub async fn list_queries(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
) -> ApiResult<Json<Vec<QueryDto>>> {
    let qs = listening::queries(&s, &u, ws).await?;
    Ok(Json(qs.into_iter().map(query_dto).collect()))
}

/// Adds a query; a query that does not parse is refused with the position
/// and what to do.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/listening/queries", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path)), request_body = QueryBody,
    responses((status = 201, body = QueryDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_query(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    ApiJson(b): ApiJson<QueryBody>,
) -> ApiResult<(StatusCode, Json<QueryDto>)> {
    let q = listening::create_query(&s, &u, ws, &input(b)).await?;
    Ok((StatusCode::CREATED, Json(query_dto(q))))
}

/// Changes a query (mentions found before stay).
#[utoipa::path(put, path = "/api/v1/workspaces/{ws}/listening/queries/{id}", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)), request_body = QueryBody,
    responses((status = 200, body = QueryDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn change_query(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<QueryBody>,
) -> ApiResult<Json<QueryDto>> {
    let q = listening::update_query(&s, &u, ws, id, &input(b)).await?;
    Ok(Json(query_dto(q)))
}

/// Removes a query (its mentions stay).
#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/listening/queries/{id}", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_query(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    listening::delete_query(&s, &u, ws, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A source and its health.
#[derive(Serialize, ToSchema)]
pub struct SourceDto {
    /// Stable id.
    pub id: i64,
    /// `rss`, `mastodon_tag`, `mastodon_public`, `jetstream`, `mediawiki`
    /// or `channel`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its settings (`{"kind", "url"}`, `{"kind", "instance", "tag"}`, …).
    pub settings: serde_json::Value,
    /// `new`, `ok`, `failing` or `paused`.
    pub status: String,
    /// Why it is failing.
    pub reason: String,
    /// The last good fetch (RFC 3339).
    pub last_ok_at: Option<String>,
    /// The next fetch (RFC 3339; absent while paused).
    pub next_at: Option<String>,
    /// Posts fetched, all time.
    pub fetched_total: i64,
    /// Mentions stored from it, all time.
    pub stored_total: i64,
    /// Heard live as a stream (the Bluesky firehose; a Mastodon timeline
    /// set to stream) rather than fetched on a schedule.
    pub streamed: bool,
    /// For a running stream: what it is doing (`starting`, `connected`,
    /// `polling`, `slowed`, `reconnecting`, `failing`); absent when the
    /// source is polled or its stream has not reported for two minutes.
    pub live_status: Option<String>,
    /// For a running stream: posts heard in the last minute (absent as
    /// `live_status`).
    pub per_minute: Option<i64>,
    /// Present while listening is on hold because what is heard cannot be
    /// stored (every source waits; nothing heard is lost).
    pub on_hold: Option<OnHoldDto>,
}

/// Why listening is on hold, and since when.
#[derive(Serialize, ToSchema)]
pub struct OnHoldDto {
    /// `disk_full`, or `database` for another failure of the database.
    pub reason: &'static str,
    /// Since when (RFC 3339).
    pub since: String,
}

fn source_dto(s: Source, held: Option<Held>) -> SourceDto {
    let live = listening::is_live(&s, now_ms());
    SourceDto {
        settings: serde_json::from_str(&s.target).unwrap_or_default(),
        id: s.id,
        kind: s.kind,
        name: s.name,
        next_at: (s.status != "paused").then(|| rfc3339(s.next_at)),
        status: s.status,
        reason: s.reason,
        last_ok_at: s.last_ok_at.map(rfc3339),
        fetched_total: s.fetched_total,
        stored_total: s.stored_total,
        streamed: s.streamed,
        live_status: live.then(|| s.live_status.clone()),
        per_minute: live.then_some(s.per_minute),
        on_hold: held.map(|h| OnHoldDto {
            reason: if h.full { "disk_full" } else { "database" },
            since: rfc3339(h.since),
        }),
    }
}

/// A source to add.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceBody {
    /// `rss`, `mastodon_tag`, `mastodon_public`, `jetstream`, `mediawiki`,
    /// or `channel` (a connected channel's own mentions and comments).
    pub kind: String,
    /// The feed's, instance's, Jetstream server's (`wss://…`) or wiki's
    /// (`api.php`) address.
    #[serde(default)]
    pub url: String,
    /// The hashtag (`mastodon_tag`).
    #[serde(default)]
    pub tag: String,
    /// Only the instance's own accounts (`mastodon_public`).
    #[serde(default)]
    pub local: bool,
    /// Jetstream's wanted collections, separated by commas or spaces
    /// (`jetstream`; empty: posts, `app.bsky.feed.post`).
    #[serde(default)]
    pub collections: String,
    /// The connected channel whose own mentions and comments to hear
    /// (`channel`).
    #[serde(default)]
    pub channel_id: Option<i64>,
    /// Hear it live (`mastodon_tag`, `mastodon_public`; where the instance
    /// refuses streaming it is polled by the stream instead). A
    /// `jetstream` source always streams; feeds and wikis are polled.
    #[serde(default)]
    pub stream: bool,
}

/// The workspace's sources, with their health.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/listening/sources", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path)),
    responses((status = 200, body = [SourceDto]), (status = 404, body = Problem)))]
pub async fn list_sources(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
) -> ApiResult<Json<Vec<SourceDto>>> {
    let all = listening::sources(&s, &u, ws).await?;
    let held = s.listening_held();
    Ok(Json(all.into_iter().map(|x| source_dto(x, held)).collect()))
}

/// Adds a source; it is fetched within seconds.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/listening/sources", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path)), request_body = SourceBody,
    responses((status = 201, body = SourceDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_source(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    ApiJson(b): ApiJson<SourceBody>,
) -> ApiResult<(StatusCode, Json<SourceDto>)> {
    let src = if b.kind.trim() == CHANNEL {
        listening::create_channel_source(&s, &u, ws, b.channel_id).await?
    } else {
        let input = SourceInput {
            url: b.url,
            tag: b.tag,
            local: b.local,
            collections: b.collections,
        };
        listening::create_source(&s, &u, ws, &b.kind, &input, b.stream).await?
    };
    Ok((
        StatusCode::CREATED,
        Json(source_dto(src, s.listening_held())),
    ))
}

/// Removes a source (its mentions stay).
#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/listening/sources/{id}", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_source(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    listening::delete_source(&s, &u, ws, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many posts a fetch brought.
#[derive(Serialize, ToSchema)]
pub struct Fetched {
    /// Posts the source returned.
    pub fetched: usize,
}

/// Fetches a source now.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/listening/sources/{id}/sync", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = Fetched), (status = 403, body = Problem), (status = 404, body = Problem), (status = 502, body = Problem), (status = 507, body = Problem)))]
pub async fn sync_source(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
) -> ApiResult<Json<Fetched>> {
    let fetched = listening::sync(&s, &u, ws, id).await?;
    Ok(Json(Fetched { fetched }))
}

/// Which mentions.
#[derive(Deserialize, IntoParams)]
pub struct MentionQuery {
    /// Words in the text or the author's name.
    pub q: Option<String>,
    /// `positive`, `negative` or `neutral`.
    pub sentiment: Option<String>,
    /// A language code, or `und` for unknown.
    pub lang: Option<String>,
    /// Only what this query found.
    pub query_id: Option<i64>,
    /// Only this kind of source.
    pub source: Option<String>,
    /// Published at or after (RFC 3339).
    pub since: Option<String>,
    /// Published before (RFC 3339).
    pub until: Option<String>,
    /// The `next` of the previous page.
    pub before: Option<String>,
    /// At most this many (1–100, default 50).
    pub limit: Option<i64>,
}

/// A mention.
#[derive(Serialize, ToSchema)]
pub struct MentionDto {
    /// Stable id.
    pub id: i64,
    /// The kind of source that heard it.
    pub source: String,
    /// Where it can be read.
    pub url: Option<String>,
    /// The author's name.
    pub author: String,
    /// The author's handle.
    pub handle: Option<String>,
    /// The author's followers, where known.
    pub reach: Option<i64>,
    /// The text.
    pub text: String,
    /// Its language (`null`: unknown).
    pub lang: Option<String>,
    /// `positive`, `negative` or `neutral`.
    pub sentiment: String,
    /// -1.0 ..= 1.0.
    pub score: f64,
    /// How many times it was heard (reposts and copies included).
    pub copies: i64,
    /// The queries that found it.
    pub query_ids: Vec<i64>,
    /// When it was published (RFC 3339).
    pub published_at: String,
}

/// A page of mentions.
#[derive(Serialize, ToSchema)]
pub struct MentionPage {
    /// Newest first; copies are counted on the first, not listed.
    pub mentions: Vec<MentionDto>,
    /// Pass as `before` for the next page (absent on the last).
    pub next: Option<String>,
}

fn filter(m: &MentionQuery) -> Result<MentionFilter, AppError> {
    let time =
        |v: &Option<String>, f: &'static str| v.as_deref().map(|t| parse_rfc3339(t, f)).transpose();
    let since = time(&m.since, "since");
    let until = time(&m.until, "until");
    let before = m
        .before
        .as_deref()
        .map(|b| {
            b.split_once('-')
                .and_then(|(a, i)| Some((a.parse().ok()?, i.parse().ok()?)))
                .ok_or(dialoog_domain::FieldError::new("before", "cursor_invalid"))
        })
        .transpose();
    let errors: Vec<_> = [
        since.as_ref().err(),
        until.as_ref().err(),
        before.as_ref().err(),
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect();
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(MentionFilter {
        q: m.q.clone(),
        sentiment: m.sentiment.clone().filter(|s| !s.is_empty()),
        lang: m.lang.clone().filter(|s| !s.is_empty()),
        query_id: m.query_id,
        source_kind: m.source.clone().filter(|s| !s.is_empty()),
        since: since.ok().flatten(),
        until: until.ok().flatten(),
        before: before.ok().flatten(),
    })
}

/// The mentions the workspace's queries found.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/listening/mentions", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path), MentionQuery),
    responses((status = 200, body = MentionPage), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn mentions(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    Query(m): Query<MentionQuery>,
) -> ApiResult<Json<MentionPage>> {
    let f = filter(&m)?;
    let limit = m.limit.unwrap_or(50).clamp(1, 100);
    let found = listening::mentions(&s, &u, ws, &f, limit).await?;
    let next = (found.len() as i64 == limit)
        .then(|| {
            found
                .last()
                .map(|(m, _)| format!("{}-{}", m.published_at, m.id))
        })
        .flatten();
    Ok(Json(MentionPage {
        mentions: found
            .into_iter()
            .map(|(m, query_ids)| MentionDto {
                id: m.id,
                source: m.source_kind,
                url: m.url,
                author: m.author_name,
                handle: m.author_handle,
                reach: m.reach,
                text: m.text,
                lang: m.lang,
                sentiment: m.sentiment,
                score: m.score,
                copies: m.copies,
                query_ids,
                published_at: rfc3339(m.published_at),
            })
            .collect(),
        next,
    }))
}

/// Counts per facet.
#[derive(Serialize, ToSchema)]
pub struct FacetsDto {
    /// `{"value", "count"}` per sentiment.
    pub sentiment: Vec<serde_json::Value>,
    /// Per language (`und`: unknown).
    pub lang: Vec<serde_json::Value>,
    /// Per kind of source.
    pub source: Vec<serde_json::Value>,
    /// `{"query_id", "count"}` per query.
    pub query: Vec<serde_json::Value>,
    /// `{"day" (YYYY-MM-DD, UTC), "positive", "neutral", "negative"}`.
    pub days: Vec<serde_json::Value>,
}

/// Counts of the mentions a filter selects, per facet and per day.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/listening/facets", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path), MentionQuery),
    responses((status = 200, body = FacetsDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn facets(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    Query(m): Query<MentionQuery>,
) -> ApiResult<Json<FacetsDto>> {
    let f = filter(&m)?;
    let fc = listening::facets(&s, &u, ws, &f).await?;
    let pairs = |v: Vec<(String, i64)>| {
        v.into_iter()
            .map(|(value, count)| serde_json::json!({"value": value, "count": count}))
            .collect()
    };
    let mut days: Vec<serde_json::Value> = vec![];
    for (day, sentiment, n) in fc.days {
        let label = rfc3339(day).chars().take(10).collect::<String>();
        if days.last().is_none_or(|d| d["day"] != label.as_str()) {
            days.push(
                serde_json::json!({"day": label, "positive": 0, "neutral": 0, "negative": 0}),
            );
        }
        if let Some(d) = days.last_mut() {
            d[sentiment.as_str()] = n.into();
        }
    }
    Ok(Json(FacetsDto {
        sentiment: pairs(fc.sentiment),
        lang: pairs(fc.lang),
        source: pairs(fc.source),
        query: fc
            .query
            .into_iter()
            .map(|(q, count)| serde_json::json!({"query_id": q, "count": count}))
            .collect(),
        days,
    }))
}

/// A workspace's listening settings.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ListeningSettingsDto {
    /// How many days mentions are kept (1 to 3650; 365 unless chosen);
    /// older ones are removed from the list and from search.
    pub keep_days: i64,
}

/// The workspace's listening settings.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/listening/settings", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path)),
    responses((status = 200, body = ListeningSettingsDto), (status = 404, body = Problem)))]
pub async fn get_settings(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
) -> ApiResult<Json<ListeningSettingsDto>> {
    let keep_days = crate::listening_search::keep_days(&s, &u, ws).await?;
    Ok(Json(ListeningSettingsDto { keep_days }))
}

/// Changes the workspace's listening settings (owners and managers).
#[utoipa::path(put, path = "/api/v1/workspaces/{ws}/listening/settings", tag = "listening", security(("bearer" = [])),
    params(("ws" = i64, Path)), request_body = ListeningSettingsDto,
    responses((status = 200, body = ListeningSettingsDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn put_settings(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    ApiJson(b): ApiJson<ListeningSettingsDto>,
) -> ApiResult<Json<ListeningSettingsDto>> {
    let keep_days = crate::listening_search::set_keep_days(&s, &u, ws, b.keep_days).await?;
    Ok(Json(ListeningSettingsDto { keep_days }))
}
