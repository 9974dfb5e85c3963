//! One function per endpoint: HTTP in, a [`crate::service`] call, HTTP out.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use dialoog_domain::{Action, Locale};

use super::dto::*;
use super::{ApiError, ApiJson, ApiUser};
use crate::error::AppError;
use crate::{AppState, service};

type ApiResult<T> = Result<T, ApiError>;

fn request_locale(headers: &HeaderMap) -> Locale {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Locale::Nl, Locale::negotiate)
}

/// First-run setup: creates the organisation, the owner and a first workspace.
#[utoipa::path(post, path = "/api/v1/setup", tag = "setup", request_body = SetupRequest,
    responses((status = 201, body = UserWithToken), (status = 409, body = Problem, description = "already set up"),
              (status = 422, body = Problem)))]
pub async fn setup(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiJson(r): ApiJson<SetupRequest>,
) -> ApiResult<(StatusCode, Json<UserWithToken>)> {
    let (user, _) = service::setup(
        &s,
        &r.organisation,
        &r.name,
        &r.email,
        &r.password,
        request_locale(&headers),
    )
    .await?;
    let (_, token) = service::issue_token(&s, &user, "setup").await?;
    Ok((
        StatusCode::CREATED,
        Json(UserWithToken {
            user: (&user).into(),
            token,
        }),
    ))
}

/// Makes a personal API token from an e-mail address and password.
#[utoipa::path(post, path = "/api/v1/auth/tokens", tag = "auth", request_body = TokenRequest,
    responses((status = 201, body = TokenCreated), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn create_token(
    State(s): State<AppState>,
    ApiJson(r): ApiJson<TokenRequest>,
) -> ApiResult<(StatusCode, Json<TokenCreated>)> {
    let user = service::check_password(&s, &r.email, &r.password).await?;
    if user.totp_enabled {
        match r.totp.as_deref() {
            None => return Err(AppError::TotpRequired.into()),
            Some(code) if !service::check_totp(&user, code) => {
                return Err(AppError::TotpInvalid.into());
            }
            Some(_) => {}
        }
    }
    let (t, token) = service::issue_token(&s, &user, &r.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenCreated {
            id: t.id,
            name: t.name,
            token,
        }),
    ))
}

/// The caller's API tokens.
#[utoipa::path(get, path = "/api/v1/auth/tokens", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Vec<TokenDto>), (status = 401, body = Problem)))]
pub async fn list_tokens(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
) -> ApiResult<Json<Vec<TokenDto>>> {
    Ok(Json(
        s.store
            .api_tokens(u.id)
            .await?
            .iter()
            .map(TokenDto::from)
            .collect(),
    ))
}

/// Revokes one of the caller's tokens.
#[utoipa::path(delete, path = "/api/v1/auth/tokens/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    service::revoke_token(&s, &u, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller and their workspaces.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeResponse), (status = 401, body = Problem)))]
pub async fn me(State(s): State<AppState>, ApiUser(u): ApiUser) -> ApiResult<Json<MeResponse>> {
    let ws = s.store.memberships(u.id).await?;
    Ok(Json(MeResponse {
        user: (&u).into(),
        workspaces: ws.iter().map(WorkspaceDto::from).collect(),
    }))
}

/// The workspaces the caller belongs to.
#[utoipa::path(get, path = "/api/v1/workspaces", tag = "workspaces", security(("bearer" = [])),
    responses((status = 200, body = Vec<WorkspaceDto>), (status = 401, body = Problem)))]
pub async fn list_workspaces(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
) -> ApiResult<Json<Vec<WorkspaceDto>>> {
    Ok(Json(
        s.store
            .memberships(u.id)
            .await?
            .iter()
            .map(WorkspaceDto::from)
            .collect(),
    ))
}

