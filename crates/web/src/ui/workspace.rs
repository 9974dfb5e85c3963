//! Workspaces: the list, the overview, the areas, settings, members, audit.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use dialoog_domain::{Action, Role};
use dialoog_store::Member;
use serde::Deserialize;

use super::forms::{FieldErrs, UiForm};
use super::page::AREAS;
use super::{Page, SignedIn, UiError, WsCtx, html, see_other};
use crate::AppState;
use crate::error::AppError;
use crate::service::{self, now_ms};

fn status_for(errors: &FieldErrs) -> axum::http::StatusCode {
    if errors.any() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    }
}

#[derive(Template)]
#[template(path = "workspaces.html")]
struct ListView {
    page: Page,
    errors: FieldErrs,
    name: String,
    timezone: String,
}

/// Creating a workspace.
#[derive(Deserialize)]
pub struct WorkspaceForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    timezone: String,
}

pub async fn list(State(s): State<AppState>, me: SignedIn) -> Result<Response, UiError> {
    let page = Page::signed_in(&s, &me, "/workspaces")
        .await
        .map_err(|e| UiError(e, me.ctx.t))?;
    Ok(html(
        &ListView {
            page,
            errors: FieldErrs::default(),
            name: String::new(),
            timezone: dialoog_domain::Timezone::DEFAULT.to_owned(),
        },
        me.ctx.t,
    ))
}

