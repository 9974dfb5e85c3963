//! The server-rendered interface: plain HTML forms that work without
//! JavaScript, in Dutch and English, from a 360-px phone to a desktop.
//!
//! A middleware ([`context`]) resolves, once per request, the CSRF token,
//! the signed-in user and the language; handlers take them as [`Ctx`],
//! [`SignedIn`] or [`WsCtx`]. Every form is read through [`forms::UiForm`],
//! which refuses a missing or wrong CSRF token.

mod account;
mod alerts;
mod approval;
mod auth;
mod calendar;
mod channels;
mod compose;
mod compose_repeat;
mod contacts;
mod edit;
pub mod forms;
mod import;
mod inbox;
mod inbox_levels;
pub(crate) mod inbox_media;
mod inbox_thread;
mod listening;
mod listening_sources;
mod notifications;
mod page;
mod posts;
mod reasons;
mod routes;
mod schedule;
pub mod upload;
mod voice;
mod workspace;

use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use dialoog_domain::{Action, Locale};
use dialoog_store::{Membership, User};
use std::collections::HashMap;

use crate::AppState;
use crate::error::AppError;
use crate::i18n::Tr;
use crate::security::{random_token, token_hash};
use crate::service::now_ms;

pub use routes::{ROUTES, feed_router, router};

pub use page::Page;

/// Cookie with the session token.
pub const SESSION_COOKIE: &str = "dialoog_session";
/// Cookie with the CSRF token (double-submit: forms repeat it).
pub const CSRF_COOKIE: &str = "dialoog_csrf";
/// Cookie with the language chosen before signing in.
pub const LANG_COOKIE: &str = "dialoog_lang";

/// Who is asking, in which language, with which CSRF token.
#[derive(Clone)]
pub struct Ctx {
    /// The translator for this request.
    pub t: Tr,
    /// The CSRF token forms must repeat.
    pub csrf: String,
    /// The signed-in user, if any, with their session's hash.
    pub viewer: Option<Viewer>,
}

/// A signed-in browser.
#[derive(Clone)]
pub struct Viewer {
    /// The user.
    pub user: User,
    /// The hash of the session token.
    pub session_hash: String,
    /// Password given, TOTP code still due.
    pub mfa_pending: bool,
}

fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with Dialoog's attributes.
pub fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    max_age_secs: i64,
    same_site: &str,
) -> HeaderValue {
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age_secs}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Middleware for every UI route: resolves [`Ctx`] and sets the CSRF cookie
/// when the browser has none yet.
pub async fn context(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let headers = req.headers();
    let existing_csrf = cookie(headers, CSRF_COOKIE)
        .filter(|v| {
            v.len() == 43
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned);
    let csrf = existing_csrf.clone().unwrap_or_else(random_token);
    let mut viewer = None;
    if let Some(token) = cookie(headers, SESSION_COOKIE).filter(|t| t.len() < 100) {
        let hash = token_hash(token);
        match state.store.session_user(&hash, now_ms()).await {
            Ok(Some((s, user))) => {
                viewer = Some(Viewer {
                    user,
                    session_hash: hash,
                    mfa_pending: s.mfa_pending,
                });
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "session lookup failed"),
        }
    }
    let locale = viewer
        .as_ref()
        .and_then(|v| v.user.locale.as_deref())
        .and_then(Locale::from_code)
        .or_else(|| cookie(headers, LANG_COOKIE).and_then(Locale::from_code))
        .unwrap_or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map_or(Locale::Nl, Locale::negotiate)
        });
    req.extensions_mut().insert(Ctx {
        t: Tr(locale),
        csrf: csrf.clone(),
        viewer,
    });
    let mut resp = next.run(req).await;
    if existing_csrf.is_none() {
        resp.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&state, CSRF_COOKIE, &csrf, 86_400 * 30, "Strict"),
        );
    }
    // Pages are never stored; a response that says how it may be cached
    // (static files, proxied pictures) keeps its own.
    resp.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    resp
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = UiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, UiError> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| UiError(AppError::internal("no ui context"), Tr(Locale::Nl)))
    }
}

