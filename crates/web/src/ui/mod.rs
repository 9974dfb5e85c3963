//! The server-rendered interface: plain HTML forms that work without
//! JavaScript, in Dutch and English, from a 360-px phone to a desktop.
//!
//! A middleware ([`context`]) resolves, once per request, the CSRF token,
//! the signed-in user and the language; handlers take them as [`Ctx`],
//! [`SignedIn`] or [`WsCtx`]. Every form is read through [`forms::UiForm`],
//! which refuses a missing or wrong CSRF token.

mod account;
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
mod inbox_media;
mod inbox_thread;
mod listening;
mod notifications;
mod page;
mod posts;
mod schedule;
pub mod upload;
mod workspace;

use axum::Router;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use dialoog_domain::{Action, Locale};
use dialoog_store::{Membership, User};
use std::collections::HashMap;

use crate::AppState;
use crate::error::AppError;
use crate::i18n::Tr;
use crate::security::{random_token, token_hash};
use crate::service::now_ms;

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
        match state.store.session(&hash, now_ms()).await {
            Ok(Some(s)) => match state.store.user(s.user_id).await {
                Ok(user) => {
                    viewer = Some(Viewer {
                        user,
                        session_hash: hash,
                        mfa_pending: s.mfa_pending,
                    })
                }
                Err(e) => tracing::warn!(error = %e, "session user not loaded"),
            },
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
        let m = crate::service::access(state, &me.user, ws, Action::ViewWorkspace)
            .await
            .map_err(|e| UiError(e, t).into_response())?;
        let page = Page::for_workspace(state, &me, &m)
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

/// The routes of the interface, as (method, path) pairs: the access-matrix
/// test walks this list.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/setup"),
    ("POST", "/setup"),
    ("GET", "/sign-in"),
    ("POST", "/sign-in"),
    ("GET", "/sign-in/two-factor"),
    ("POST", "/sign-in/two-factor"),
    ("POST", "/sign-out"),
    ("POST", "/language"),
    ("GET", "/password/forgot"),
    ("POST", "/password/forgot"),
    ("GET", "/password/reset/{token}"),
    ("POST", "/password/reset/{token}"),
    ("GET", "/invite/{code}"),
    ("POST", "/invite/{code}"),
    ("GET", "/workspaces"),
    ("POST", "/workspaces"),
    ("GET", "/account"),
    ("POST", "/account/password"),
    ("POST", "/account/two-factor/start"),
    ("POST", "/account/two-factor/confirm"),
    ("POST", "/account/two-factor/disable"),
    ("POST", "/account/tokens"),
    ("POST", "/account/tokens/{id}/revoke"),
    ("GET", "/notifications"),
    ("POST", "/notifications/read"),
    ("GET", "/w/{ws}"),
    ("GET", "/w/{ws}/area/{area}"),
    ("GET", "/w/{ws}/settings"),
    ("POST", "/w/{ws}/settings"),
    ("GET", "/w/{ws}/members"),
    ("POST", "/w/{ws}/members"),
    ("POST", "/w/{ws}/members/{user_id}/role"),
    ("POST", "/w/{ws}/members/{user_id}/remove"),
    ("GET", "/w/{ws}/audit"),
    ("GET", "/w/{ws}/channels"),
    ("GET", "/w/{ws}/posts"),
    ("POST", "/w/{ws}/posts"),
    ("GET", "/w/{ws}/media/{id}"),
    ("POST", "/w/{ws}/channels"),
    ("POST", "/w/{ws}/channels/{channel}/sync"),
    ("POST", "/w/{ws}/channels/{channel}/remove"),
    ("POST", "/w/{ws}/channels/mastodon"),
    ("POST", "/w/{ws}/channels/bluesky"),
    ("POST", "/w/{ws}/channels/wordpress"),
    ("POST", "/w/{ws}/channels/email"),
    ("GET", "/w/{ws}/channels/mastodon/callback"),
    ("POST", "/w/{ws}/settings/approval"),
    ("GET", "/w/{ws}/posts/{post}/edit"),
    ("POST", "/w/{ws}/posts/{post}/edit"),
    ("POST", "/w/{ws}/posts/{post}/submit"),
    ("POST", "/w/{ws}/posts/{post}/approve"),
    ("POST", "/w/{ws}/posts/{post}/reject"),
    ("POST", "/w/{ws}/posts/{post}/comments"),
    ("POST", "/w/{ws}/posts/{post}/client-link"),
    ("GET", "/review/{token}"),
    ("POST", "/review/{token}/approve"),
    ("POST", "/review/{token}/comment"),
    ("GET", "/w/{ws}/queue"),
    ("POST", "/w/{ws}/queue/{channel}"),
    ("GET", "/w/{ws}/series"),
    ("POST", "/w/{ws}/series/{id}/text"),
    ("POST", "/w/{ws}/series/{id}/stop"),
    ("GET", "/w/{ws}/posts/import"),
    ("POST", "/w/{ws}/posts/import"),
    ("GET", "/w/{ws}/posts/import/example.csv"),
    ("GET", "/w/{ws}/calendar"),
    ("POST", "/w/{ws}/calendar/posts/{post}/move"),
    ("POST", "/w/{ws}/calendar/feed"),
    ("POST", "/w/{ws}/calendar/feed/remove"),
    ("GET", "/w/{ws}/inbox"),
    ("GET", "/w/{ws}/inbox/events"),
    ("GET", "/w/{ws}/inbox/settings"),
    ("POST", "/w/{ws}/inbox/settings"),
    ("GET", "/w/{ws}/inbox/figures"),
    ("GET", "/w/{ws}/inbox/{id}"),
    ("POST", "/w/{ws}/inbox/{id}/reply"),
    ("POST", "/w/{ws}/inbox/{id}/replies/{entry}/retry"),
    ("POST", "/w/{ws}/inbox/{id}/note"),
    ("POST", "/w/{ws}/inbox/{id}/status"),
    ("POST", "/w/{ws}/inbox/{id}/assign"),
    ("POST", "/w/{ws}/inbox/{id}/snooze"),
    ("POST", "/w/{ws}/inbox/{id}/tags"),
    ("POST", "/w/{ws}/inbox/{id}/presence"),
    ("GET", "/w/{ws}/listening"),
    ("GET", "/w/{ws}/listening/queries"),
    ("POST", "/w/{ws}/listening/queries"),
    ("POST", "/w/{ws}/listening/queries/{id}"),
    ("POST", "/w/{ws}/listening/queries/{id}/delete"),
    ("GET", "/w/{ws}/listening/sources"),
    ("POST", "/w/{ws}/listening/sources"),
    ("POST", "/w/{ws}/listening/sources/{id}/sync"),
    ("POST", "/w/{ws}/listening/sources/{id}/pause"),
    ("POST", "/w/{ws}/listening/sources/{id}/delete"),
    ("GET", "/w/{ws}/inbox/{id}/media/{item}/{n}"),
    ("GET", "/w/{ws}/contacts"),
    ("GET", "/w/{ws}/contacts/{id}"),
    ("POST", "/w/{ws}/contacts/{id}/note"),
    ("POST", "/w/{ws}/contacts/{id}/tags"),
    ("POST", "/w/{ws}/contacts/{id}/merge"),
    ("POST", "/w/{ws}/contacts/{id}/identities/{identity}/split"),
];

