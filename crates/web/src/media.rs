//! Images for posts: an upload is checked by its first bytes (JPEG, PNG,
//! GIF or WebP, whatever its name or declared type says) and its size
//! before it is stored; each channel's own limits are checked when a post
//! uses it.

use dialoog_domain::{Action, FieldError};
use dialoog_store::{MediaInfo, User};
use sha2::Digest;

use crate::AppState;
use crate::service::{Result, access, now_ms};

/// The largest image accepted at all (Mastodon's limit, the largest of
/// the networks'); each channel may take less.
pub const MAX_IMAGE_BYTES: usize = 16 << 20;
/// The most images on one post.
pub const MAX_IMAGES: usize = 10;
/// The longest alt text (Mastodon's limit).
pub const MAX_ALT: usize = 1500;

/// The media type of an image, from its first bytes; `None` for anything
/// that is not a JPEG, PNG, GIF or WebP image.
#[must_use]
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    dialoog_networks::remote_image::sniff(bytes)
}

/// Megabytes (of 1,000,000 bytes, rounded up) with one decimal, for
/// messages.
#[must_use]
pub fn megabytes(bytes: usize) -> String {
    let tenths = bytes.div_ceil(100_000);
    format!("{}.{} MB", tenths / 10, tenths % 10)
}

/// The error for an image larger than `max` bytes (`size`: how large,
/// when known).
#[must_use]
pub fn too_large(size: Option<usize>, max: usize) -> FieldError {
    match size {
        Some(size) => FieldError::new("file", "image_too_large")
            .with("size", megabytes(size))
            .with("max", megabytes(max)),
        None => FieldError::new("file", "image_larger_than").with("max", megabytes(max)),
    }
}

/// Checks an uploaded file and stores it in the workspace: the same bytes
/// twice are stored once.
pub async fn upload(state: &AppState, user: &User, ws: i64, bytes: &[u8]) -> Result<MediaInfo> {
    access(state, user, ws, Action::ComposePosts).await?;
    if bytes.is_empty() {
        return Err(FieldError::new("file", "image_empty").into());
    }
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(too_large(Some(bytes.len()), MAX_IMAGE_BYTES).into());
    }
    let Some(mime) = sniff(bytes) else {
        return Err(FieldError::new("file", "image_type_unknown").into());
    };
    let sha = hex::encode(sha2::Sha256::digest(bytes));
    Ok(state
        .store
        .put_media(ws, &sha, mime, bytes, Some(user.id), now_ms())
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_known_by_their_first_bytes() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff(b"GIF89a..."), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b"Dit is tekst, geen PNG"), None);
        assert_eq!(sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"\x89PN"), None);
    }

    #[test]
    fn sizes_read_as_megabytes() {
        assert_eq!(megabytes(16 << 20), "16.8 MB");
        assert_eq!(megabytes(1_000_000), "1.0 MB");
        assert_eq!(megabytes(1_000_001), "1.1 MB");
        assert_eq!(megabytes(30_000_000), "30.0 MB");
    }
}
