//! First run, signing in and out, two-factor, password reset, invitations,
//! and the language switch.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use dialoog_domain::Locale;
use serde::Deserialize;

use super::forms::{FieldErrs, UiForm};
use super::{Ctx, LANG_COOKIE, Page, SESSION_COOKIE, UiError, html, see_other, set_cookie};
use crate::AppState;
use crate::error::AppError;
use crate::security::token_hash;
use crate::service::{self, SESSION_DAYS, now_ms};

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupView {
    page: Page,
    errors: FieldErrs,
    organisation: String,
    name: String,
    email: String,
}

/// The setup form's fields.
#[derive(Deserialize, Default)]
pub struct SetupForm {
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

fn with_session(state: &AppState, token: &str, to: &str) -> Response {
    let mut resp = see_other(to);
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, SESSION_COOKIE, token, SESSION_DAYS * 86_400, "Lax"),
    );
    resp
}

pub async fn setup_page(State(s): State<AppState>, ctx: Ctx) -> Result<Response, UiError> {
    if s.store
        .is_set_up()
        .await
        .map_err(|e| UiError(e.into(), ctx.t))?
    {
        return Ok(Redirect::to("/sign-in").into_response());
    }
    let page = Page::anonymous(ctx.t, &ctx.csrf, "/setup");
    let v = SetupView {
        page,
        errors: FieldErrs::default(),
        organisation: String::new(),
        name: String::new(),
        email: String::new(),
    };
    Ok(html(&v, ctx.t))
}

