//! Streaming listening sources: one live stream per distinct source
//! (kind and settings) across all workspaces, its posts through the shared
//! pipeline, its cursor saved after each stored batch, and its health on
//! the source rows.
//!
//! - **One stream per settings.** Every non-paused streamed source with the
//!   same kind and settings listens to the same stream; the stream's
//!   listeners are those sources. [`Streams::reconcile`] (every few
//!   seconds) starts a stream for settings that gained their first source,
//!   stops one whose sources are all gone or paused, and hands a running
//!   stream its new listeners (a source added later hears from then on).
//! - **Nothing acknowledged is dropped.** A stream delivers into a bounded
//!   channel of a few batches; the consumer stores a batch (through the
//!   pipeline), then saves the batch's cursor on every listener, and only
//!   then takes the next. While the store is slow or failing the consumer
//!   retries the same batch (with back-off), the channel fills and the
//!   stream stops reading its socket: a burst slows the reader down.
//! - **Resuming.** A stream starts from the newest cursor its sources
//!   saved (a source that was paused does not ask for what was said while
//!   it was paused); the stream itself reconnects with back-off and
//!   resumes from what it delivered.
//! - **Health.** The stream's own health (connected, polling, slowed,
//!   reconnecting, failing, posts heard in the last minute) is written to
//!   its sources' rows when it changes and at least every
//!   [`StreamsConfig::health_every`]: `ok` while connected, polling or
//!   slowed; `failing` when failing, or reconnecting for longer than
//!   [`StreamsConfig::failing_after`].
//! - **Mastodon without a stream.** A Mastodon source set to stream whose
//!   instance refuses the streaming endpoint (404, 401, 403, not an event
//!   stream) is polled by the same task instead, which tries the stream
//!   again now and then; it shows as `ok` and "polling" with the reason.

use dialoog_networks::listen::{
    Batch, Health, Running, SourceSettings, Status, StreamOptions, spawn_stream,
};
use dialoog_store::{Source, Store, StoreError, StreamHealth};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc, watch};
use tokio::task::JoinHandle;

use crate::dispatcher::now_ms;
use crate::listen_sources::{incoming_from, source_word};
use crate::listening::{Incoming, Origin, Pipeline};

/// How the stream runner paces itself.
#[derive(Debug, Clone)]
pub struct StreamsConfig {
    /// How often the sources table is read again (added, removed or paused
    /// sources) and health written.
    pub reconcile: Duration,
    /// Batches waiting between a stream and the pipeline (the bound that
    /// slows a stream down).
    pub queue: usize,
    /// How the streams pace themselves (batch size and wait, back-off).
    pub opts: StreamOptions,
    /// The first wait before storing a batch again after a storage
    /// failure (doubling up to a minute).
    pub retry: Duration,
    /// Health is written at least this often while nothing changes.
    pub health_every: Duration,
    /// Reconnecting for longer than this shows as failing.
    pub failing_after: Duration,
}

impl Default for StreamsConfig {
    fn default() -> Self {
        Self {
            reconcile: Duration::from_secs(3),
            queue: 4,
            opts: StreamOptions {
                batch_max: 500,
                batch_wait: Duration::from_millis(200),
                ..StreamOptions::default()
            },
            retry: Duration::from_secs(1),
            health_every: Duration::from_secs(30),
            failing_after: Duration::from_secs(30),
        }
    }
}

/// Which stream: the source kind and its settings (as stored).
type Key = (String, String);

/// A running stream and the task storing what it hears.
struct Live {
    running: Option<Running>,
    listeners: watch::Sender<Vec<(i64, i64)>>,
    consumer: Option<JoinHandle<()>>,
    /// What was last written to the rows, and when.
    written: Option<(StreamHealth, i64)>,
    /// Why the stream could not start (written once).
    refused: Option<String>,
}

impl Live {
    fn ended(&self) -> bool {
        self.running.as_ref().is_some_and(Running::is_finished)
            || self.consumer.as_ref().is_some_and(JoinHandle::is_finished)
    }

    fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop();
        }
        if let Some(c) = self.consumer.take() {
            c.abort();
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The streams this process runs.
pub struct Streams {
    store: Store,
    pipeline: Arc<Mutex<Pipeline>>,
    cfg: StreamsConfig,
    live: BTreeMap<Key, Live>,
}

impl std::fmt::Debug for Streams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streams")
            .field("live", &self.live.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The newest of the sources' cursors (numbers compare as numbers: a
/// Jetstream `time_us`, a Mastodon status id).
fn newest_cursor<'a>(cursors: impl Iterator<Item = &'a str>) -> String {
    cursors
        .filter(|c| !c.is_empty())
        .max_by(|a, b| (a.len(), *a).cmp(&(b.len(), *b)))
        .unwrap_or_default()
        .to_owned()
}

/// How a stream's health is recorded on its sources.
fn recorded(h: &Health, now: i64, failing_after: Duration) -> StreamHealth {
    let for_ms = now.saturating_sub(h.since_ms);
    let long = u128::try_from(for_ms).unwrap_or(0) >= failing_after.as_millis();
    let status = match h.status {
        Status::Starting => None,
        Status::Connected | Status::Polling | Status::Slowed => Some("ok"),
        Status::Reconnecting if long => Some("failing"),
        Status::Reconnecting => None,
        Status::Failing => Some("failing"),
    };
    StreamHealth {
        status,
        live_status: h.status.as_str(),
        reason: h.reason.clone().unwrap_or_default(),
        per_minute: i64::try_from(h.per_minute).unwrap_or(i64::MAX),
    }
}

impl Streams {
    /// No streams yet; [`Streams::reconcile`] starts them.
    pub fn new(store: Store, pipeline: Arc<Mutex<Pipeline>>, cfg: StreamsConfig) -> Self {
        Self {
            store,
            pipeline,
            cfg,
            live: BTreeMap::new(),
        }
    }

    /// How many streams are running.
    pub fn running(&self) -> usize {
        self.live.values().filter(|l| l.running.is_some()).count()
    }

    /// Brings the running streams in line with the sources table, then
    /// writes their health.
    pub async fn reconcile(&mut self) -> Result<(), StoreError> {
        let rows = self.store.streamed_sources().await?;
        let mut want: BTreeMap<Key, Vec<Source>> = BTreeMap::new();
        for s in rows {
            want.entry((s.kind.clone(), s.target.clone()))
                .or_default()
                .push(s);
        }
        self.live.retain(|k, _| want.contains_key(k));
        self.live.retain(|_, l| !l.ended());
        for (key, sources) in want {
            let listeners: Vec<(i64, i64)> =
                sources.iter().map(|s| (s.id, s.workspace_id)).collect();
            if let Some(live) = self.live.get_mut(&key) {
                let changed = live.listeners.send_if_modified(|l| {
                    let differ = *l != listeners;
                    if differ {
                        l.clone_from(&listeners);
                    }
                    differ
                });
                if changed {
                    // New listeners learn the health at once.
                    live.written = None;
                }
                continue;
            }
            let cursor = newest_cursor(sources.iter().map(|s| s.cursor.as_str()));
            let live = self.start(&key, listeners, cursor);
            self.live.insert(key, live);
        }
        self.report().await
    }

    fn start(&self, key: &Key, listeners: Vec<(i64, i64)>, cursor: String) -> Live {
        let (ltx, lrx) = watch::channel(listeners);
        let mut live = Live {
            running: None,
            listeners: ltx,
            consumer: None,
            written: None,
            refused: None,
        };
        let settings = match serde_json::from_str::<SourceSettings>(&key.1) {
            Ok(s) => s,
            Err(_) => {
                live.refused = Some("the source's settings cannot be read".into());
                return live;
            }
        };
        let (tx, rx) = mpsc::channel::<Batch>(self.cfg.queue.max(1));
        match spawn_stream(&settings, None, cursor, tx, self.cfg.opts.clone()) {
            Ok(Some(running)) => {
                tracing::info!(kind = %key.0, "listening stream started");
                live.running = Some(running);
                live.consumer = Some(tokio::spawn(consume(
                    self.store.clone(),
                    self.pipeline.clone(),
                    key.clone(),
                    rx,
                    lrx,
                    self.cfg.retry,
                )));
            }
            Ok(None) => live.refused = Some("this kind of source cannot stream".into()),
            Err(e) => live.refused = Some(e.to_string()),
        }
        live
    }

    /// Writes each stream's health on its sources, when it changed or was
    /// last written a while ago.
    pub async fn report(&mut self) -> Result<(), StoreError> {
        let now = now_ms();
        let every = i64::try_from(self.cfg.health_every.as_millis()).unwrap_or(i64::MAX);
        for live in self.live.values_mut() {
            let health = match (&live.running, &live.refused) {
                (Some(r), _) => recorded(&r.health.borrow(), now, self.cfg.failing_after),
                (None, Some(why)) => StreamHealth {
                    status: Some("failing"),
                    live_status: Status::Failing.as_str(),
                    reason: why.clone(),
                    per_minute: 0,
                },
                (None, None) => continue,
            };
            let due = match &live.written {
                None => true,
                Some((before, at)) => *before != health || now - *at >= every,
            };
            if !due {
                continue;
            }
            let ids: Vec<i64> = live.listeners.borrow().iter().map(|l| l.0).collect();
            self.store.record_stream_health(&ids, &health, now).await?;
            live.written = Some((health, now));
        }
        Ok(())
    }

    /// Stops every stream (batches not yet stored are heard again from
    /// the saved cursor on the next start).
    pub fn stop_all(&mut self) {
        self.live.clear();
    }
}

/// Stores what one stream hears, batch by batch, each before the next.
async fn consume(
    store: Store,
    pipeline: Arc<Mutex<Pipeline>>,
    key: Key,
    mut rx: mpsc::Receiver<Batch>,
    listeners: watch::Receiver<Vec<(i64, i64)>>,
    retry: Duration,
) {
    let (kind, target) = key;
    while let Some(batch) = rx.recv().await {
        let posts: Vec<Incoming> = batch
            .heard
            .into_iter()
            .map(|h| incoming_from(&kind, &target, h))
            .collect();
        let fetched = i64::try_from(posts.len()).unwrap_or(i64::MAX);
        let mut wait = retry;
        loop {
            let origin = Origin {
                source: source_word(&kind).into(),
                kind: kind.clone(),
                listeners: listeners.borrow().clone(),
            };
            let now = now_ms();
            let done = async {
                let (_, per_source) = pipeline
                    .lock()
                    .await
                    .process_by_source(&origin, &posts, now)
                    .await?;
                let stored: Vec<(i64, i64)> = per_source
                    .into_iter()
                    .map(|(id, n)| (id, i64::try_from(n).unwrap_or(i64::MAX)))
                    .collect();
                store
                    .record_stream_batch(&batch.cursor, fetched, &stored, now)
                    .await
            }
            .await;
            match done {
                Ok(()) => break,
                Err(e) => {
                    // The batch stays here until it is stored; meanwhile the
                    // channel fills and the stream stops reading.
                    tracing::warn!(kind = %kind, error = %e, "a heard batch could not be stored; trying again");
                    tokio::time::sleep(wait).await;
                    wait = wait.saturating_mul(2).min(Duration::from_secs(60));
                }
            }
        }
    }
}

/// Runs the streams until `stop` resolves.
pub async fn run(
    store: Store,
    pipeline: Arc<Mutex<Pipeline>>,
    cfg: StreamsConfig,
    stop: impl std::future::Future<Output = ()>,
) {
    let tick = cfg.reconcile;
    let mut streams = Streams::new(store, pipeline, cfg);
    tokio::pin!(stop);
    loop {
        if let Err(e) = streams.reconcile().await {
            tracing::warn!(error = %e, "cannot read the streamed sources");
        }
        tokio::select! {
            () = &mut stop => break,
            () = tokio::time::sleep(tick) => {}
        }
    }
    streams.stop_all();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_cursor_compares_numbers_as_numbers() {
        let c = ["", "999", "1000", "998"];
        assert_eq!(newest_cursor(c.into_iter()), "1000");
        assert_eq!(newest_cursor(["", ""].into_iter()), "");
    }

    #[test]
    fn health_as_recorded() {
        let mut h = Health {
            status: Status::Reconnecting,
            since_ms: 1_000,
            per_minute: 7,
            ..Health::default()
        };
        let d = Duration::from_secs(30);
        assert_eq!(recorded(&h, 2_000, d).status, None, "a short blip");
        assert_eq!(recorded(&h, 40_000, d).status, Some("failing"));
        h.status = Status::Polling;
        let r = recorded(&h, 2_000, d);
        assert_eq!(
            (r.status, r.live_status, r.per_minute),
            (Some("ok"), "polling", 7)
        );
    }
}
