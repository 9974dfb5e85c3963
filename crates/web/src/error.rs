//! One error type for the UI and the API, with stable codes.
//!
//! Each [`AppError`] has a stable `code` (part of the API contract), an HTTP
//! status, and a message in the user's language (`error.<code>` in the
//! catalogue). The API renders it as an RFC 9457 problem document
//! ([`crate::api::ApiError`]); the UI as a page or a form message.

use axum::http::StatusCode;
use dialoog_domain::FieldError;
use dialoog_store::StoreError;

use crate::i18n::Tr;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// One or more fields were not acceptable.
    #[error("validation failed")]
    Invalid(Vec<FieldError>),
    /// No or an unknown session or token.
    #[error("unauthenticated")]
    Unauthenticated,
    /// Wrong e-mail address or password.
    #[error("invalid credentials")]
    BadCredentials,
    /// Too many failed sign-ins; wait this many minutes.
    #[error("too many attempts")]
    Throttled(u64),
    /// The account has two-factor sign-in and no code was given.
    #[error("two-factor code required")]
    TotpRequired,
    /// The two-factor code was wrong.
    #[error("two-factor code invalid")]
    TotpInvalid,
    /// Signed in, but the role does not allow this.
    #[error("forbidden")]
    Forbidden,
    /// The thing does not exist or is not visible to the caller.
    #[error("not found")]
    NotFound,
    /// First-run setup was done already.
    #[error("already set up")]
    AlreadySetUp,
    /// The e-mail address has an account already.
    #[error("e-mail address in use")]
    EmailInUse,
    /// The person is a member already.
    #[error("already a member")]
    AlreadyMember,
    /// The change would leave the workspace without an owner.
    #[error("last owner")]
    LastOwner,
    /// The invitation is unknown, used or expired.
    #[error("invite invalid")]
    InviteInvalid,
    /// The password-reset link is unknown, used or expired.
    #[error("reset link invalid")]
    ResetInvalid,
    /// A form came without a valid CSRF token.
    #[error("csrf check failed")]
    Csrf,
    /// The body is not valid JSON or form data (the parser's words).
    #[error("malformed body: {0}")]
    Malformed(String),
    /// The JSON was valid but did not fit (wrong type, unknown field).
    #[error("body does not fit: {0}")]
    BodyMismatch(String),
    /// The body was not sent as JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The body is larger than allowed.
    #[error("payload too large")]
    PayloadTooLarge,
    /// This account on this network is connected in the workspace already.
    #[error("channel exists")]
    ChannelExists,
    /// The post has started going out on a channel: it can no longer change.
    #[error("post started")]
    PostStarted,
    /// An edit of a post one of whose channels has started going out (or
    /// went out): what is on a network would not change with it.
    #[error("post sent")]
    PostSent,
    /// A sign-in at a network came back expired, forged or for someone else.
    #[error("network sign-in invalid")]
    NetworkSignInInvalid,
    /// A network refused or failed: the reason in its words (and the
    /// channel's status records it).
    #[error("network: {0}")]
    Network(String),
    /// A review step that does not fit the post's state, or a client link
    /// that no longer works.
    #[error("approval: {0:?}")]
    Approval(crate::approval::ApprovalError),
    /// A conversation step that cannot be done (see the code).
    #[error("inbox: {0:?}")]
    Inbox(crate::inbox::InboxError),
    /// The disk is full: nothing of this request was stored.
    #[error("storage full")]
    StorageFull,
    /// Something broke on our side; the id is in the log.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// The stable code of the API contract.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid(_) => "validation_failed",
            AppError::Unauthenticated => "unauthenticated",
            AppError::BadCredentials => "invalid_credentials",
            AppError::Throttled(_) => "too_many_attempts",
            AppError::TotpRequired => "totp_required",
            AppError::TotpInvalid => "totp_invalid",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::AlreadySetUp => "already_set_up",
            AppError::EmailInUse => "email_in_use",
            AppError::AlreadyMember => "already_member",
            AppError::LastOwner => "last_owner",
            AppError::InviteInvalid => "invite_invalid",
            AppError::ResetInvalid => "reset_link_invalid",
            AppError::Csrf => "csrf_failed",
            AppError::Malformed(_) => "malformed_body",
            AppError::BodyMismatch(_) => "invalid_body",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::ChannelExists => "channel_exists",
            AppError::PostStarted => "post_started",
            AppError::PostSent => "post_sent",
            AppError::NetworkSignInInvalid => "network_sign_in_invalid",
            AppError::Network(_) => "network_error",
            AppError::StorageFull => "storage_full",
            AppError::Internal(_) => "internal_error",
            AppError::Approval(e) => e.code(),
            AppError::Inbox(e) => e.code(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Invalid(_) | AppError::BodyMismatch(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthenticated
            | AppError::BadCredentials
            | AppError::TotpRequired
            | AppError::TotpInvalid => StatusCode::UNAUTHORIZED,
            AppError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::AlreadySetUp
            | AppError::EmailInUse
            | AppError::AlreadyMember
            | AppError::LastOwner
            | AppError::ChannelExists
            | AppError::PostStarted
            | AppError::PostSent => StatusCode::CONFLICT,
            AppError::NetworkSignInInvalid => StatusCode::BAD_REQUEST,
            AppError::InviteInvalid | AppError::ResetInvalid => StatusCode::GONE,
            AppError::Malformed(_) => StatusCode::BAD_REQUEST,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Network(_) => StatusCode::BAD_GATEWAY,
            AppError::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Approval(e) => e.status(),
            AppError::Inbox(_) => StatusCode::CONFLICT,
        }
    }

    /// The message for a person, in their language.
    pub fn message(&self, t: Tr) -> String {
        match self {
            AppError::Throttled(min) => {
                t.fmt("error.too_many_attempts", &[("minutes", &min.to_string())])
            }
            AppError::Network(reason) => t.fmt("error.network_error", &[("reason", reason)]),
            AppError::Inbox(crate::inbox::InboxError::NeedsReconnect(reason)) => {
                t.fmt("error.channel_needs_reconnect", &[("reason", reason)])
            }
            other => t.s(&format!("error.{}", other.code())).to_owned(),
        }
    }

    /// An internal failure: logged with a fresh id, which the user sees.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        let id = crate::security::random_token()
            .chars()
            .take(10)
            .collect::<String>();
        tracing::error!(error_id = %id, error = %e, "internal error");
        AppError::Internal(id)
    }
}

/// The message for one invalid field, in the user's language.
pub fn field_message(t: Tr, e: &FieldError) -> String {
    let args: Vec<(&str, &str)> = e.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    t.fmt(&format!("error.field.{}", e.code), &args)
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Invalid(vec![e])
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Full => {
                tracing::error!("a write was refused: the disk is full");
                AppError::StorageFull
            }
            other => AppError::internal(other),
        }
    }
}

/// Collects the field errors of several parses; `Ok` only when all passed.
#[derive(Default)]
pub struct Fields(Vec<FieldError>);

impl Fields {
    /// Keeps the value or records the error.
    pub fn check<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    /// Fails with every recorded error, if any.
    pub fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self.0))
        }
    }
}
