//! What Dialoog does, independent of whether a form or the API asked.
//!
//! Every function checks its input and the caller's rights, changes the
//! store, and writes the audit log. Handlers only translate between HTTP and
//! these calls.

use dialoog_domain::{Action, Email, Locale, Password, PersonName, Role, Timezone, WorkspaceName};
use dialoog_store::{Membership, NewInvitee, NewOwner, StoreError, User, Workspace};
use serde_json::json;

use crate::error::{AppError, Fields};
use crate::security::{self, hash_password, random_token, token_hash, verify_password};
use crate::{AppState, i18n::Tr};

/// A result of the service layer.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Now, in UTC milliseconds.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// How long an invitation link stays valid.
pub const INVITE_DAYS: i64 = 7;
/// How long a password-reset link stays valid.
pub const RESET_MINUTES: i64 = 60;
/// How long a browser session lasts.
pub const SESSION_DAYS: i64 = 14;

/// Maps a store conflict (a unique rule broken) to `err`, anything else as usual.
/// Maps the store's conflict to `err`, other errors as usual.
pub(crate) fn on_conflict(err: AppError) -> impl FnOnce(StoreError) -> AppError {
    move |e| match e {
        StoreError::Conflict => err,
        e => e.into(),
    }
}

fn hash(password: &Password) -> Result<String> {
    hash_password(password.expose()).map_err(AppError::internal)
}

/// First run: the organisation, its owner and the first workspace.
pub async fn setup(
    state: &AppState,
    organisation: &str,
    name: &str,
    email: &str,
    password: &str,
    locale: Locale,
) -> Result<(User, Workspace)> {
    if state.store.is_set_up().await? {
        return Err(AppError::AlreadySetUp);
    }
    let mut f = Fields::default();
    let org = f.check(WorkspaceName::parse(organisation, "organisation"));
    let name = f.check(PersonName::parse(name));
    let email = f.check(Email::parse(email));
    let password = f.check(Password::parse(
        password,
        &[email_str(&email), organisation],
    ));
    f.finish()?;
    let (Some(org), Some(name), Some(email), Some(password)) = (org, name, email, password) else {
        return Err(AppError::internal("setup fields"));
    };
    let owner = NewOwner {
        organisation: org.as_str(),
        name: name.as_str(),
        email: email.as_str(),
        password_hash: &hash(&password)?,
        locale: locale.code(),
        timezone: Timezone::DEFAULT,
    };
    let (user, ws) = state
        .store
        .setup(&owner, now_ms())
        .await
        .map_err(on_conflict(AppError::AlreadySetUp))?;
    audit(
        state,
        Some(ws.id),
        Some(user.id),
        "setup.completed",
        json!({"organisation": org.as_str()}),
    )
    .await;
    Ok((user, ws))
}

fn email_str(e: &Option<Email>) -> &str {
    e.as_ref().map_or("", Email::as_str)
}

/// Records an audit entry; a failure to record is logged, not fatal.
pub async fn audit(
    state: &AppState,
    ws: Option<i64>,
    user: Option<i64>,
    action: &str,
    detail: serde_json::Value,
) {
    if let Err(e) = state.store.audit(ws, user, action, &detail, now_ms()).await {
        tracing::error!(error = %e, action, "audit log write failed");
    }
}

/// Checks an e-mail address and password, with throttling. Returns the user
/// (whose second factor, if any, is still to be checked by the caller).
pub async fn check_password(state: &AppState, email: &str, password: &str) -> Result<User> {
    let key = email.trim().to_lowercase();
    if let Some(wait) = state.throttle.blocked(&key) {
        return Err(AppError::Throttled(wait.as_secs().div_ceil(60).max(1)));
    }
    let user = match Email::parse(email) {
        Ok(e) => state.store.user_by_email(e.as_str()).await?,
        Err(_) => None,
    };
    let ok = match &user {
        Some(u) => verify_password(password, &u.password_hash),
        None => {
            let _ = verify_password(password, security::dummy_hash());
            false
        }
    };
    match user {
        Some(u) if ok => {
            state.throttle.clear(&key);
            Ok(u)
        }
        _ => {
            state.throttle.fail(&key);
            Err(AppError::BadCredentials)
        }
    }
}

/// Checks a TOTP code against the user's secret.
pub fn check_totp(user: &User, code: &str) -> bool {
    let Some(secret) = &user.totp_secret else {
        return false;
    };
    totp_for(secret, &user.email).is_some_and(|t| t.check_current(code.trim()).unwrap_or(false))
}

