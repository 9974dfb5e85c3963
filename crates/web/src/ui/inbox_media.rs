//! What came in with a message (pictures, videos, files), shown in the
//! conversation: pictures as thumbnails fetched through Dialoog (so the
//! browser never contacts another server and gets only checked image
//! bytes), anything else as a link when it is a web address, or else by
//! its name.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dialoog_domain::Action;
use dialoog_networks::Media;

use super::{UiError, WsCtx};
use crate::AppState;
use crate::error::AppError;
use crate::i18n::Tr;

/// A network's link, only when it is a web address (never `javascript:`
/// or `data:`).
pub fn safe_url(url: Option<&str>) -> String {
    let u = url.unwrap_or_default().trim();
    let lower = u.get(..8).unwrap_or(u).to_ascii_lowercase();
    if (lower.starts_with("https://") || lower.starts_with("http://"))
        && !u.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        u.to_owned()
    } else {
        String::new()
    }
}

/// The most attachments shown per message.
pub const MAX_SHOWN: usize = 20;

/// One attachment as the conversation shows it.
pub struct Attachment {
    /// The proxied address of a picture (empty for anything else).
    pub src: String,
    /// A link to anything else, when it is a web address.
    pub href: String,
    /// The alt text (the network's, or ours when it has none).
    pub alt: String,
    /// What the placeholder says when the picture cannot be shown.
    pub failed: String,
}

/// Whether the network calls it a picture (SVG never counts).
fn is_picture(kind: &str) -> bool {
    let k = kind.trim().to_ascii_lowercase();
    k == "image" || (k.starts_with("image/") && !k.contains("svg"))
}

/// An item's media, as stored (a JSON array); nothing when unreadable.
pub fn parse(media: &str) -> Vec<Media> {
    serde_json::from_str(media).unwrap_or_default()
}

/// The attachments of inbound item `item` of conversation `conv`.
pub fn attachments(t: Tr, ws: i64, conv: i64, item: i64, media: &str) -> Vec<Attachment> {
    parse(media)
        .into_iter()
        .take(MAX_SHOWN)
        .enumerate()
        .map(|(n, m)| {
            let web = !safe_url(Some(&m.url)).is_empty();
            let alt = m.alt.trim();
            if web && is_picture(&m.kind) {
                Attachment {
                    src: format!("/w/{ws}/inbox/{conv}/media/{item}/{n}"),
                    href: String::new(),
                    alt: if alt.is_empty() {
                        t.fmt("inbox.media.image", &[("n", &(n + 1).to_string())])
                    } else {
                        alt.to_owned()
                    },
                    failed: t.s("inbox.media.failed").to_owned(),
                }
            } else {
                let name = if alt.is_empty() { m.kind.trim() } else { alt };
                Attachment {
                    src: String::new(),
                    href: safe_url(Some(&m.url)),
                    alt: t.fmt("inbox.media.attachment", &[("name", name)]),
                    failed: String::new(),
                }
            }
        })
        .collect()
}

/// `GET /w/{ws}/inbox/{id}/media/{item}/{n}`: picture `n` of inbound item
/// `item`, fetched through Dialoog and served only when its first bytes
/// show a JPEG, PNG, GIF or WebP image; a refusal is said in words.
pub async fn media(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id, item, n)): Path<(i64, i64, i64, usize)>,
) -> Result<Response, UiError> {
    w.require(Action::ViewInbox)?;
    let t = w.me.ctx.t;
    let err = |e: AppError| UiError(e, t);
    let ws = w.m.workspace.id;
    s.store
        .conversation(ws, id)
        .await
        .map_err(|e| err(e.into()))?;
    let items = s
        .store
        .conversation_items(id)
        .await
        .map_err(|e| err(e.into()))?;
    let media = items
        .iter()
        .find(|i| i.id == item)
        .and_then(|i| parse(&i.item.media).into_iter().nth(n))
        .filter(|m| n < MAX_SHOWN && is_picture(&m.kind))
        .ok_or_else(|| err(AppError::NotFound))?;
    let answer = match s.images.get(&media.url).await {
        Ok(img) => {
            let mut r = img.bytes.clone().into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(img.content_type),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=3600"),
            );
            h.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("inline"),
            );
            r
        }
        Err(refused) => {
            let reason = t.s(&format!("inbox.media.refused.{}", refused.code()));
            let text = format!("{} {reason}", t.s("inbox.media.failed"));
            let mut r = (StatusCode::BAD_GATEWAY, text).into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
    };
    let mut answer = answer;
    let h = answer.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::{is_picture, safe_url};

    #[test]
    fn only_web_links_are_links() {
        assert_eq!(safe_url(Some("https://a.nl/x")), "https://a.nl/x");
        assert_eq!(safe_url(Some("HTTP://a.nl")), "HTTP://a.nl");
        assert_eq!(safe_url(Some("javascript:alert(1)")), "");
        assert_eq!(safe_url(Some(" JavaScript:alert(1)")), "");
        assert_eq!(safe_url(Some("data:text/html,<script>")), "");
        assert_eq!(safe_url(Some("https://a.nl/\nx")), "");
        assert_eq!(safe_url(None), "");
    }

    #[test]
    fn pictures_are_what_networks_call_images_but_svg() {
        assert!(is_picture("image"));
        assert!(is_picture("image/jpeg"));
        assert!(is_picture(" IMAGE/PNG "));
        assert!(!is_picture("image/svg+xml"));
        assert!(!is_picture("gifv"));
        assert!(!is_picture("video"));
        assert!(!is_picture("application/pdf"));
    }
}