pub async fn create(
    State(s): State<AppState>,
    me: SignedIn,
    UiForm(f): UiForm<WorkspaceForm>,
) -> Result<Response, UiError> {
    let t = me.ctx.t;
    match service::create_workspace(&s, &me.user, &f.name, &f.timezone).await {
        Ok(ws) => Ok(see_other(&format!("/w/{}", ws.id))),
        Err(AppError::Forbidden) => Err(UiError(AppError::Forbidden, t)),
        Err(e) => {
            let errors = FieldErrs::from_error(e, t)?;
            let page = Page::signed_in(&s, &me, "/workspaces")
                .await
                .map_err(|e| UiError(e, t))?;
            Ok((
                status_for(&errors),
                html(
                    &ListView {
                        page,
                        errors,
                        name: f.name,
                        timezone: f.timezone,
                    },
                    t,
                ),
            )
                .into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewView {
    page: Page,
    name: String,
    timezone: String,
    now: String,
    role_line: String,
    areas: Vec<(String, &'static str, String)>,
}

pub async fn overview(w: WsCtx) -> Response {
    let t = w.me.ctx.t;
    let id = w.m.workspace.id;
    let page = w.page.at(&format!("/w/{id}"));
    let role = t.s(&format!("role.{}", w.m.role));
    let v = OverviewView {
        now: page.when(&now_ms(), &w.m.workspace.timezone),
        name: w.m.workspace.name.clone(),
        timezone: w.m.workspace.timezone.clone(),
        role_line: t.fmt("overview.role", &[("role", role)]),
        areas: AREAS
            .iter()
            .map(|(slug, key)| {
                (
                    format!("/w/{id}/area/{slug}"),
                    *key,
                    format!("area.{slug}.desc"),
                )
            })
            .collect(),
        page,
    };
    html(&v, t)
}

#[derive(Template)]
#[template(path = "area.html")]
struct AreaView {
    page: Page,
    title_key: &'static str,
    desc_key: String,
}

pub async fn area(w: WsCtx, Path((_, slug)): Path<(i64, String)>) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let (slug, key) = AREAS
        .iter()
        .find(|(s, _)| *s == slug)
        .copied()
        .ok_or(UiError(AppError::NotFound, t))?;
    let page = w.page.at(&format!("/w/{}/area/{slug}", w.m.workspace.id));
    Ok(html(
        &AreaView {
            page,
            title_key: key,
            desc_key: format!("area.{slug}.desc"),
        },
        t,
    ))
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsView {
    page: Page,
    errors: FieldErrs,
    notice: Option<String>,
    ws: i64,
    name: String,
    timezone: String,
    approval_required: bool,
}

/// `?done=…` after a redirect.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

pub async fn settings(
    State(s): State<AppState>,
    w: WsCtx,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    w.require(Action::EditSettings)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let approval_required = s
        .store
        .approval_required(ws)
        .await
        .map_err(|e| UiError(e.into(), t))?;
    let notice = q.done.map(|_| t.s("notice.saved").to_owned());
    let v = SettingsView {
        page: w.page.at(&format!("/w/{ws}/settings")),
        errors: FieldErrs::default(),
        notice,
        ws,
        name: w.m.workspace.name.clone(),
        timezone: w.m.workspace.timezone.clone(),
        approval_required,
    };
    Ok(html(&v, t))
}

pub async fn settings_submit(
    State(s): State<AppState>,
    w: WsCtx,
    UiForm(f): UiForm<WorkspaceForm>,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    match service::update_workspace(&s, &w.me.user, ws, Some(&f.name), Some(&f.timezone)).await {
        Ok(_) => Ok(see_other(&format!("/w/{ws}/settings?done=saved"))),
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => Err(UiError(e, t)),
        Err(e) => {
            let errors = FieldErrs::from_error(e, t)?;
            let approval_required = s.store.approval_required(ws).await.unwrap_or(false);
            let v = SettingsView {
                page: w.page.at(&format!("/w/{ws}/settings")),
                errors,
                notice: None,
                ws,
                name: f.name,
                timezone: f.timezone,
                approval_required,
            };
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html(&v, t)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersView {
    page: Page,
    errors: FieldErrs,
    notice: Option<String>,
    invite_url: Option<String>,
    ws: i64,
    members: Vec<Member>,
    pending: Vec<(String, String)>,
    roles: Vec<&'static str>,
    can_manage: bool,
}

impl MembersView {
    fn same(&self, a: &str, b: &str) -> bool {
        a == b
    }
}

async fn members_view(
    s: &AppState,
    w: WsCtx,
    errors: FieldErrs,
    notice: Option<String>,
    invite_url: Option<String>,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let members = s
        .store
        .members(ws)
        .await
        .map_err(|e| UiError(e.into(), t))?;
    let can_manage = w.m.role.can(Action::ManageMembers);
    let pending = if can_manage {
        s.store
            .pending_invites(ws, now_ms())
            .await
            .map_err(|e| UiError(e.into(), t))?
            .into_iter()
            .map(|i| (i.email, i.role))
            .collect()
    } else {
        vec![]
    };
    let roles = Role::ALL
        .iter()
        .filter(|r| **r != Role::Owner || w.m.role.can(Action::GrantOwner))
        .map(|r| r.as_str())
        .collect();
    let status = status_for(&errors);
    let v = MembersView {
        page: w.page.at(&format!("/w/{ws}/members")),
        errors,
        notice,
        invite_url,
        ws,
        members,
        pending,
        roles,
        can_manage,
    };
    Ok((status, html(&v, t)).into_response())
}

pub async fn members(
    State(s): State<AppState>,
    w: WsCtx,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let notice = match q.done.as_deref() {
        Some("added") => Some(t.s("notice.member_added").to_owned()),
        Some("changed") => Some(t.s("notice.saved").to_owned()),
        Some("removed") => Some(t.s("notice.member_removed").to_owned()),
        _ => None,
    };
    members_view(&s, w, FieldErrs::default(), notice, None).await
}

/// Adding a member.
#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

pub async fn member_add(
    State(s): State<AppState>,
    w: WsCtx,
    UiForm(f): UiForm<AddForm>,
) -> Result<Response, UiError> {
    w.require(Action::ManageMembers)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    match service::add_member(&s, &w.me.user, ws, &f.email, &f.role, t).await {
        Ok(service::Added::Member(..)) => Ok(see_other(&format!("/w/{ws}/members?done=added"))),
        Ok(service::Added::Invited(url)) => {
            members_view(&s, w, FieldErrs::default(), None, Some(url)).await
        }
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => Err(UiError(e, t)),
        Err(e) => {
            let errors = FieldErrs::from_error(e, t)?;
            members_view(&s, w, errors, None, None).await
        }
    }
}

/// A new role.
#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

/// The empty form (CSRF token only).
#[derive(Deserialize)]
pub struct Empty {}

pub async fn member_role(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, user_id)): Path<(i64, i64)>,
    UiForm(f): UiForm<RoleForm>,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    match service::change_role(&s, &w.me.user, ws, user_id, &f.role).await {
        Ok(()) => Ok(see_other(&format!("/w/{ws}/members?done=changed"))),
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => Err(UiError(e, t)),
        Err(e) => {
            let errors = FieldErrs::from_error(e, t)?;
            members_view(&s, w, errors, None, None).await
        }
    }
}

pub async fn member_remove(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, user_id)): Path<(i64, i64)>,
    UiForm(_): UiForm<Empty>,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    match service::remove_member(&s, &w.me.user, ws, user_id).await {
        Ok(()) if user_id == w.me.user.id => Ok(see_other("/")),
        Ok(()) => Ok(see_other(&format!("/w/{ws}/members?done=removed"))),
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => Err(UiError(e, t)),
        Err(e) => {
            let errors = FieldErrs::from_error(e, t)?;
            members_view(&s, w, errors, None, None).await
        }
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditView {
    page: Page,
    rows: Vec<(String, String, String, String)>,
    older: Option<i64>,
}

/// Paging.
#[derive(Deserialize)]
pub struct Before {
    before: Option<i64>,
}

pub async fn audit(
    State(s): State<AppState>,
    w: WsCtx,
    Query(q): Query<Before>,
) -> Result<Response, UiError> {
    w.require(Action::ViewAudit)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    const PAGE: i64 = 100;
    let entries = s
        .store
        .audit_for_workspace(ws, q.before, PAGE)
        .await
        .map_err(|e| UiError(e.into(), t))?;
    let page = w.page.at(&format!("/w/{ws}/audit"));
    let tz = &w.m.workspace.timezone;
    let rows = entries
        .iter()
        .map(|e| {
            let what = t.s(&format!("audit.action.{}", e.action)).to_owned();
            (
                page.when(&e.at, tz),
                e.user_name.clone().unwrap_or_default(),
                what,
                e.detail.clone(),
            )
        })
        .collect();
    let older = (entries.len() as i64 == PAGE)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(html(&AuditView { page, rows, older }, t))
}
