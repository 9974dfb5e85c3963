//! The signed-in user's own settings: password, two-factor, API tokens.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::forms::{FieldErrs, UiForm};
use super::{Page, SignedIn, UiError, html, see_other};
use crate::AppState;
use crate::error::AppError;
use crate::service;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountView {
    page: Page,
    errors: FieldErrs,
    notice: Option<String>,
    totp_enabled: bool,
    enrolment: Option<(String, String)>,
    new_token: Option<String>,
    tokens: Vec<(i64, String, String, String)>,
    activity: Vec<(String, String)>,
}

/// What to show besides the page itself.
#[derive(Default)]
struct Extra {
    errors: FieldErrs,
    notice: Option<String>,
    enrolment: Option<(String, String)>,
    new_token: Option<String>,
}

async fn render(s: &AppState, me: &SignedIn, x: Extra) -> Result<Response, UiError> {
    let t = me.ctx.t;
    let page = Page::signed_in(s, me, "/account")
        .await
        .map_err(|e| UiError(e, t))?;
    let tz = s
        .store
        .memberships(me.user.id)
        .await
        .ok()
        .and_then(|m| m.first().map(|m| m.workspace.timezone.clone()))
        .unwrap_or_else(|| dialoog_domain::Timezone::DEFAULT.to_owned());
    let user = s
        .store
        .user(me.user.id)
        .await
        .map_err(|e| UiError(e.into(), t))?;
    let tokens = s
        .store
        .api_tokens(user.id)
        .await
        .map_err(|e| UiError(e.into(), t))?
        .iter()
        .map(|k| {
            (
                k.id,
                k.name.clone(),
                page.when(&k.created_at, &tz),
                k.last_used_at
                    .map(|u| page.when(&u, &tz))
                    .unwrap_or_else(|| t.s("account.token_never").to_owned()),
            )
        })
        .collect();
    let activity = s
        .store
        .audit_for_user(user.id, 10)
        .await
        .map_err(|e| UiError(e.into(), t))?
        .iter()
        .map(|e| {
            (
                page.when(&e.at, &tz),
                t.s(&format!("audit.action.{}", e.action)).to_owned(),
            )
        })
        .collect();
    let status = if x.errors.any() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let v = AccountView {
        page,
        errors: x.errors,
        notice: x.notice,
        totp_enabled: user.totp_enabled,
        enrolment: x.enrolment,
        new_token: x.new_token,
        tokens,
        activity,
    };
    Ok((status, html(&v, t)).into_response())
}

async fn failed(s: &AppState, me: &SignedIn, e: AppError) -> Result<Response, UiError> {
    let errors = FieldErrs::from_error(e, me.ctx.t)?;
    render(
        s,
        me,
        Extra {
            errors,
            ..Extra::default()
        },
    )
    .await
}

/// `?done=…`.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

pub async fn page(
    State(s): State<AppState>,
    me: SignedIn,
    axum::extract::Query(q): axum::extract::Query<Done>,
) -> Result<Response, UiError> {
    let notice = q
        .done
        .and_then(|d| me.ctx.t.get(&format!("notice.{d}")))
        .map(str::to_owned);
    render(
        &s,
        &me,
        Extra {
            notice,
            ..Extra::default()
        },
    )
    .await
}

/// Changing the password.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
}

pub async fn password(
    State(s): State<AppState>,
    me: SignedIn,
    UiForm(f): UiForm<PasswordForm>,
) -> Result<Response, UiError> {
    match service::change_password(
        &s,
        &me.user,
        &f.current_password,
        &f.password,
        &me.session_hash,
    )
    .await
    {
        Ok(()) => Ok(see_other("/account?done=password_changed")),
        Err(e) => failed(&s, &me, e).await,
    }
}

/// An empty form.
#[derive(Deserialize)]
pub struct Empty {}

/// The QR code of `text` as SVG markup of our own (paths only, no text
/// from outside), shown in the page itself: the Content Security Policy
/// allows no `data:` images.
fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color>()
                .min_dimensions(200, 200)
                .build();
            let svg = svg.find("<svg").map_or("", |i| &svg[i..]);
            svg.replacen("<svg ", "<svg role=\"img\" aria-labelledby=\"qr-alt\" ", 1)
        }
        Err(_) => String::new(),
    }
}

pub async fn totp_start(
    State(s): State<AppState>,
    me: SignedIn,
    UiForm(_): UiForm<Empty>,
) -> Result<Response, UiError> {
    let (secret, url) = service::start_totp(&s, &me.user)
        .await
        .map_err(|e| UiError(e, me.ctx.t))?;
    render(
        &s,
        &me,
        Extra {
            enrolment: Some((secret, qr_svg(&url))),
            ..Extra::default()
        },
    )
    .await
}

/// A TOTP code.
#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

pub async fn totp_confirm(
    State(s): State<AppState>,
    me: SignedIn,
    UiForm(f): UiForm<CodeForm>,
) -> Result<Response, UiError> {
    match service::confirm_totp(&s, &me.user, &f.code).await {
        Ok(()) => Ok(see_other("/account?done=two_factor_enabled")),
        Err(e) => {
            let errors = FieldErrs::from_error(e, me.ctx.t)?;
            let enrolment = me.user.totp_secret.as_ref().map(|sec| {
                let url = format!(
                    "otpauth://totp/Dialoog:{}?secret={sec}&issuer=Dialoog",
                    me.user.email
                );
                (sec.clone(), qr_svg(&url))
            });
            render(
                &s,
                &me,
                Extra {
                    errors,
                    enrolment,
                    ..Extra::default()
                },
            )
            .await
        }
    }
}

pub async fn totp_disable(
    State(s): State<AppState>,
    me: SignedIn,
    UiForm(f): UiForm<CodeForm>,
) -> Result<Response, UiError> {
    match service::disable_totp(&s, &me.user, &f.code).await {
        Ok(()) => Ok(see_other("/account?done=two_factor_disabled")),
        Err(e) => failed(&s, &me, e).await,
    }
}

/// Naming a new token.
#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
}

pub async fn token_create(
    State(s): State<AppState>,
    me: SignedIn,
    UiForm(f): UiForm<TokenForm>,
) -> Result<Response, UiError> {
    match service::issue_token(&s, &me.user, &f.name).await {
        Ok((_, secret)) => {
            render(
                &s,
                &me,
                Extra {
                    new_token: Some(secret),
                    ..Extra::default()
                },
            )
            .await
        }
        Err(e) => failed(&s, &me, e).await,
    }
}

pub async fn token_revoke(
    State(s): State<AppState>,
    me: SignedIn,
    Path(id): Path<i64>,
    UiForm(_): UiForm<Empty>,
) -> Result<Response, UiError> {
    service::revoke_token(&s, &me.user, id)
        .await
        .map_err(|e| UiError(e, me.ctx.t))?;
    Ok(see_other("/account?done=token_revoked"))
}
