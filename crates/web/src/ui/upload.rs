//! Forms that carry files (`multipart/form-data`): read with a bound per
//! file, then CSRF-checked exactly like [`super::forms::UiForm`] before
//! the handler sees (or stores) anything. A form sent without files
//! (`application/x-www-form-urlencoded`) is read as an ordinary form.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;

use super::forms::UiForm;
use super::{Ctx, UiError};
use crate::error::AppError;
use crate::media::{MAX_IMAGE_BYTES, too_large};

/// The largest form with files: four images at the largest size and the
/// rest of the form.
pub const UPLOAD_FORM_LIMIT: usize = 4 * MAX_IMAGE_BYTES + (1 << 20);

/// A CSRF-checked form: its text fields in order, and its non-empty files
/// by field name.
pub struct UiUpload {
    /// The text fields.
    pub fields: Vec<(String, String)>,
    /// The files that were chosen: field name and bytes, or the error for
    /// a file larger than any image may be.
    pub files: Vec<(String, Result<Vec<u8>, dialoog_domain::FieldError>)>,
}

impl UiUpload {
    /// The first value of field `name`, or "".
    pub fn get(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequest<S> for UiUpload {
    type Rejection = UiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, UiError> {
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            let UiForm(fields) = UiForm::<Vec<(String, String)>>::from_request(req, state).await?;
            return Ok(UiUpload {
                fields,
                files: vec![],
            });
        }
        let (mut parts, body) = req.into_parts();
        let ctx =
            <Ctx as axum::extract::FromRequestParts<S>>::from_request_parts(&mut parts, state)
                .await?;
        let t = ctx.t;
        let bad = |e: axum::extract::multipart::MultipartError| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                UiError(AppError::PayloadTooLarge, t)
            } else {
                UiError(AppError::Malformed(e.body_text()), t)
            }
        };
        let mut form = Multipart::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| UiError(AppError::Malformed(e.body_text()), t))?;
        let mut out = UiUpload {
            fields: vec![],
            files: vec![],
        };
        while let Some(mut field) = form.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_owned();
            if field.file_name().is_some() {
                let mut bytes = Vec::new();
                let mut over = false;
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    if over {
                        continue;
                    }
                    if bytes.len() + chunk.len() > MAX_IMAGE_BYTES {
                        over = true;
                        bytes = Vec::new();
                    } else {
                        bytes.extend_from_slice(&chunk);
                    }
                }
                if over {
                    out.files
                        .push((name, Err(too_large(None, MAX_IMAGE_BYTES))));
                } else if !bytes.is_empty() {
                    out.files.push((name, Ok(bytes)));
                }
            } else {
                let value = field.text().await.map_err(bad)?;
                out.fields.push((name, value));
            }
        }
        let csrf = out.get("_csrf");
        if csrf.is_empty() || csrf != ctx.csrf {
            return Err(UiError(AppError::Csrf, t));
        }
        Ok(out)
    }
}
