//! The contact endpoints: one person across networks, merged and split.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::Problem;
use super::{ApiError, ApiJson, ApiUser};
use crate::{AppState, contacts};

type ApiResult<T> = Result<T, ApiError>;

/// A contact as listed.
#[derive(Serialize, ToSchema)]
pub struct ContactDto {
    /// Stable id.
    pub id: i64,
    /// The name shown.
    pub name: String,
    /// The team's note.
    pub note: String,
    /// Accounts and addresses.
    pub identities: i64,
    /// Conversations.
    pub conversations: i64,
}

fn dto(c: dialoog_store::Contact) -> ContactDto {
    ContactDto {
        id: c.id,
        name: c.name,
        note: c.note,
        identities: c.identities,
        conversations: c.conversations,
    }
}

/// `?q=`: words in a name or handle.
#[derive(Deserialize, IntoParams)]
pub struct ContactQuery {
    /// Words in the name or a handle.
    pub q: Option<String>,
}

/// The workspace's contacts (at most 100, newest first).
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/contacts", tag = "inbox", security(("bearer" = [])),
    params(("ws" = i64, Path), ContactQuery),
    responses((status = 200, body = [ContactDto]), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    Query(q): Query<ContactQuery>,
) -> ApiResult<Json<Vec<ContactDto>>> {
    let found = contacts::list(&s, &u, ws, q.q.as_deref().unwrap_or_default()).await?;
    Ok(Json(found.into_iter().map(dto).collect()))
}

/// An account or address of a contact.
#[derive(Serialize, ToSchema)]
pub struct IdentityDto {
    /// Stable id.
    pub id: i64,
    /// The network.
    pub network: String,
    /// The network's id for it.
    pub author_id: String,
    /// The name there.
    pub name: String,
    /// The handle or address there.
    pub handle: Option<String>,
}

/// A contact with their accounts, conversations and suggestions.
#[derive(Serialize, ToSchema)]
pub struct ContactDetail {
    /// The contact.
    #[serde(flatten)]
    pub contact: ContactDto,
    /// Their tags.
    pub tags: Vec<String>,
    /// Their accounts and addresses.
    pub accounts: Vec<IdentityDto>,
    /// Their conversations' ids, latest activity first.
    pub conversation_ids: Vec<i64>,
    /// Contacts that may be the same person: `{"contact_id", "name", "reason"}`
    /// with reason `same_name`, `same_address` or `same_handle`.
    pub suggestions: Vec<serde_json::Value>,
    /// Per month: `{"month": "YYYY-MM", "positive", "neutral", "negative"}`.
    pub sentiment: Vec<serde_json::Value>,
}

async fn detail(
    s: &AppState,
    u: &dialoog_store::User,
    ws: i64,
    id: i64,
) -> ApiResult<ContactDetail> {
    let p = contacts::open(s, u, ws, id).await?;
    Ok(ContactDetail {
        contact: dto(p.contact),
        tags: p.tags,
        accounts: p
            .identities
            .into_iter()
            .map(|i| IdentityDto {
                id: i.id,
                network: i.network,
                author_id: i.author_id,
                name: i.name,
                handle: i.handle,
            })
            .collect(),
        conversation_ids: p.conversations.iter().map(|c| c.id).collect(),
        suggestions: p
            .suggestions
            .into_iter()
            .map(|x| serde_json::json!({"contact_id": x.contact_id, "name": x.name, "reason": x.reason}))
            .collect(),
        sentiment: p
            .sentiment
            .into_iter()
            .map(|(m, [pos, neu, neg])| serde_json::json!({"month": m, "positive": pos, "neutral": neu, "negative": neg}))
            .collect(),
    })
}

/// One contact.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/contacts/{id}", tag = "inbox", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = ContactDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
) -> ApiResult<Json<ContactDetail>> {
    Ok(Json(detail(&s, &u, ws, id).await?))
}

/// `PATCH …/contacts/{id}`: every field optional.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactChange {
    /// The team's note (replaces it).
    pub note: Option<String>,
    /// Tags to add.
    #[serde(default)]
    pub add_tags: Vec<String>,
    /// Tags to remove.
    #[serde(default)]
    pub remove_tags: Vec<String>,
}

/// Changes the note or tags.
#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/contacts/{id}", tag = "inbox", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)), request_body = ContactChange,
    responses((status = 200, body = ContactDetail), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn change(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
    ApiJson(r): ApiJson<ContactChange>,
) -> ApiResult<Json<ContactDetail>> {
    for t in r.add_tags.iter().chain(&r.remove_tags) {
        crate::inbox::clean_tag(t)?;
    }
    if let Some(n) = &r.note {
        contacts::note(&s, &u, ws, id, n).await?;
    }
    for t in &r.add_tags {
        contacts::tag(&s, &u, ws, id, t, true).await?;
    }
    for t in &r.remove_tags {
        contacts::tag(&s, &u, ws, id, t, false).await?;
    }
    Ok(Json(detail(&s, &u, ws, id).await?))
}

/// `POST …/merge`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The contact merged into this one (it is gone afterwards).
    pub other_id: i64,
}

/// Merges another contact into this one: its accounts, conversations, tags
/// and note come along.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/contacts/{id}/merge", tag = "inbox", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)), request_body = MergeRequest,
    responses((status = 200, body = ContactDetail), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn merge(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
    ApiJson(r): ApiJson<MergeRequest>,
) -> ApiResult<Json<ContactDetail>> {
    contacts::merge(&s, &u, ws, id, r.other_id).await?;
    Ok(Json(detail(&s, &u, ws, id).await?))
}

/// Splits an account off into a contact of its own, with its
/// conversations; returns the new contact.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/contacts/{id}/identities/{identity}/split", tag = "inbox", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path), ("identity" = i64, Path)),
    responses((status = 200, body = ContactDetail), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "the contact's last account")))]
pub async fn split(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id, identity)): Path<(i64, i64, i64)>,
) -> ApiResult<Json<ContactDetail>> {
    let new = contacts::split(&s, &u, ws, id, identity).await?;
    Ok(Json(detail(&s, &u, ws, new).await?))
}
