//! Images for posts, kept in the database so that every process (the
//! dispatcher on another machine among them) reads the same bytes; and the
//! images of each post, in order, with their alt text.

use crate::{Result, Store, on};

/// An uploaded image, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MediaInfo {
    /// Stable id.
    pub id: i64,
    /// The workspace it belongs to.
    pub workspace_id: i64,
    /// Its media type, as found from its first bytes (`image/png`, …).
    pub mime: String,
    /// Its size in bytes.
    pub size: i64,
    /// SHA-256 of the bytes, in hex.
    pub sha256: String,
    /// When it was last uploaded (the same bytes uploaded again count
    /// as new: the cleaner's grace period starts again).
    pub created_at: i64,
}

/// An image of a post, in its place, with its alt text.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PostImage {
    /// The post.
    pub post_id: i64,
    /// Its place among the post's images (from 0).
    pub position: i64,
    /// The image.
    pub media_id: i64,
    /// Its alt text (may be empty: the composer points that out).
    pub alt: String,
    /// Its media type.
    pub mime: String,
    /// Its size in bytes.
    pub size: i64,
}

/// What a post carries besides its text and targets.
#[derive(Debug, Clone, Default)]
pub struct PostExtras {
    /// The campaign its links are tagged with (empty: none).
    pub campaign: String,
    /// Its images: a media id of the same workspace and its alt text, in
    /// order. An id that is not the workspace's refuses the whole post
    /// ([`crate::StoreError::NotFound`]).
    pub media: Vec<(i64, String)>,
}

const INFO_COLS: &str = "id, workspace_id, mime, size, sha256, created_at";

impl Store {
    /// Stores an image of a workspace, or finds the same bytes stored
    /// already (by SHA-256), and returns it.
    pub async fn put_media(
        &self,
        workspace_id: i64,
        sha256: &str,
        mime: &str,
        bytes: &[u8],
        uploaded_by: Option<i64>,
        now: i64,
    ) -> Result<MediaInfo> {
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let sql = format!(
            "INSERT INTO media (workspace_id, sha256, mime, size, bytes, uploaded_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (workspace_id, sha256) DO UPDATE SET created_at = excluded.created_at \
             RETURNING {INFO_COLS}"
        );
        Ok(on!(self, p => sqlx::query_as(&sql)
            .bind(workspace_id).bind(sha256).bind(mime).bind(size).bind(bytes).bind(uploaded_by).bind(now)
            .fetch_one(p).await)?)
    }

    /// The workspace's images with these ids (unknown ids are left out).
    pub async fn media_infos(&self, workspace_id: i64, ids: &[i64]) -> Result<Vec<MediaInfo>> {
        let rows: Vec<MediaInfo> = self
            .rows_by_id(&format!("SELECT {INFO_COLS} FROM media WHERE id"), ids)
            .await?;
        Ok(rows
            .into_iter()
            .filter(|m| m.workspace_id == workspace_id)
            .collect())
    }

    /// One image of a workspace with its bytes ([`crate::StoreError::NotFound`]
    /// when it is not the workspace's).
    pub async fn media_bytes(&self, workspace_id: i64, id: i64) -> Result<(MediaInfo, Vec<u8>)> {
        let sql = format!("SELECT {INFO_COLS} FROM media WHERE workspace_id = $1 AND id = $2");
        let info: MediaInfo =
            on!(self, p => sqlx::query_as(&sql).bind(workspace_id).bind(id).fetch_one(p).await)?;
        let (bytes,): (Vec<u8>,) = on!(self, p => sqlx::query_as(
            "SELECT bytes FROM media WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id).bind(id).fetch_one(p).await)?;
        Ok((info, bytes))
    }

    /// The images of these posts, each post's in order.
    pub async fn post_images(&self, post_ids: &[i64]) -> Result<Vec<PostImage>> {
        let mut rows: Vec<PostImage> = self
            .rows_by_id(
                "SELECT pm.post_id, pm.position, pm.media_id, pm.alt, m.mime, m.size \
                 FROM post_media pm JOIN media m ON m.id = pm.media_id WHERE pm.post_id",
                post_ids,
            )
            .await?;
        rows.sort_by_key(|r| (r.post_id, r.position));
        Ok(rows)
    }

    /// A post's images with their bytes, in order, as the dispatcher sends
    /// them: (media type, bytes, alt text).
    pub async fn post_image_bytes(&self, post_id: i64) -> Result<Vec<(String, Vec<u8>, String)>> {
        Ok(on!(self, p => sqlx::query_as(
            "SELECT m.mime, m.bytes, pm.alt FROM post_media pm JOIN media m ON m.id = pm.media_id \
             WHERE pm.post_id = $1 ORDER BY pm.position")
            .bind(post_id).fetch_all(p).await)?)
    }

    /// Deletes up to `limit` images that no post uses and that were
    /// uploaded before `uploaded_before` (UTC ms); returns how many went.
    /// An image a post is being made with at the same moment is either
    /// kept (the post's row came first) or the post is refused, never
    /// stored without its image.
    pub async fn delete_unused_media(&self, uploaded_before: i64, limit: i64) -> Result<u64> {
        Ok(on!(self, p => sqlx::query(
            "DELETE FROM media WHERE id IN (SELECT m.id FROM media m WHERE m.created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM post_media pm WHERE pm.media_id = m.id) ORDER BY m.id LIMIT $2) \
             AND NOT EXISTS (SELECT 1 FROM post_media pm WHERE pm.media_id = media.id)")
            .bind(uploaded_before).bind(limit).execute(p).await.map(|r| r.rows_affected()))?)
    }
}
