//! Housekeeping: images that no post uses any more (the post was deleted,
//! or edited without them) are removed once a grace period has passed
//! since they were uploaded, so an image uploaded into a form that is
//! still being filled in is not lost.

use dialoog_store::Store;

/// How long an unused image is kept after its upload.
pub const UNUSED_MEDIA_GRACE_MS: i64 = 24 * 3_600_000;
/// The most images removed in one step.
const BATCH: i64 = 500;

/// Removes the images no post uses that were uploaded more than
/// [`UNUSED_MEDIA_GRACE_MS`] before `now`; returns how many went. A store
/// error is logged: the next step tries again.
pub async fn remove_unused_media(store: &Store, now: i64) -> u64 {
    let mut total = 0;
    loop {
        match store
            .delete_unused_media(now.saturating_sub(UNUSED_MEDIA_GRACE_MS), BATCH)
            .await
        {
            Ok(n) => {
                total += n;
                if n < u64::try_from(BATCH).unwrap_or(0) {
                    break;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "unused images not removed");
                break;
            }
        }
    }
    if total > 0 {
        tracing::info!(removed = total, "unused images removed");
    }
    total
}