/// The UI router.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/setup", get(auth::setup_page).post(auth::setup_submit))
        .route(
            "/sign-in",
            get(auth::sign_in_page).post(auth::sign_in_submit),
        )
        .route(
            "/sign-in/two-factor",
            get(auth::totp_page).post(auth::totp_submit),
        )
        .route("/sign-out", post(auth::sign_out))
        .route("/language", post(auth::language))
        .route(
            "/password/forgot",
            get(auth::forgot_page).post(auth::forgot_submit),
        )
        .route(
            "/password/reset/{token}",
            get(auth::reset_page).post(auth::reset_submit),
        )
        .route(
            "/invite/{code}",
            get(auth::invite_page).post(auth::invite_submit),
        )
        .route("/workspaces", get(workspace::list).post(workspace::create))
        .route("/account", get(account::page))
        .route("/account/password", post(account::password))
        .route("/account/two-factor/start", post(account::totp_start))
        .route("/account/two-factor/confirm", post(account::totp_confirm))
        .route("/account/two-factor/disable", post(account::totp_disable))
        .route("/account/tokens", post(account::token_create))
        .route("/account/tokens/{id}/revoke", post(account::token_revoke))
        .route("/notifications", get(notifications::page))
        .route("/notifications/read", post(notifications::read))
        .route("/w/{ws}", get(workspace::overview))
        .route("/w/{ws}/area/{area}", get(workspace::area))
        .route(
            "/w/{ws}/settings",
            get(workspace::settings).post(workspace::settings_submit),
        )
        .route(
            "/w/{ws}/members",
            get(workspace::members).post(workspace::member_add),
        )
        .route(
            "/w/{ws}/members/{user_id}/role",
            post(workspace::member_role),
        )
        .route(
            "/w/{ws}/members/{user_id}/remove",
            post(workspace::member_remove),
        )
        .route("/w/{ws}/audit", get(workspace::audit))
        .route("/w/{ws}/channels", get(channels::page).post(channels::add))
        .route("/w/{ws}/queue", get(schedule::queue_page))
        .route("/w/{ws}/queue/{channel}", post(schedule::queue_save))
        .route("/w/{ws}/series", get(schedule::series_page))
        .route("/w/{ws}/series/{id}/text", post(schedule::series_text))
        .route("/w/{ws}/series/{id}/stop", post(schedule::series_stop))
        .route(
            "/w/{ws}/posts/import",
            get(import::page)
                .post(import::submit)
                .layer(axum::extract::DefaultBodyLimit::max(
                    upload::UPLOAD_FORM_LIMIT,
                )),
        )
        .route("/w/{ws}/posts/import/example.csv", get(import::example))
        .route(
            "/w/{ws}/posts",
            get(posts::page)
                .post(posts::create)
                .layer(axum::extract::DefaultBodyLimit::max(
                    upload::UPLOAD_FORM_LIMIT,
                )),
        )
        .route("/w/{ws}/media/{id}", get(posts::image))
        .route("/w/{ws}/channels/{channel}/sync", post(channels::sync))
        .route("/w/{ws}/channels/{channel}/remove", post(channels::remove))
        .route("/w/{ws}/channels/mastodon", post(channels::mastodon_start))
        .route("/w/{ws}/channels/bluesky", post(channels::bluesky))
        .route("/w/{ws}/channels/wordpress", post(channels::wordpress))
        .route("/w/{ws}/channels/email", post(channels::email))
        .route(
            "/w/{ws}/channels/mastodon/callback",
            get(channels::mastodon_callback),
        )
        .route("/w/{ws}/settings/approval", post(approval::setting))
        .route(
            "/w/{ws}/posts/{post}/edit",
            get(edit::page)
                .post(edit::save)
                .layer(axum::extract::DefaultBodyLimit::max(
                    upload::UPLOAD_FORM_LIMIT,
                )),
        )
        .route("/w/{ws}/posts/{post}/submit", post(approval::submit))
        .route("/w/{ws}/posts/{post}/approve", post(approval::approve))
        .route("/w/{ws}/posts/{post}/reject", post(approval::reject))
        .route("/w/{ws}/posts/{post}/comments", post(approval::comment))
        .route(
            "/w/{ws}/posts/{post}/client-link",
            post(approval::client_link),
        )
        .route("/review/{token}", get(approval::public_page))
        .route("/review/{token}/approve", post(approval::public_approve))
        .route("/review/{token}/comment", post(approval::public_comment))
        .route("/w/{ws}/calendar", get(calendar::page))
        .route(
            "/w/{ws}/calendar/posts/{post}/move",
            post(calendar::move_post),
        )
        .route("/w/{ws}/calendar/feed", post(calendar::feed_create))
        .route("/w/{ws}/calendar/feed/remove", post(calendar::feed_remove))
        .route("/w/{ws}/inbox", get(inbox::list))
        .route("/w/{ws}/inbox/events", get(inbox::events))
        .route(
            "/w/{ws}/inbox/settings",
            get(inbox_levels::settings).post(inbox_levels::save_settings),
        )
        .route("/w/{ws}/inbox/figures", get(inbox_levels::figures))
        .route("/w/{ws}/inbox/{id}", get(inbox::conversation))
        .route("/w/{ws}/inbox/{id}/reply", post(inbox::reply))
        .route(
            "/w/{ws}/inbox/{id}/replies/{entry}/retry",
            post(inbox::retry),
        )
        .route("/w/{ws}/inbox/{id}/note", post(inbox::note))
        .route("/w/{ws}/inbox/{id}/status", post(inbox::set_status))
        .route("/w/{ws}/inbox/{id}/assign", post(inbox::assign))
        .route("/w/{ws}/inbox/{id}/snooze", post(inbox::snooze))
        .route("/w/{ws}/inbox/{id}/tags", post(inbox::tag))
        .route("/w/{ws}/inbox/{id}/presence", post(inbox::presence))
        .route("/w/{ws}/listening", get(listening::mentions))
        .route(
            "/w/{ws}/listening/queries",
            get(listening::queries).post(listening::create_query),
        )
        .route(
            "/w/{ws}/listening/queries/{id}",
            post(listening::update_query),
        )
        .route(
            "/w/{ws}/listening/queries/{id}/delete",
            post(listening::delete_query),
        )
        .route(
            "/w/{ws}/listening/sources",
            get(listening::sources).post(listening::create_source),
        )
        .route(
            "/w/{ws}/listening/sources/{id}/sync",
            post(listening::sync_source),
        )
        .route(
            "/w/{ws}/listening/sources/{id}/pause",
            post(listening::pause_source),
        )
        .route(
            "/w/{ws}/listening/sources/{id}/delete",
            post(listening::delete_source),
        )
        .route(
            "/w/{ws}/inbox/{id}/media/{item}/{n}",
            get(inbox_media::media),
        )
        .route("/w/{ws}/contacts", get(contacts::list))
        .route("/w/{ws}/contacts/{id}", get(contacts::page))
        .route("/w/{ws}/contacts/{id}/note", post(contacts::note))
        .route("/w/{ws}/contacts/{id}/tags", post(contacts::tag))
        .route("/w/{ws}/contacts/{id}/merge", post(contacts::merge))
        .route(
            "/w/{ws}/contacts/{id}/identities/{identity}/split",
            post(contacts::split),
        )
        .route("/static/app.css", get(stylesheet))
        .route("/static/inbox.js", get(inbox_script))
        .route("/static/copy.js", get(copy_script))
        .route("/static/count.js", get(count_script))
        .route("/static/calendar.js", get(calendar_script))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state, context))
}

/// The calendar feed (`/ical/{token}.ics`): no session, no cookies.
pub fn feed_router() -> Router<AppState> {
    Router::new().route("/ical/{token}", get(calendar::feed))
}

/// Status 303 to `to`, the answer to a successful form.
pub fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response()
}
