//! Reading a form that may carry a file: `multipart/form-data` (a file
//! upload) or an ordinary urlencoded form, CSRF-checked exactly like
//! [`super::forms::UiForm`] (the `_csrf` field against the cookie).
//!
//! The multipart reader is small and bounded on purpose: at most
//! [`MAX_PARTS`] parts, the whole body at most [`MAX_BODY`] bytes; it
//! keeps each part's name and bytes and nothing else.

use axum::extract::{FromRequest, Request};
use axum::http::header;

use super::{Ctx, UiError};
use crate::error::AppError;

/// The largest body read (a 2 MB file and the form around it).
pub const MAX_BODY: usize = crate::import::MAX_BYTES + 64 * 1024;
/// The most parts one form may have.
pub const MAX_PARTS: usize = 16;

/// A CSRF-checked form whose fields are bytes (a file stays as sent).
pub struct UiUpload {
    fields: Vec<(String, Vec<u8>)>,
}

impl UiUpload {
    /// The first field called `name`.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The `boundary` of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty() && b.len() <= 200)
    })
}

/// The parts of a multipart body: (name, content). `None` when it is not
/// well formed.
pub fn parts(body: &[u8], boundary: &str) -> Option<Vec<(String, Vec<u8>)>> {
    let delim = format!("--{boundary}").into_bytes();
    let next_delim = format!("\r\n--{boundary}").into_bytes();
    let mut at = find(body, &delim, 0)? + delim.len();
    let mut out = vec![];
    loop {
        if body.get(at..at + 2) == Some(b"--") {
            return Some(out);
        }
        if body.get(at..at + 2) != Some(b"\r\n") || out.len() >= MAX_PARTS {
            return None;
        }
        at += 2;
        let head_end = find(body, b"\r\n\r\n", at)?;
        let head = std::str::from_utf8(&body[at..head_end]).ok()?;
        let name = head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            if !k.trim().eq_ignore_ascii_case("content-disposition") {
                return None;
            }
            v.split(';').find_map(|p| {
                let (k, v) = p.split_once('=')?;
                (k.trim() == "name").then(|| v.trim().trim_matches('"').to_owned())
            })
        })?;
        let start = head_end + 4;
        let end = find(body, &next_delim, start)?;
        out.push((name, body[start..end].to_vec()));
        at = end + next_delim.len();
    }
}

impl<S: Send + Sync> FromRequest<S> for UiUpload {
    type Rejection = UiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, UiError> {
        let (mut parts_, body) = req.into_parts();
        let ctx =
            <Ctx as axum::extract::FromRequestParts<S>>::from_request_parts(&mut parts_, state)
                .await?;
        let t = ctx.t;
        let content_type = parts_
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = axum::body::to_bytes(body, MAX_BODY)
            .await
            .map_err(|_| UiError(AppError::PayloadTooLarge, t))?;
        let fields = match boundary(&content_type) {
            Some(b) => parts(&bytes, &b)
                .ok_or_else(|| UiError(AppError::Malformed("multipart".into()), t))?,
            None => serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
                .map_err(|e| UiError(AppError::Malformed(e.to_string()), t))?
                .into_iter()
                .map(|(k, v)| (k, v.into_bytes()))
                .collect(),
        };
        let form = UiUpload { fields };
        let given = form.get("_csrf").unwrap_or_default();
        if given.is_empty() || given != ctx.csrf.as_bytes() {
            return Err(UiError(AppError::Csrf, t));
        }
        Ok(form)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_parts_of_a_browser_upload() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\nabc\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n\
datum;tijd\r\n1;2\r\n\r\n--XyZ--\r\n";
        let b = boundary("multipart/form-data; boundary=XyZ").unwrap();
        let p = parts(body, &b).unwrap();
        assert_eq!(p[0], ("_csrf".to_owned(), b"abc".to_vec()));
        assert_eq!(p[1].0, "file");
        assert_eq!(p[1].1, b"datum;tijd\r\n1;2\r\n");
    }

    #[test]
    fn refuses_what_is_not_well_formed() {
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        assert_eq!(boundary("multipart/form-data"), None);
        assert!(parts(b"--X\r\nno header end", "X").is_none());
        assert!(parts(b"nothing", "X").is_none());
        assert!(
            parts(
                b"--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated",
                "X"
            )
            .is_none()
        );
        let many = "--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
            .repeat(MAX_PARTS + 1)
            + "--X--";
        assert!(parts(many.as_bytes(), "X").is_none());
    }
}