/// Creates a workspace (organisation administrators).
#[utoipa::path(post, path = "/api/v1/workspaces", tag = "workspaces", security(("bearer" = [])), request_body = WorkspaceCreate,
    responses((status = 201, body = WorkspaceDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_workspace(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    ApiJson(r): ApiJson<WorkspaceCreate>,
) -> ApiResult<(StatusCode, Json<WorkspaceDto>)> {
    let ws =
        service::create_workspace(&s, &u, &r.name, r.timezone.as_deref().unwrap_or("")).await?;
    Ok((
        StatusCode::CREATED,
        Json(WorkspaceDto::new(&ws, dialoog_domain::Role::Owner)),
    ))
}

/// One workspace.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}", tag = "workspaces", security(("bearer" = [])),
    params(("ws" = i64, Path)), responses((status = 200, body = WorkspaceDto), (status = 404, body = Problem)))]
pub async fn get_workspace(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
) -> ApiResult<Json<WorkspaceDto>> {
    let m = service::access(&s, &u, ws, Action::ViewWorkspace).await?;
    Ok(Json((&m).into()))
}

/// Renames a workspace or changes its timezone (owners, managers).
#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}", tag = "workspaces", security(("bearer" = [])), request_body = WorkspacePatch,
    params(("ws" = i64, Path)), responses((status = 200, body = WorkspaceDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn update_workspace(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    ApiJson(r): ApiJson<WorkspacePatch>,
) -> ApiResult<Json<WorkspaceDto>> {
    let updated =
        service::update_workspace(&s, &u, ws, r.name.as_deref(), r.timezone.as_deref()).await?;
    let m = service::access(&s, &u, ws, Action::ViewWorkspace).await?;
    Ok(Json(WorkspaceDto::new(&updated, m.role)))
}

/// The members of a workspace.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/members", tag = "members", security(("bearer" = [])),
    params(("ws" = i64, Path)), responses((status = 200, body = Vec<MemberDto>), (status = 404, body = Problem)))]
pub async fn list_members(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
) -> ApiResult<Json<Vec<MemberDto>>> {
    service::access(&s, &u, ws, Action::ViewMembers).await?;
    Ok(Json(
        s.store
            .members(ws)
            .await?
            .iter()
            .map(MemberDto::from)
            .collect(),
    ))
}

