//! The inbox endpoints: conversations with filters, one conversation with
//! its messages oldest first, replies through the original channel, notes,
//! and changing status, assignee, snooze and tags.

use axum::Json;
use axum::extract::{Path, Query, State, rejection::QueryRejection};
use axum::http::StatusCode;
use dialoog_domain::{FieldError, time};
use dialoog_store::{AssigneeFilter, Conversation, Entry, InboxFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{Problem, rfc3339};
use super::{ApiError, ApiJson, ApiUser};
use crate::error::AppError;
use crate::service_levels::{self, Levels, timers};
use crate::{AppState, inbox};

type ApiResult<T> = Result<T, ApiError>;

/// `GET …/conversations` filters; all optional.
#[derive(Deserialize, IntoParams)]
pub struct ConversationQuery {
    /// `open` (the default; snoozed ones left out), `pending`, `snoozed`,
    /// `resolved` or `all`.
    pub status: Option<String>,
    /// One channel.
    pub channel_id: Option<i64>,
    /// `comment`, `mention`, `direct_message`, `email` or `review`.
    pub kind: Option<String>,
    /// A member's user id, `me` or `none`.
    pub assignee: Option<String>,
    /// `positive`, `negative` or `neutral`.
    pub sentiment: Option<String>,
    /// A language code (`nl`, `en`, …).
    pub lang: Option<String>,
    /// A tag.
    pub tag: Option<String>,
    /// Words in the messages or the author's name.
    pub q: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// At most this many (1–200, default 50).
    pub limit: Option<i64>,
}

/// A conversation as listed.
#[derive(Serialize, ToSchema)]
pub struct ConversationDto {
    /// Stable id.
    pub id: i64,
    /// The channel it came through, and replies go out through.
    pub channel_id: i64,
    /// That channel's name.
    pub channel_name: String,
    /// Its network.
    pub network: String,
    /// `comment`, `mention`, `direct_message`, `email` or `review`.
    pub kind: String,
    /// Our post it is under, where there is one.
    pub post_id: Option<i64>,
    /// Who started it.
    pub author_name: String,
    /// Their handle or address.
    pub author_handle: Option<String>,
    /// `open`, `pending` or `resolved`.
    pub status: String,
    /// Who answers it.
    pub assignee_id: Option<i64>,
    /// Their name.
    pub assignee_name: Option<String>,
    /// Out of the open list until then (RFC 3339).
    pub snoozed_until: Option<String>,
    /// The latest message from outside, shortened.
    pub preview: String,
    /// Its language.
    pub lang: Option<String>,
    /// Its sentiment.
    pub sentiment: Option<String>,
    /// Messages from outside.
    pub messages: i64,
    /// Since when a customer waits for an answer (RFC 3339); null when
    /// answered.
    pub waiting_since: Option<String>,
    /// The latest activity.
    pub last_at: String,
    /// When we first answered.
    pub first_response_at: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// When an answer is due under the workspace's target, in business
    /// time (RFC 3339); null when nobody waits.
    pub answer_due_at: Option<String>,
    /// When it should be resolved (RFC 3339); null once resolved.
    pub resolve_due_at: Option<String>,
    /// Whether the answer is overdue now.
    pub overdue: bool,
}

/// What the timers are computed with.
struct Clock<'a> {
    levels: &'a Levels,
    tz: &'a str,
    now: i64,
}

fn conversation_dto(c: Conversation, tags: Vec<String>, k: &Clock<'_>) -> ConversationDto {
    let (answer, resolve) = timers(k.levels, k.tz, &c, k.now);
    ConversationDto {
        answer_due_at: answer.map(|d| rfc3339(d.at)),
        resolve_due_at: resolve.map(|d| rfc3339(d.at)),
        overdue: answer.is_some_and(|d| d.overdue),
        id: c.id,
        channel_id: c.channel_id,
        channel_name: c.channel_name,
        network: c.network,
        kind: c.kind,
        post_id: c.post_id,
        author_name: c.author_name,
        author_handle: c.author_handle,
        status: c.status,
        assignee_id: c.assignee_id,
        assignee_name: c.assignee_name,
        snoozed_until: c.snoozed_until.map(rfc3339),
        preview: c.preview,
        lang: c.lang,
        sentiment: c.sentiment,
        messages: c.messages,
        waiting_since: c.waiting_since.map(rfc3339),
        last_at: rfc3339(c.last_at),
        first_response_at: c.first_response_at.map(rfc3339),
        tags,
    }
}