fn totp_for(secret_b32: &str, account: &str) -> Option<totp_rs::TOTP> {
    let bytes = totp_rs::Secret::Encoded(secret_b32.to_owned())
        .to_bytes()
        .ok()?;
    totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some("Dialoog".to_owned()),
        account.to_owned(),
    )
    .ok()
}

/// Starts two-factor enrolment: a new secret, not yet in force. Returns the
/// secret and the `otpauth://` URL for authenticator apps.
pub async fn start_totp(state: &AppState, user: &User) -> Result<(String, String)> {
    let mut raw = [0u8; 20];
    getrandom::fill(&mut raw).map_err(AppError::internal)?;
    let secret = totp_rs::Secret::Raw(raw.to_vec()).to_encoded().to_string();
    let url = totp_for(&secret, &user.email)
        .map(|t| t.get_url())
        .ok_or_else(|| AppError::internal("totp"))?;
    state.store.set_totp(user.id, Some(&secret), false).await?;
    Ok((secret, url))
}

/// Puts two-factor sign-in in force once the user proves their app has it.
pub async fn confirm_totp(state: &AppState, user: &User, code: &str) -> Result<()> {
    if !check_totp(user, code) {
        return Err(AppError::TotpInvalid);
    }
    state
        .store
        .set_totp(user.id, user.totp_secret.as_deref(), true)
        .await?;
    audit(state, None, Some(user.id), "two_factor.enabled", json!({})).await;
    Ok(())
}

/// Turns two-factor sign-in off (needs a current code).
pub async fn disable_totp(state: &AppState, user: &User, code: &str) -> Result<()> {
    if !check_totp(user, code) {
        return Err(AppError::TotpInvalid);
    }
    state.store.set_totp(user.id, None, false).await?;
    audit(state, None, Some(user.id), "two_factor.disabled", json!({})).await;
    Ok(())
}

/// Starts a browser session; returns the cookie value.
pub async fn start_session(state: &AppState, user: &User) -> Result<String> {
    let token = random_token();
    let now = now_ms();
    state
        .store
        .create_session(
            &token_hash(&token),
            user.id,
            user.totp_enabled,
            now,
            now + SESSION_DAYS * 86_400_000,
        )
        .await?;
    if !user.totp_enabled {
        audit(state, None, Some(user.id), "user.signed_in", json!({})).await;
    }
    Ok(token)
}

/// Issues a personal API token; returns the secret (shown once).
pub async fn issue_token(
    state: &AppState,
    user: &User,
    name: &str,
) -> Result<(dialoog_store::ApiToken, String)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(dialoog_domain::FieldError::new(
            "name",
            if name.is_empty() {
                "required"
            } else {
                "too_long"
            },
        )
        .into());
    }
    let secret = format!("dlg_{}", random_token());
    let t = state
        .store
        .create_api_token(user.id, name, &token_hash(&secret), now_ms())
        .await?;
    audit(
        state,
        None,
        Some(user.id),
        "token.created",
        json!({"name": name}),
    )
    .await;
    Ok((t, secret))
}

/// Revokes one of the user's own tokens.
pub async fn revoke_token(state: &AppState, user: &User, id: i64) -> Result<()> {
    let t = state.store.revoke_api_token(user.id, id).await?;
    audit(
        state,
        None,
        Some(user.id),
        "token.revoked",
        json!({"name": t.name}),
    )
    .await;
    Ok(())
}