/// A signed-in user (password and, if on, second factor given). Anyone else
/// is sent to sign in (or to first-run setup).
pub struct SignedIn {
    /// The request context.
    pub ctx: Ctx,
    /// The user.
    pub user: User,
    /// Their session's hash.
    pub session_hash: String,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ctx = Ctx::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match &ctx.viewer {
            Some(v) if !v.mfa_pending => Ok(SignedIn {
                user: v.user.clone(),
                session_hash: v.session_hash.clone(),
                ctx,
            }),
            Some(_) => Err(Redirect::to("/sign-in/two-factor").into_response()),
            None => match state.store.is_set_up().await {
                Ok(false) => Err(Redirect::to("/setup").into_response()),
                _ => Err(Redirect::to("/sign-in").into_response()),
            },
        }
    }
}

/// A signed-in member inside one workspace (`/w/{ws}/…`). Not a member:
/// "not found", whatever the workspace.
pub struct WsCtx {
    /// The signed-in user.
    pub me: SignedIn,
    /// Their membership of the workspace in the path.
    pub m: Membership,
    /// The page frame for this workspace.
    pub page: Page,
}

impl FromRequestParts<AppState> for WsCtx {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let me = SignedIn::from_request_parts(parts, state).await?;
        let t = me.ctx.t;
        let params = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| UiError(AppError::NotFound, t).into_response())?;
        let ws = params
            .get("ws")
            .and_then(|w| w.parse::<i64>().ok())
            .ok_or_else(|| UiError(AppError::NotFound, t).into_response())?;
        // The user's memberships, read once: the one of this workspace is
        // the access check, all of them the workspace switcher.
        let ms = state
            .store
            .memberships(me.user.id)
            .await
            .map_err(|e| UiError(e.into(), t).into_response())?;
        let m = ms
            .iter()
            .find(|m| m.workspace.id == ws)
            .cloned()
            .ok_or_else(|| UiError(AppError::NotFound, t).into_response())?;
        if !m.role.can(Action::ViewWorkspace) {
            return Err(UiError(AppError::Forbidden, t).into_response());
        }
        let page = Page::for_workspace(state, &me, &m, &ms)
            .await
            .map_err(|e| UiError(e, t).into_response())?;
        Ok(WsCtx { me, m, page })
    }
}

impl WsCtx {
    /// Refuses (403) when the member's role does not allow `action`.
    pub fn require(&self, action: Action) -> Result<(), UiError> {
        if self.m.role.can(action) {
            Ok(())
        } else {
            Err(UiError(AppError::Forbidden, self.me.ctx.t))
        }
    }
}

/// An error shown as a page in the user's language, with an id to quote.
pub struct UiError(pub AppError, pub Tr);

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let UiError(e, t) = self;
        if matches!(e, AppError::Unauthenticated) {
            return Redirect::to("/sign-in").into_response();
        }
        let id = match &e {
            AppError::Internal(id) => id.clone(),
            other => {
                let id: String = random_token().chars().take(10).collect();
                tracing::info!(error_id = %id, code = other.code(), "request refused");
                id
            }
        };
        let view = page::ErrorView {
            t,
            title: t.s(&format!("error.title.{}", e.status().as_u16())),
            message: e.message(t),
            error_id: id,
        };
        (e.status(), page::render(&view)).into_response()
    }
}

/// Renders a template, turning a template failure into an error page.
pub fn html<T: askama::Template>(view: &T, t: Tr) -> Response {
    match view.render() {
        Ok(s) => Html(s).into_response(),
        Err(e) => UiError(AppError::internal(e), t).into_response(),
    }
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
}

async fn copy_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/copy.js"),
    )
}

async fn calendar_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/calendar.js"),
    )
}

async fn inbox_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/inbox.js"),
    )
}

async fn count_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/count.js"),
    )
}

async fn not_found(ctx: Ctx) -> UiError {
    UiError(AppError::NotFound, ctx.t)
}

async fn home(State(state): State<AppState>, ctx: Ctx) -> Response {
    match (&ctx.viewer, state.store.is_set_up().await) {
        (_, Ok(false)) => Redirect::to("/setup").into_response(),
        (None, _) => Redirect::to("/sign-in").into_response(),
        (Some(v), _) if v.mfa_pending => Redirect::to("/sign-in/two-factor").into_response(),
        (Some(v), _) => match state.store.memberships(v.user.id).await {
            Ok(ms) => match ms.first() {
                Some(m) => Redirect::to(&format!("/w/{}", m.workspace.id)).into_response(),
                None => Redirect::to("/workspaces").into_response(),
            },
            Err(e) => UiError(e.into(), ctx.t).into_response(),
        },
    }
}

/// `s` percent-encoded for a URL's query (all but letters, digits and
/// `-_.`).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Status 303 to `to`, the answer to a successful form.
pub fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response()
}