/// A page of conversations.
#[derive(Serialize, ToSchema)]
pub struct ConversationList {
    /// Latest activity first.
    pub conversations: Vec<ConversationDto>,
    /// Pass as `after` for the next page; null on the last page.
    pub next: Option<String>,
}

fn parse_after(raw: &str) -> Result<(i64, i64), FieldError> {
    raw.split_once('.')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .ok_or(FieldError::new("after", "invalid"))
}

/// Builds the store's filter from query values (shared with the UI).
pub fn filter_from(
    user_id: i64,
    status: Option<&str>,
    assignee: Option<&str>,
) -> Result<(Option<String>, Option<AssigneeFilter>), FieldError> {
    let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
        None => Some("open".to_owned()),
        Some("all") => None,
        Some(s) if inbox::VIEWS.contains(&s) => Some(s.to_owned()),
        Some(_) => return Err(FieldError::new("status", "invalid")),
    };
    let assignee = match assignee.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some("me") => Some(AssigneeFilter::User(user_id)),
        Some("none") => Some(AssigneeFilter::Nobody),
        Some(id) => Some(AssigneeFilter::User(
            id.parse()
                .map_err(|_| FieldError::new("assignee", "invalid"))?,
        )),
    };
    Ok((status, assignee))
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// The workspace's conversations, latest activity first, with filters.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/conversations", tag = "inbox", security(("bearer" = [])),
    params(("ws" = i64, Path), ConversationQuery),
    responses((status = 200, body = ConversationList), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn list_conversations(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    q: Result<Query<ConversationQuery>, QueryRejection>,
) -> ApiResult<Json<ConversationList>> {
    let Query(q) = q.map_err(|e| AppError::Malformed(e.body_text()))?;
    let (status, assignee) = filter_from(u.id, q.status.as_deref(), q.assignee.as_deref())?;
    let filter = InboxFilter {
        status,
        channel_id: q.channel_id,
        kind: nonempty(q.kind),
        assignee,
        sentiment: nonempty(q.sentiment),
        lang: nonempty(q.lang),
        tag: nonempty(q.tag),
        q: nonempty(q.q),
        after: q.after.as_deref().map(parse_after).transpose()?,
    };
    let limit = q.limit.unwrap_or(inbox::PAGE).clamp(1, 200);
    let (m, rows) = inbox::list(&s, &u, ws, &filter, limit).await?;
    let levels = service_levels::load(&s, ws).await?;
    let clock = Clock {
        levels: &levels,
        tz: &m.workspace.timezone,
        now: crate::service::now_ms(),
    };
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|c| format!("{}.{}", c.last_at, c.id)))
        .flatten();
    let tags = inbox::page_tags(&s, &rows).await?;
    let conversations = rows
        .into_iter()
        .zip(tags)
        .map(|(c, tags)| conversation_dto(c, tags, &clock))
        .collect();
    Ok(Json(ConversationList {
        conversations,
        next,
    }))
}

/// One message in a conversation: from outside (`in`), our reply (`out`)
/// or an internal note (`note`).
#[derive(Serialize, ToSchema)]
pub struct MessageDto {
    /// `in`, `out` or `note`.
    pub direction: String,
    /// The inbound item's or the entry's id.
    pub id: i64,
    /// Who wrote it.
    pub author_name: String,
    /// Their handle (messages from outside).
    pub author_handle: Option<String>,
    /// The text, as plain text.
    pub text: String,
    /// Where it can be seen on the network.
    pub url: Option<String>,
    /// When it was written (RFC 3339).
    pub at: String,
    /// Its language (messages from outside).
    pub lang: Option<String>,
    /// Its sentiment (messages from outside).
    pub sentiment: Option<String>,
    /// A reply's state: `sending`, `sent`, `failed` or `unconfirmed`.
    pub state: Option<String>,
    /// Why a reply failed, in the network's words.
    pub error: Option<String>,
    /// What came with a message from outside (pictures, videos, files),
    /// at most 20.
    pub media: Vec<MediaDto>,
}