/// The user's membership if they may do `action` there. Not a member:
/// [`AppError::NotFound`] (another workspace's existence is not revealed).
pub async fn access(state: &AppState, user: &User, ws: i64, action: Action) -> Result<Membership> {
    let m = state
        .store
        .membership(ws, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    if m.role.can(action) {
        Ok(m)
    } else {
        Err(AppError::Forbidden)
    }
}

/// Creates a workspace owned by `user` (organisation administrators only).
pub async fn create_workspace(
    state: &AppState,
    user: &User,
    name: &str,
    timezone: &str,
) -> Result<Workspace> {
    if !user.is_admin {
        return Err(AppError::Forbidden);
    }
    let mut f = Fields::default();
    let name = f.check(WorkspaceName::parse(name, "name"));
    let tz = f.check(Timezone::parse(timezone));
    f.finish()?;
    let (Some(name), Some(tz)) = (name, tz) else {
        return Err(AppError::internal("fields"));
    };
    let ws = state
        .store
        .create_workspace(name.as_str(), tz.as_str(), user.id, now_ms())
        .await?;
    audit(
        state,
        Some(ws.id),
        Some(user.id),
        "workspace.created",
        json!({"name": ws.name, "timezone": ws.timezone}),
    )
    .await;
    Ok(ws)
}

/// Renames a workspace and/or changes its timezone.
pub async fn update_workspace(
    state: &AppState,
    user: &User,
    ws: i64,
    name: Option<&str>,
    timezone: Option<&str>,
) -> Result<Workspace> {
    let m = access(state, user, ws, Action::EditSettings).await?;
    let mut f = Fields::default();
    let name = f.check(WorkspaceName::parse(
        name.unwrap_or(&m.workspace.name),
        "name",
    ));
    let tz = f.check(Timezone::parse(timezone.unwrap_or(&m.workspace.timezone)));
    f.finish()?;
    let (Some(name), Some(tz)) = (name, tz) else {
        return Err(AppError::internal("fields"));
    };
    let updated = state
        .store
        .update_workspace(ws, name.as_str(), tz.as_str())
        .await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "workspace.updated",
        json!({"name": [m.workspace.name, updated.name], "timezone": [m.workspace.timezone, updated.timezone]}),
    )
    .await;
    Ok(updated)
}

/// What adding a member did.
#[derive(Debug)]
pub enum Added {
    /// The address had an account: they are a member now.
    Member(User, Role),
    /// A new person: an invitation link (also e-mailed when SMTP is set).
    Invited(String),
}

fn check_grant(m: &Membership, role: Role) -> Result<()> {
    if role == Role::Owner && !m.role.can(Action::GrantOwner) {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

/// Adds a person to a workspace: directly when they have an account, else by
/// an invitation link.
pub async fn add_member(
    state: &AppState,
    user: &User,
    ws: i64,
    email: &str,
    role: &str,
    t: Tr,
) -> Result<Added> {
    let m = access(state, user, ws, Action::ManageMembers).await?;
    let mut f = Fields::default();
    let email = f.check(Email::parse(email));
    let role = f.check(Role::parse(role));
    f.finish()?;
    let (Some(email), Some(role)) = (email, role) else {
        return Err(AppError::internal("fields"));
    };
    check_grant(&m, role)?;
    let now = now_ms();
    if let Some(existing) = state.store.user_by_email(email.as_str()).await? {
        state
            .store
            .add_member(ws, existing.id, role, now)
            .await
            .map_err(on_conflict(AppError::AlreadyMember))?;
        audit(
            state,
            Some(ws),
            Some(user.id),
            "member.added",
            json!({"email": existing.email, "role": role}),
        )
        .await;
        return Ok(Added::Member(existing, role));
    }
    let code = random_token();
    state
        .store
        .create_invite(
            &token_hash(&code),
            ws,
            email.as_str(),
            role,
            user.id,
            now,
            now + INVITE_DAYS * 86_400_000,
        )
        .await?;
    let url = format!("{}/invite/{code}", state.config.public_url);
    audit(
        state,
        Some(ws),
        Some(user.id),
        "member.invited",
        json!({"email": email.as_str(), "role": role}),
    )
    .await;
    if let Some(mailer) = &state.config.mailer {
        let body = t.fmt(
            "mail.invite.body",
            &[
                ("name", &user.name),
                ("workspace", &m.workspace.name),
                ("url", &url),
            ],
        );
        if let Err(e) = mailer
            .send(email.as_str(), t.s("mail.invite.subject"), body)
            .await
        {
            tracing::warn!(error = %e, "invite e-mail not sent; the link is shown instead");
        }
    }
    Ok(Added::Invited(url))
}

/// Changes a member's role.
pub async fn change_role(
    state: &AppState,
    user: &User,
    ws: i64,
    member: i64,
    role: &str,
) -> Result<()> {
    let m = access(state, user, ws, Action::ManageMembers).await?;
    let role = Role::parse(role)?;
    let target = state
        .store
        .membership(ws, member)
        .await?
        .ok_or(AppError::NotFound)?;
    check_grant(&m, role)?;
    check_grant(&m, target.role)?;
    state
        .store
        .set_member_role(ws, member, role)
        .await
        .map_err(on_conflict(AppError::LastOwner))?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "member.role_changed",
        json!({"user_id": member, "from": target.role, "to": role}),
    )
    .await;
    Ok(())
}

/// Removes a member from a workspace.
pub async fn remove_member(state: &AppState, user: &User, ws: i64, member: i64) -> Result<()> {
    let m = access(state, user, ws, Action::ManageMembers).await?;
    let target = state
        .store
        .membership(ws, member)
        .await?
        .ok_or(AppError::NotFound)?;
    check_grant(&m, target.role)?;
    state
        .store
        .remove_member(ws, member)
        .await
        .map_err(on_conflict(AppError::LastOwner))?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "member.removed",
        json!({"user_id": member}),
    )
    .await;
    Ok(())
}