pub async fn setup_submit(
    State(s): State<AppState>,
    ctx: Ctx,
    UiForm(f): UiForm<SetupForm>,
) -> Result<Response, UiError> {
    match service::setup(&s, &f.organisation, &f.name, &f.email, &f.password, ctx.t.0).await {
        Ok((user, ws)) => {
            let token = service::start_session(&s, &user)
                .await
                .map_err(|e| UiError(e, ctx.t))?;
            Ok(with_session(&s, &token, &format!("/w/{}", ws.id)))
        }
        Err(AppError::AlreadySetUp) => Ok(Redirect::to("/sign-in").into_response()),
        Err(e) => {
            let v = SetupView {
                page: Page::anonymous(ctx.t, &ctx.csrf, "/setup"),
                errors: FieldErrs::from_error(e, ctx.t)?,
                organisation: f.organisation,
                name: f.name,
                email: f.email,
            };
            Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                html(&v, ctx.t),
            )
                .into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInView {
    page: Page,
    errors: FieldErrs,
    email: String,
    notice: Option<String>,
}

/// Sign-in form fields.
#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// `?done=reset` and friends: a one-line notice after a redirect.
#[derive(Deserialize)]
pub struct Notice {
    done: Option<String>,
}

pub async fn sign_in_page(
    State(s): State<AppState>,
    ctx: Ctx,
    axum::extract::Query(q): axum::extract::Query<Notice>,
) -> Result<Response, UiError> {
    if !s
        .store
        .is_set_up()
        .await
        .map_err(|e| UiError(e.into(), ctx.t))?
    {
        return Ok(Redirect::to("/setup").into_response());
    }
    if ctx.viewer.as_ref().is_some_and(|v| !v.mfa_pending) {
        return Ok(Redirect::to("/").into_response());
    }
    let notice = match q.done.as_deref() {
        Some("reset") => Some(ctx.t.s("notice.password_reset").to_owned()),
        Some("signed_out") => Some(ctx.t.s("notice.signed_out").to_owned()),
        _ => None,
    };
    let v = SignInView {
        page: Page::anonymous(ctx.t, &ctx.csrf, "/sign-in"),
        errors: FieldErrs::default(),
        email: String::new(),
        notice,
    };
    Ok(html(&v, ctx.t))
}

pub async fn sign_in_submit(
    State(s): State<AppState>,
    ctx: Ctx,
    UiForm(f): UiForm<SignInForm>,
) -> Result<Response, UiError> {
    match service::check_password(&s, &f.email, &f.password).await {
        Ok(user) => {
            let token = service::start_session(&s, &user)
                .await
                .map_err(|e| UiError(e, ctx.t))?;
            let to = if user.totp_enabled {
                "/sign-in/two-factor"
            } else {
                "/"
            };
            Ok(with_session(&s, &token, to))
        }
        Err(e) => {
            let status = e.status();
            let v = SignInView {
                page: Page::anonymous(ctx.t, &ctx.csrf, "/sign-in"),
                errors: FieldErrs::from_error(e, ctx.t)?,
                email: f.email,
                notice: None,
            };
            Ok((status, html(&v, ctx.t)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpView {
    page: Page,
    errors: FieldErrs,
}

/// The second-factor form.
#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

pub async fn totp_page(ctx: Ctx) -> Response {
    if !ctx.viewer.as_ref().is_some_and(|v| v.mfa_pending) {
        return Redirect::to("/").into_response();
    }
    html(
        &TotpView {
            page: Page::anonymous(ctx.t, &ctx.csrf, "/sign-in/two-factor"),
            errors: FieldErrs::default(),
        },
        ctx.t,
    )
}

pub async fn totp_submit(
    State(s): State<AppState>,
    ctx: Ctx,
    UiForm(f): UiForm<CodeForm>,
) -> Result<Response, UiError> {
    let Some(v) = ctx.viewer.clone().filter(|v| v.mfa_pending) else {
        return Ok(Redirect::to("/").into_response());
    };
    let key = format!("totp:{}", v.user.id);
    let result = if let Some(wait) = s.throttle.blocked(&key) {
        Err(AppError::Throttled(wait.as_secs().div_ceil(60).max(1)))
    } else if service::check_totp(&v.user, &f.code) {
        s.throttle.clear(&key);
        Ok(())
    } else {
        s.throttle.fail(&key);
        Err(AppError::TotpInvalid)
    };
    match result {
        Ok(()) => {
            s.store
                .complete_mfa(&v.session_hash)
                .await
                .map_err(|e| UiError(e.into(), ctx.t))?;
            service::audit(
                &s,
                None,
                Some(v.user.id),
                "user.signed_in",
                serde_json::json!({"two_factor": true}),
            )
            .await;
            Ok(see_other("/"))
        }
        Err(e) => {
            let status = e.status();
            let errors = FieldErrs::from_error(e, ctx.t)?;
            Ok((
                status,
                html(
                    &TotpView {
                        page: Page::anonymous(ctx.t, &ctx.csrf, "/sign-in/two-factor"),
                        errors,
                    },
                    ctx.t,
                ),
            )
                .into_response())
        }
    }
}

/// An empty form (only the CSRF token).
#[derive(Deserialize)]
pub struct Empty {}

pub async fn sign_out(
    State(s): State<AppState>,
    ctx: Ctx,
    UiForm(_): UiForm<Empty>,
) -> Result<Response, UiError> {
    if let Some(v) = &ctx.viewer {
        s.store
            .delete_session(&v.session_hash)
            .await
            .map_err(|e| UiError(e.into(), ctx.t))?;
    }
    let mut resp = see_other("/sign-in?done=signed_out");
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&s, SESSION_COOKIE, "", 0, "Lax"),
    );
    Ok(resp)
}

/// The language switch.
#[derive(Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    next: String,
}

pub async fn language(
    State(s): State<AppState>,
    ctx: Ctx,
    UiForm(f): UiForm<LanguageForm>,
) -> Result<Response, UiError> {
    let locale = Locale::from_code(&f.lang).ok_or_else(|| {
        UiError(
            dialoog_domain::FieldError::new("lang", "invalid").into(),
            ctx.t,
        )
    })?;
    // Only local paths: never an open redirect.
    let next = if f.next.starts_with('/') && !f.next.starts_with("//") && !f.next.contains('\\') {
        f.next.as_str()
    } else {
        "/"
    };
    if let Some(v) = &ctx.viewer {
        s.store
            .set_user_locale(v.user.id, locale.code())
            .await
            .map_err(|e| UiError(e.into(), ctx.t))?;
    }
    let mut resp = see_other(next);
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&s, LANG_COOKIE, locale.code(), 365 * 86_400, "Lax"),
    );
    Ok(resp)
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotView {
    page: Page,
    errors: FieldErrs,
    sent: bool,
    mail_configured: bool,
}

/// The forgot-password form.
#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

pub async fn forgot_page(State(s): State<AppState>, ctx: Ctx) -> Response {
    let v = ForgotView {
        page: Page::anonymous(ctx.t, &ctx.csrf, "/password/forgot"),
        errors: FieldErrs::default(),
        sent: false,
        mail_configured: s.config.mailer.is_some(),
    };
    html(&v, ctx.t)
}

pub async fn forgot_submit(
    State(s): State<AppState>,
    ctx: Ctx,
    UiForm(f): UiForm<EmailForm>,
) -> Result<Response, UiError> {
    service::request_reset(&s, &f.email, ctx.t)
        .await
        .map_err(|e| UiError(e, ctx.t))?;
    let v = ForgotView {
        page: Page::anonymous(ctx.t, &ctx.csrf, "/password/forgot"),
        errors: FieldErrs::default(),
        sent: true,
        mail_configured: s.config.mailer.is_some(),
    };
    Ok(html(&v, ctx.t))
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetView {
    page: Page,
    errors: FieldErrs,
    token: String,
}

/// A new password.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

fn url_safe(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 100
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub async fn reset_page(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> Result<Response, UiError> {
    if !url_safe(&token)
        || s.store
            .password_reset_user(&token_hash(&token), now_ms())
            .await
            .map_err(|e| UiError(e.into(), ctx.t))?
            .is_none()
    {
        return Err(UiError(AppError::ResetInvalid, ctx.t));
    }
    Ok(html(
        &ResetView {
            page: Page::anonymous(ctx.t, &ctx.csrf, "/sign-in"),
            errors: FieldErrs::default(),
            token,
        },
        ctx.t,
    ))
}

pub async fn reset_submit(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    UiForm(f): UiForm<PasswordForm>,
) -> Result<Response, UiError> {
    if !url_safe(&token) {
        return Err(UiError(AppError::ResetInvalid, ctx.t));
    }
    match service::reset_password(&s, &token, &f.password).await {
        Ok(()) => Ok(see_other("/sign-in?done=reset")),
        Err(AppError::ResetInvalid) => Err(UiError(AppError::ResetInvalid, ctx.t)),
        Err(e) => {
            let errors = FieldErrs::from_error(e, ctx.t)?;
            Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                html(
                    &ResetView {
                        page: Page::anonymous(ctx.t, &ctx.csrf, "/sign-in"),
                        errors,
                        token,
                    },
                    ctx.t,
                ),
            )
                .into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "invite.html")]
struct InviteView {
    page: Page,
    errors: FieldErrs,
    code: String,
    intro: String,
    email: String,
    name: String,
}

/// Accepting an invitation.
#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

async fn invite_view(s: &AppState, ctx: &Ctx, code: &str) -> Result<InviteView, UiError> {
    let t = ctx.t;
    if !url_safe(code) {
        return Err(UiError(AppError::InviteInvalid, t));
    }
    let inv = s
        .store
        .invite(&token_hash(code))
        .await
        .map_err(|e| UiError(e.into(), t))?
        .ok_or(UiError(AppError::InviteInvalid, t))?;
    if inv.accepted_at.is_some() || inv.expires_at <= now_ms() {
        return Err(UiError(AppError::InviteInvalid, t));
    }
    let role = t.s(&format!("role.{}", inv.role));
    Ok(InviteView {
        page: Page::anonymous(t, &ctx.csrf, &format!("/invite/{code}")),
        errors: FieldErrs::default(),
        code: code.to_owned(),
        intro: t.fmt(
            "invite.intro",
            &[("workspace", &inv.workspace_name), ("role", role)],
        ),
        email: inv.email,
        name: String::new(),
    })
}

pub async fn invite_page(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> Result<Response, UiError> {
    Ok(html(&invite_view(&s, &ctx, &code).await?, ctx.t))
}

pub async fn invite_submit(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    UiForm(f): UiForm<InviteForm>,
) -> Result<Response, UiError> {
    let mut view = invite_view(&s, &ctx, &code).await?;
    match service::accept_invite(&s, &code, &f.name, &f.password, ctx.t.0).await {
        Ok((user, ws)) => {
            let token = service::start_session(&s, &user)
                .await
                .map_err(|e| UiError(e, ctx.t))?;
            Ok(with_session(&s, &token, &format!("/w/{ws}")))
        }
        Err(e @ AppError::InviteInvalid) => Err(UiError(e, ctx.t)),
        Err(e) => {
            view.errors = FieldErrs::from_error(e, ctx.t)?;
            view.name = f.name;
            Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                html(&view, ctx.t),
            )
                .into_response())
        }
    }
}
