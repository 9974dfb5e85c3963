//! Reading forms: CSRF-checked bodies and messages per field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use dialoog_domain::FieldError;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

use super::{Ctx, UiError};
use crate::error::{AppError, field_message};
use crate::i18n::Tr;

/// A form body of type `T` whose `_csrf` field matched the CSRF cookie.
pub struct UiForm<T>(pub T);

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for UiForm<T> {
    type Rejection = UiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, UiError> {
        let (mut parts, body) = req.into_parts();
        let ctx =
            <Ctx as axum::extract::FromRequestParts<S>>::from_request_parts(&mut parts, state)
                .await?;
        let t = ctx.t;
        let req = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                UiError(AppError::PayloadTooLarge, t)
            } else {
                UiError(AppError::Malformed(e.body_text()), t)
            }
        })?;
        let given: CsrfField = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| UiError(AppError::Malformed(e.to_string()), t))?;
        if given.csrf.is_empty() || given.csrf != ctx.csrf {
            return Err(UiError(AppError::Csrf, t));
        }
        serde_urlencoded::from_bytes(&bytes)
            .map(UiForm)
            .map_err(|e| UiError(AppError::Malformed(e.to_string()), t))
    }
}

/// Messages to show next to form fields, and a message for the whole form.
#[derive(Default, Debug)]
pub struct FieldErrs {
    by_field: HashMap<&'static str, String>,
    /// A message about the form as a whole.
    pub form: Option<String>,
}

impl FieldErrs {
    /// The message for `field`, or "" when it is fine.
    pub fn get(&self, field: &str) -> &str {
        self.by_field.get(field).map_or("", String::as_str)
    }

    /// Whether anything is wrong.
    pub fn any(&self) -> bool {
        self.form.is_some() || !self.by_field.is_empty()
    }

    /// From a failed service call: field errors go next to their fields,
    /// anything else becomes the form message. Internal errors are not
    /// form messages: they are returned as `Err` to become an error page.
    pub fn from_error(e: AppError, t: Tr) -> Result<Self, UiError> {
        let mut out = FieldErrs::default();
        match e {
            AppError::Invalid(fields) => {
                for f in &fields {
                    out.add(f, t);
                }
            }
            e @ AppError::Internal(_) => return Err(UiError(e, t)),
            e => out.form = Some(e.message(t)),
        }
        Ok(out)
    }

    fn add(&mut self, f: &FieldError, t: Tr) {
        let msg = field_message(t, f);
        let entry = self.by_field.entry(f.field).or_default();
        // Several problems with one field (two channels too long) all show.
        if !entry.contains(&msg) {
            if !entry.is_empty() {
                entry.push(' ');
            }
            entry.push_str(&msg);
        }
    }
}