/// An attachment of a message from outside, as the network gave it.
#[derive(Serialize, ToSchema)]
pub struct MediaDto {
    /// The network's word for it (`image`, `video`, `image/png`, …).
    pub kind: String,
    /// Its address on the network, only when it is a web address
    /// (`http`/`https`); fetch it yourself: the API does not proxy it.
    pub url: Option<String>,
    /// Its description, where the network gives one.
    pub alt: String,
}

fn media_dtos(media: &str) -> Vec<MediaDto> {
    crate::ui::inbox_media::parse(media)
        .into_iter()
        .take(crate::ui::inbox_media::MAX_SHOWN)
        .map(|m| {
            let url = crate::ui::inbox_media::safe_url(Some(&m.url));
            MediaDto {
                kind: m.kind,
                url: (!url.is_empty()).then_some(url),
                alt: m.alt,
            }
        })
        .collect()
}

fn entry_dto(e: Entry) -> MessageDto {
    let reply = e.kind == "reply";
    MessageDto {
        direction: if reply { "out" } else { "note" }.to_owned(),
        id: e.id,
        author_name: e.user_name.unwrap_or_default(),
        author_handle: None,
        text: e.text,
        url: e.remote_url,
        at: rfc3339(e.sent_at.unwrap_or(e.created_at)),
        lang: None,
        sentiment: None,
        state: reply.then_some(e.state),
        error: (!e.error.is_empty()).then_some(e.error),
        media: vec![],
    }
}

/// A conversation with its messages.
#[derive(Serialize, ToSchema)]
pub struct ConversationDetail {
    /// The conversation.
    #[serde(flatten)]
    pub conversation: ConversationDto,
    /// Oldest first.
    pub messages: Vec<MessageDto>,
}

async fn detail(
    s: &AppState,
    u: &dialoog_store::User,
    ws: i64,
    id: i64,
) -> ApiResult<ConversationDetail> {
    let t = inbox::open(s, u, ws, id).await?;
    let mut timed: Vec<(i64, MessageDto)> = t
        .items
        .into_iter()
        .map(|i| {
            let at = i.item.published_at.unwrap_or(i.fetched_at);
            (
                at,
                MessageDto {
                    direction: "in".to_owned(),
                    id: i.id,
                    media: media_dtos(&i.item.media),
                    author_name: i.item.author_name,
                    author_handle: i.item.author_handle,
                    text: i.item.text,
                    url: i.item.url,
                    at: rfc3339(at),
                    lang: i.item.lang,
                    sentiment: i.item.sentiment,
                    state: None,
                    error: None,
                },
            )
        })
        .collect();
    timed.extend(
        t.entries
            .into_iter()
            .map(|e| (e.sent_at.unwrap_or(e.created_at), entry_dto(e))),
    );
    timed.sort_by_key(|(at, _)| *at);
    let levels = service_levels::load(s, ws).await?;
    let clock = Clock {
        levels: &levels,
        tz: &t.membership.workspace.timezone,
        now: crate::service::now_ms(),
    };
    Ok(ConversationDetail {
        conversation: conversation_dto(t.conversation, t.tags, &clock),
        messages: timed.into_iter().map(|(_, m)| m).collect(),
    })
}

/// One conversation with its messages, oldest first.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/conversations/{id}", tag = "inbox", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = ConversationDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_conversation(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
) -> ApiResult<Json<ConversationDetail>> {
    Ok(Json(detail(&s, &u, ws, id).await?))
}

/// `POST …/replies` and `…/notes`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextRequest {
    /// The text.
    pub text: String,
    /// Your own key for this request: sending the same key again returns
    /// the first result and sends nothing twice.
    pub key: Option<String>,
}

