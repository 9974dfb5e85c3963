//! Polling every channel on its own schedule: each round claims the
//! channels that are due (a lease in the store, so several processes share
//! the work without syncing one channel twice at once) and syncs them, a
//! few at a time. A sync sets the channel's next time: its network's poll
//! interval when all is well, a growing back-off (never sooner than the
//! network's `Retry-After`) while it fails, and never by itself once it
//! needs to be reconnected.

use dialoog_store::Store;
use futures_util::StreamExt;
use std::time::Duration;

use crate::Cipher;
use crate::dispatcher::now_ms;

/// How the poller runs.
#[derive(Debug, Clone, Copy)]
pub struct PollerConfig {
    /// Time between rounds.
    pub tick: Duration,
    /// Channels claimed per round.
    pub batch: i64,
    /// Syncs running at once.
    pub concurrency: usize,
    /// How long a claim holds: a process that dies mid-sync gives its
    /// channels back after this.
    pub lease: Duration,
}

impl Default for PollerConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(5),
            batch: 16,
            concurrency: 4,
            lease: Duration::from_secs(15 * 60),
        }
    }
}

/// One round: claims the due channels and syncs them. Returns how many
/// channels it synced (good or bad).
pub async fn poll_once(store: &Store, cipher: &Cipher, config: &PollerConfig) -> usize {
    let now = now_ms();
    let lease = i64::try_from(config.lease.as_millis()).unwrap_or(i64::MAX);
    let due = match store
        .claim_due_channels(now, now.saturating_add(lease), config.batch)
        .await
    {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read which channels are due");
            return 0;
        }
    };
    let n = due.len();
    futures_util::stream::iter(due)
        .for_each_concurrent(config.concurrency.max(1), |ch| async move {
            // A failed sync has recorded its reason on the channel already.
            if let Err(e) = crate::sync_channel(store, cipher, &ch, now_ms()).await {
                tracing::debug!(channel = ch.id, error = %e, "poll failed");
            }
        })
        .await;
    n
}

/// Polls until `stop` resolves.
pub async fn run(
    store: Store,
    cipher: Cipher,
    config: PollerConfig,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        let synced = poll_once(&store, &cipher, &config).await;
        // A full batch means more may be due: go on at once.
        let wait = if synced as i64 >= config.batch {
            Duration::ZERO
        } else {
            config.tick
        };
        tokio::select! {
            () = &mut stop => break,
            () = tokio::time::sleep(wait) => {}
        }
    }
}