/// Accepts an invitation: creates the account and the membership.
pub async fn accept_invite(
    state: &AppState,
    code: &str,
    name: &str,
    password: &str,
    locale: Locale,
) -> Result<(User, i64)> {
    let hash_code = token_hash(code);
    let now = now_ms();
    let invite = state
        .store
        .invite(&hash_code)
        .await?
        .ok_or(AppError::InviteInvalid)?;
    if invite.accepted_at.is_some() || invite.expires_at <= now {
        return Err(AppError::InviteInvalid);
    }
    if state.store.user_by_email(&invite.email).await?.is_some() {
        return Err(AppError::EmailInUse);
    }
    let mut f = Fields::default();
    let name = f.check(PersonName::parse(name));
    let password = f.check(Password::parse(password, &[&invite.email]));
    f.finish()?;
    let (Some(name), Some(password)) = (name, password) else {
        return Err(AppError::internal("fields"));
    };
    let who = NewInvitee {
        name: name.as_str(),
        password_hash: &hash(&password)?,
        locale: locale.code(),
    };
    let (user, ws) = state
        .store
        .accept_invite(&hash_code, &who, now)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::InviteInvalid,
            StoreError::Conflict => AppError::EmailInUse,
            e => e.into(),
        })?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "invite.accepted",
        json!({"email": user.email, "role": invite.role}),
    )
    .await;
    Ok((user, ws))
}

/// A password-reset link for a user (for the admin command, or to e-mail).
pub async fn reset_link(state: &AppState, user: &User) -> Result<String> {
    let token = random_token();
    let now = now_ms();
    state
        .store
        .create_password_reset(
            &token_hash(&token),
            user.id,
            now,
            now + RESET_MINUTES * 60_000,
        )
        .await?;
    Ok(format!(
        "{}/password/reset/{token}",
        state.config.public_url
    ))
}

/// Handles "forgot password": e-mails a link when the address is known and
/// SMTP is configured. Says nothing about whether the address exists.
pub async fn request_reset(state: &AppState, email: &str, t: Tr) -> Result<()> {
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    let (Some(user), Some(mailer)) = (
        state.store.user_by_email(email.as_str()).await?,
        &state.config.mailer,
    ) else {
        return Ok(());
    };
    let url = reset_link(state, &user).await?;
    let body = t.fmt(
        "mail.reset.body",
        &[
            ("name", &user.name),
            ("url", &url),
            ("minutes", &RESET_MINUTES.to_string()),
        ],
    );
    if let Err(e) = mailer
        .send(&user.email, t.s("mail.reset.subject"), body)
        .await
    {
        tracing::warn!(error = %e, "password-reset e-mail not sent");
    }
    Ok(())
}

/// Sets a new password through a reset link (once), ending all sessions.
pub async fn reset_password(state: &AppState, token: &str, password: &str) -> Result<()> {
    let th = token_hash(token);
    let user_id = state
        .store
        .password_reset_user(&th, now_ms())
        .await?
        .ok_or(AppError::ResetInvalid)?;
    let user = state.store.user(user_id).await?;
    let password = Password::parse(password, &[&user.email, &user.name])?;
    state
        .store
        .use_password_reset(&th, &hash(&password)?, now_ms())
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::ResetInvalid,
            e => e.into(),
        })?;
    audit(state, None, Some(user.id), "password.reset", json!({})).await;
    Ok(())
}

/// Changes the password of a signed-in user, who must give the current one.
pub async fn change_password(
    state: &AppState,
    user: &User,
    current: &str,
    new: &str,
    session_hash: &str,
) -> Result<()> {
    if !verify_password(current, &user.password_hash) {
        return Err(dialoog_domain::FieldError::new("current_password", "password_wrong").into());
    }
    let password = Password::parse(new, &[&user.email, &user.name])?;
    state
        .store
        .set_password(user.id, &hash(&password)?, Some(session_hash))
        .await?;
    audit(state, None, Some(user.id), "password.changed", json!({})).await;
    Ok(())
}