/// Adds a member: directly for a known address, by invitation link otherwise.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/members", tag = "members", security(("bearer" = [])), request_body = MemberAdd,
    params(("ws" = i64, Path)),
    responses((status = 201, body = MemberAdded), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn add_member(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    headers: HeaderMap,
    ApiJson(r): ApiJson<MemberAdd>,
) -> ApiResult<(StatusCode, Json<MemberAdded>)> {
    let t = crate::i18n::Tr(request_locale(&headers));
    let out = match service::add_member(&s, &u, ws, &r.email, &r.role, t).await? {
        service::Added::Member(user, role) => MemberAdded {
            member: Some(MemberDto {
                user_id: user.id,
                email: user.email,
                name: user.name,
                role: role.to_string(),
                joined_at: super::rfc3339(service::now_ms()),
            }),
            invite_url: None,
        },
        service::Added::Invited(url) => MemberAdded {
            member: None,
            invite_url: Some(url),
        },
    };
    Ok((StatusCode::CREATED, Json(out)))
}

/// Changes a member's role.
#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/members/{user_id}", tag = "members", security(("bearer" = [])), request_body = MemberPatch,
    params(("ws" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn change_member(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, member)): Path<(i64, i64)>,
    ApiJson(r): ApiJson<MemberPatch>,
) -> ApiResult<StatusCode> {
    service::change_role(&s, &u, ws, member, &r.role).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a member.
#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/members/{user_id}", tag = "members", security(("bearer" = [])),
    params(("ws" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn remove_member(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, member)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    service::remove_member(&s, &u, ws, member).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The audit log of a workspace, newest first (owners, managers).
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/audit", tag = "workspaces", security(("bearer" = [])),
    params(("ws" = i64, Path), AuditQuery), responses((status = 200, body = Vec<AuditDto>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn workspace_audit(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditDto>>> {
    service::access(&s, &u, ws, Action::ViewAudit).await?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    Ok(Json(
        s.store
            .audit_for_workspace(ws, q.before, limit)
            .await?
            .iter()
            .map(AuditDto::from)
            .collect(),
    ))
}

/// Accepts an invitation: makes the account and returns an API token.
#[utoipa::path(post, path = "/api/v1/invites/{code}", tag = "members", request_body = InviteAccept,
    params(("code" = String, Path)), responses((status = 201, body = UserWithToken), (status = 409, body = Problem), (status = 410, body = Problem), (status = 422, body = Problem)))]
pub async fn accept_invite(
    State(s): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    ApiJson(r): ApiJson<InviteAccept>,
) -> ApiResult<(StatusCode, Json<UserWithToken>)> {
    let (user, _) =
        service::accept_invite(&s, &code, &r.name, &r.password, request_locale(&headers)).await?;
    let (_, token) = service::issue_token(&s, &user, "invite").await?;
    Ok((
        StatusCode::CREATED,
        Json(UserWithToken {
            user: (&user).into(),
            token,
        }),
    ))
}

/// The workspace's channels and their health.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/channels", tag = "channels", security(("bearer" = [])),
    params(("ws" = i64, Path)), responses((status = 200, body = Vec<ChannelDto>), (status = 404, body = Problem)))]
pub async fn list_channels(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
) -> ApiResult<Json<Vec<ChannelDto>>> {
    service::access(&s, &u, ws, Action::ViewChannels).await?;
    Ok(Json(
        s.store
            .channels(ws)
            .await?
            .iter()
            .map(ChannelDto::from)
            .collect(),
    ))
}

/// Connects a channel; the network is asked first whether the credentials work.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/channels", tag = "channels", security(("bearer" = [])), request_body = ChannelCreate,
    params(("ws" = i64, Path)),
    responses((status = 201, body = ChannelDto), (status = 403, body = Problem), (status = 422, body = Problem), (status = 502, body = Problem, description = "the network refused or failed")))]
pub async fn create_channel(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path(ws): Path<i64>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<(StatusCode, Json<ChannelDto>)> {
    service::access(&s, &u, ws, Action::ManageChannels).await?;
    let creds = crate::channels::credentials(&body)?;
    let ch = crate::channels::connect(&s, &u, ws, &creds).await?;
    Ok((StatusCode::CREATED, Json((&ch).into())))
}

/// Fetches the channel's new inbound items now.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/channels/{id}/sync", tag = "channels", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = SyncResult), (status = 404, body = Problem), (status = 502, body = Problem, description = "the network refused or failed; the channel's status says why")))]
pub async fn sync_channel(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
) -> ApiResult<Json<SyncResult>> {
    let o = crate::channels::sync(&s, &u, ws, id).await?;
    Ok(Json(SyncResult {
        fetched: o.fetched,
        new: o.new,
    }))
}

/// Disconnects a channel (its items go with it).
#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/channels/{id}", tag = "channels", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_channel(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    crate::channels::disconnect(&s, &u, ws, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The channel's latest inbound items, newest first.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/channels/{id}/items", tag = "channels", security(("bearer" = [])),
    params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 200, body = Vec<ItemDto>), (status = 404, body = Problem)))]
pub async fn channel_items(
    State(s): State<AppState>,
    ApiUser(u): ApiUser,
    Path((ws, id)): Path<(i64, i64)>,
) -> ApiResult<Json<Vec<ItemDto>>> {
    service::access(&s, &u, ws, Action::ViewChannels).await?;
    let ch = s.store.channel(ws, id).await?;
    Ok(Json(
        s.store
            .items(ch.id, 100)
            .await?
            .iter()
            .map(ItemDto::from)
            .collect(),
    ))
}
