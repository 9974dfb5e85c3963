//! Keeping the search index of mentions up to date, and retention.
//!
//! The index is derived data and pulls: each step reads the originals the
//! store holds above the highest id the index committed, adds them and
//! commits with that id (at most one commit per step, steps a second
//! apart). The same step catches up after a start, so a new, lost or
//! damaged index fills itself from the store. A failed write (a full disk)
//! loses nothing: the mentions are in the store, the index's recorded id
//! did not move, and the next step adds them again.
//!
//! Retention removes each workspace's mentions older than its setting, in
//! short batches, from the store first and then from the index; a removal
//! from the index that fails is done again at the next round (it is by age,
//! not by id), and meanwhile a search drops ids the store no longer has.

use dialoog_search::{IndexDoc, MentionSearch, SearchError};
use dialoog_store::{BackendKind, IndexRow, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// Mentions read from the store per step of catching up.
const FEED_BATCH: i64 = 5_000;
/// Mentions removed per transaction by retention.
const REMOVE_BATCH: i64 = 1_000;
/// A day in ms.
pub const DAY_MS: i64 = 86_400_000;
/// On PostgreSQL, how long a stored mention waits before it is indexed (a
/// transaction still open may hold lower ids than one already committed).
const SETTLE_MS: i64 = 3_000;

/// What can go wrong while indexing.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The index failed.
    #[error(transparent)]
    Search(#[from] SearchError),
    /// The blocking task was lost.
    #[error("index task: {0}")]
    Task(String),
}

fn doc((r, query_ids): (IndexRow, Vec<i64>)) -> IndexDoc {
    let author = match r.author_handle {
        Some(h) => format!("{} {h}", r.author_name),
        None => r.author_name,
    };
    IndexDoc {
        id: r.id,
        workspace_id: r.workspace_id,
        text: r.text,
        author,
        lang: r.lang,
        sentiment: r.sentiment,
        source_kind: r.source_kind,
        query_ids,
        published_at: r.published_at,
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SearchError> + Send + 'static,
) -> Result<T, IndexError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| IndexError::Task(e.to_string()))?
        .map_err(IndexError::from)
}

/// Adds to the index what the store holds above its last committed id;
/// returns how many mentions were added.
pub async fn catch_up(
    store: &Store,
    index: &Arc<dyn MentionSearch>,
    now: i64,
) -> Result<u64, IndexError> {
    let settled = (store.kind() == BackendKind::Postgres).then(|| now - SETTLE_MS);
    let mut total = 0u64;
    loop {
        let rows = store
            .mentions_to_index(index.last_id(), settled, FEED_BATCH)
            .await?;
        let Some(last) = rows.last().map(|r| r.0.id) else {
            break;
        };
        let n = rows.len();
        let docs: Vec<IndexDoc> = rows.into_iter().map(doc).collect();
        let ix = Arc::clone(index);
        blocking(move || {
            ix.add(&docs)?;
            ix.commit(last)
        })
        .await?;
        total += n as u64;
        if n < FEED_BATCH as usize {
            break;
        }
    }
    Ok(total)
}

/// Keeps the index caught up, a step every `tick`, until `stop`.
pub async fn run(
    store: Store,
    index: Arc<dyn MentionSearch>,
    tick: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    let mut failing = false;
    loop {
        match catch_up(&store, &index, crate::dispatcher::now_ms()).await {
            Ok(_) if failing => {
                tracing::info!("search index writing again");
                failing = false;
            }
            Ok(_) => {}
            Err(e) if !failing => {
                tracing::error!(error = %e, "search index behind; it catches up once writing works");
                failing = true;
            }
            Err(_) => {}
        }
        tokio::select! {
            () = &mut stop => break,
            () = tokio::time::sleep(tick) => {}
        }
    }
}

/// Removes every workspace's mentions older than it keeps them, from the
/// store and (when there is one) the index; returns how many mentions the
/// store removed.
pub async fn apply_retention(
    store: &Store,
    index: Option<&Arc<dyn MentionSearch>>,
    now: i64,
) -> Result<u64, IndexError> {
    let mut total = 0;
    for (ws, days) in store.listening_retention().await? {
        let cutoff = now.saturating_sub(days.saturating_mul(DAY_MS));
        loop {
            let n = store.remove_old_mentions(ws, cutoff, REMOVE_BATCH).await?;
            total += n;
            if n < REMOVE_BATCH as u64 {
                break;
            }
        }
        if let Some(ix) = index {
            let ix = Arc::clone(ix);
            blocking(move || ix.remove_older(ws, cutoff)).await?;
        }
    }
    if let Some(ix) = index {
        let ix = Arc::clone(ix);
        blocking(move || {
            let last = ix.last_id();
            ix.commit(last)
        })
        .await?;
    }
    if total > 0 {
        tracing::info!(removed = total, "old mentions removed");
    }
    Ok(total)
}

/// Applies retention every `every`, until `stop`.
pub async fn run_retention(
    store: Store,
    index: Option<Arc<dyn MentionSearch>>,
    every: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        if let Err(e) = apply_retention(&store, index.as_ref(), crate::dispatcher::now_ms()).await {
            tracing::error!(error = %e, "old mentions not removed; trying again later");
        }
        tokio::select! {
            () = &mut stop => break,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// How long retention waits between rounds.
pub const RETENTION_EVERY: Duration = Duration::from_secs(3_600);