/// Answers through the conversation's own channel (a public reply, a direct
/// message or an e-mail, as the message answered requires). The reply is
/// returned with the state it reached: `sent`, `failed` with the network's
/// reason (send it again with `…/retry`), or `unconfirmed`.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/conversations/{id}/replies", tag = "inbox", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)), request_body = TextRequest,
    responses((status = 201, body = MessageDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`channel_needs_reconnect`, `cannot_reply`"),
        (status = 422, body = Problem, description = "empty, or over the network's limit")))]
pub async fn reply(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
    ApiJson(r): ApiJson<TextRequest>,
) -> ApiResult<(StatusCode, Json<MessageDto>)> {
    let (e, _) = inbox::reply(&s, &u, ws, id, &r.text, r.key.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(entry_dto(e))))
}

/// Sends a failed reply again, as the same request to the network.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/conversations/{id}/replies/{reply}/retry", tag = "inbox", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path), ("reply" = i64, Path)),
    responses((status = 200, body = MessageDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`reply_not_retryable`, `channel_needs_reconnect`")))]
pub async fn retry(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id, entry)): Path<(i64, i64, i64)>,
) -> ApiResult<Json<MessageDto>> {
    Ok(Json(entry_dto(inbox::retry(&s, &u, ws, id, entry).await?)))
}

/// Adds an internal note, seen only by the team.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/conversations/{id}/notes", tag = "inbox", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)), request_body = TextRequest,
    responses((status = 201, body = MessageDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn note(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
    ApiJson(r): ApiJson<TextRequest>,
) -> ApiResult<(StatusCode, Json<MessageDto>)> {
    let e = inbox::note(&s, &u, ws, id, &r.text, r.key.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(entry_dto(e))))
}

/// A field that may be left out (outer `None`) or be `null` (inner `None`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `PATCH …/conversations/{id}`: every field optional.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversationChange {
    /// `open`, `pending` or `resolved`.
    pub status: Option<String>,
    /// A member who may answer; `null` for nobody.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub assignee_id: Option<Option<i64>>,
    /// RFC 3339, in the future; `null` wakes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub snoozed_until: Option<Option<String>>,
    /// Tags to add.
    #[serde(default)]
    pub add_tags: Vec<String>,
    /// Tags to remove.
    #[serde(default)]
    pub remove_tags: Vec<String>,
}

/// The conversation after a change, and whether the status changed (false
/// when someone else set it already).
#[derive(Serialize, ToSchema)]
pub struct ChangedConversation {
    /// The conversation.
    #[serde(flatten)]
    pub conversation: ConversationDetail,
    /// Whether the status changed.
    pub status_changed: bool,
}

/// Changes status, assignee, snooze or tags.
#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/conversations/{id}", tag = "inbox", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)), request_body = ConversationChange,
    responses((status = 200, body = ChangedConversation), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn change_conversation(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
    ApiJson(r): ApiJson<ConversationChange>,
) -> ApiResult<Json<ChangedConversation>> {
    // Everything is checked before anything changes.
    let until = match &r.snoozed_until {
        Some(Some(t)) => Some(Some(time::parse_rfc3339(t, "snoozed_until")?)),
        Some(None) => Some(None),
        None => None,
    };
    for t in r.add_tags.iter().chain(&r.remove_tags) {
        inbox::clean_tag(t)?;
    }
    if let Some(st) = &r.status
        && !inbox::STATUSES.contains(&st.trim())
    {
        return Err(FieldError::new("status", "invalid").into());
    }
    let mut status_changed = false;
    if let Some(st) = &r.status {
        status_changed = inbox::set_status(&s, &u, ws, id, st).await?;
    }
    if let Some(a) = r.assignee_id {
        inbox::assign(&s, &u, ws, id, a).await?;
    }
    if let Some(until) = until {
        inbox::snooze(&s, &u, ws, id, until).await?;
    }
    for t in &r.add_tags {
        inbox::tag(&s, &u, ws, id, t, true).await?;
    }
    for t in &r.remove_tags {
        inbox::tag(&s, &u, ws, id, t, false).await?;
    }
    Ok(Json(ChangedConversation {
        conversation: detail(&s, &u, ws, id).await?,
        status_changed,
    }))
}
