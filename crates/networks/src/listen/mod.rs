//! Listening sources (L2): clients that hear what is said in public, for the
//! listening pipeline to match, store and show.
//!
//! Two shapes:
//!
//! - **Polled** sources ([`Poller`]: RSS/Atom/JSON feeds, Mastodon hashtag
//!   and public timelines, MediaWiki recent changes) answer one
//!   [`Poller::poll`] at a time with what is new since an opaque cursor, like
//!   [`crate::Connector::fetch`]. The caller stores the items, then the
//!   cursor; a failed poll moves nothing.
//! - **Streaming** sources ([`jetstream::Jetstream`] for the Bluesky
//!   firehose, [`mastodon::MastodonStream`] for a Mastodon hashtag or public
//!   stream, falling back to polling) run as a task that delivers
//!   [`Batch`]es into a bounded channel and reports its [`Health`] through a
//!   `watch` channel. A full channel makes the reader wait, so the socket's
//!   flow control slows the sender; every batch carries the cursor after
//!   it, which the caller stores once the batch is stored and hands back on
//!   the next start.
//!
//! Everything heard is a [`Heard`]: the inbox's [`InboundItem`] plus what
//! listening needs beyond it (the author's reach and the language the
//! network says the text is in). It is a wrapper rather than more fields on
//! `InboundItem` so the inbox's constructors and storage stay as they are.

use crate::contract::{ConnectorError, Fetched, InboundItem};
use std::time::Duration;

mod health;
pub mod jetstream;
pub mod mastodon;
pub mod mediawiki;
mod settings;
mod sse;

pub use health::{Health, HealthReporter, Status};
pub use settings::{SettingsError, SourceInput, SourceKind, SourceSettings};

/// One post, edit or article heard by a listening source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    /// The item itself. Its `external_id` is stable for the source (an
    /// `at://` URI on Bluesky, the status's ActivityPub URI on Mastodon, so
    /// one status seen through two instances has one id).
    pub item: InboundItem,
    /// How many followers the author has, where the source says
    /// (Mastodon); `None` where it does not (Jetstream, feeds, wikis).
    pub reach: Option<u64>,
    /// The languages the network or the author declared for the text
    /// (Bluesky `langs`, Mastodon `language`, a feed's language), as given:
    /// a hint beside the detector, not a verdict.
    pub langs: Vec<String>,
}

impl Heard {
    /// An item with nothing known beyond it.
    pub fn plain(item: InboundItem) -> Self {
        Self {
            item,
            reach: None,
            langs: vec![],
        }
    }
}

/// A connected channel's own mention, heard as it is (no reach or
/// language beyond what the inbox has).
impl From<InboundItem> for Heard {
    fn from(item: InboundItem) -> Self {
        Heard::plain(item)
    }
}

/// What a streaming source delivers: items, and the cursor to resume from
/// once they are stored. A batch may be empty when only the cursor moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// The items, in the order they arrived, each once per run.
    pub heard: Vec<Heard>,
    /// Where to resume after this batch (pass it to the source's next
    /// start). It never passes an item that was not in this or an earlier
    /// batch.
    pub cursor: String,
}

/// The answer to one poll, like [`Fetched`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Polled {
    /// What is new (perhaps some seen before: storage keeps each once).
    pub heard: Vec<Heard>,
    /// The cursor for the next poll.
    pub cursor: String,
    /// The source has more after this cursor already: poll again soon.
    pub more: bool,
}

impl From<Fetched> for Polled {
    fn from(f: Fetched) -> Self {
        Self {
            heard: f.items.into_iter().map(Heard::plain).collect(),
            cursor: f.cursor,
            more: f.more,
        }
    }
}

/// A polled listening source, whichever kind.
#[derive(Debug, Clone)]
pub enum Poller {
    /// An RSS, Atom or JSON feed.
    Feed(crate::feed::FeedConnector),
    /// A Mastodon hashtag or public timeline.
    Mastodon(mastodon::MastodonTimeline),
    /// A wiki's recent changes.
    MediaWiki(mediawiki::RecentChanges),
}

impl Poller {
    /// The poller for a source's settings; `token` is a Mastodon access
    /// token where the instance wants one for its timelines. A Jetstream
    /// source is not polled: `None`.
    pub fn new(
        settings: &SourceSettings,
        token: Option<&str>,
    ) -> Result<Option<Self>, ConnectorError> {
        Ok(Some(match settings {
            SourceSettings::Rss { url } => Poller::Feed(crate::feed::FeedConnector::new(url)?),
            SourceSettings::MastodonTag { .. } | SourceSettings::MastodonPublic { .. } => {
                Poller::Mastodon(mastodon::MastodonTimeline::new(settings, token)?)
            }
            SourceSettings::MediaWiki { .. } => {
                Poller::MediaWiki(mediawiki::RecentChanges::new(settings)?)
            }
            SourceSettings::Jetstream { .. } => return Ok(None),
        }))
    }

    /// What is new since `cursor` (empty: start now, with only the newest
    /// page, never all history).
    pub async fn poll(&self, cursor: &str) -> Result<Polled, ConnectorError> {
        match self {
            Poller::Feed(f) => f.fetch_heard(cursor).await,
            Poller::Mastodon(m) => m.poll(cursor).await,
            Poller::MediaWiki(w) => w.poll(cursor).await,
        }
    }

    /// How long to wait between polls when all is well (and `more` was
    /// false).
    pub fn interval(&self) -> Duration {
        match self {
            Poller::Feed(_) => Duration::from_secs(15 * 60),
            Poller::Mastodon(_) => mastodon::POLL_INTERVAL,
            Poller::MediaWiki(_) => mediawiki::POLL_INTERVAL,
        }
    }
}

/// Starts the streaming source for `settings` as a task delivering into
/// `out` from `cursor` (the cursor of the last stored batch; empty: from
/// now on). `token` is a Mastodon access token where the instance wants
/// one. `None` for sources that are only polled (feeds, wikis).
pub fn spawn_stream(
    settings: &SourceSettings,
    token: Option<&str>,
    cursor: String,
    out: tokio::sync::mpsc::Sender<Batch>,
    opts: StreamOptions,
) -> Result<Option<Running>, ConnectorError> {
    Ok(Some(match settings {
        SourceSettings::Jetstream { .. } => {
            jetstream::Jetstream::new(settings, opts)?.spawn(cursor, out)
        }
        SourceSettings::MastodonTag { .. } | SourceSettings::MastodonPublic { .. } => {
            mastodon::MastodonStream::new(settings, token, opts)?.spawn(cursor, out)
        }
        SourceSettings::Rss { .. } | SourceSettings::MediaWiki { .. } => return Ok(None),
    }))
}

/// How a streaming source paces itself; the defaults suit real networks,
/// tests shorten them.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// The most items in one batch.
    pub batch_max: usize,
    /// How long a batch waits for more items before it goes.
    pub batch_wait: Duration,
    /// A connection silent this long is taken as dead and reopened.
    pub idle_timeout: Duration,
    /// The first wait before reconnecting; it doubles per failure.
    pub backoff_min: Duration,
    /// The longest wait before reconnecting.
    pub backoff_max: Duration,
    /// The largest single message or event accepted.
    pub max_message_bytes: usize,
    /// How far back a reconnect resumes, to be sure nothing was missed
    /// (what comes twice is dropped).
    pub rewind: Duration,
    /// A delivery that waits this long for room in the channel shows as
    /// "slowed" in the health.
    pub slow_after: Duration,
}

impl Default for StreamOptions {
    fn default() -> Self {
        Self {
            batch_max: 500,
            batch_wait: Duration::from_millis(250),
            idle_timeout: Duration::from_secs(90),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            max_message_bytes: 1 << 20,
            rewind: Duration::from_secs(2),
            slow_after: Duration::from_secs(1),
        }
    }
}

/// A size in words: "1 MB", "512 KB", "300 bytes".
pub(crate) fn size_words(n: usize) -> String {
    if n >= 1 << 20 {
        format!("{} MB", n >> 20)
    } else if n >= 1 << 10 {
        format!("{} KB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// Exponential back-off with a cap and a little jitter.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    next: Duration,
    min: Duration,
    max: Duration,
}

impl Backoff {
    pub(crate) fn new(opts: &StreamOptions) -> Self {
        Self {
            next: opts.backoff_min,
            min: opts.backoff_min,
            max: opts.backoff_max.max(opts.backoff_min),
        }
    }

    /// The wait before the next attempt (at least what the network asked).
    pub(crate) fn wait(&mut self, asked: Option<Duration>) -> Duration {
        let base = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        // Up to a quarter more, so many sources do not reconnect in step.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let jitter = (base / 4).saturating_mul(nanos % 1000) / 1000;
        base.saturating_add(jitter)
            .max(asked.unwrap_or_default().min(Duration::from_secs(3600)))
    }

    /// After a connection that worked: start small again.
    pub(crate) fn reset(&mut self) {
        self.next = self.min;
    }
}

/// Sends a batch, waiting for room; reports "slowed" while it waits longer
/// than `slow_after`. `false`: the receiver is gone, stop.
pub(crate) async fn deliver(
    out: &tokio::sync::mpsc::Sender<Batch>,
    batch: Batch,
    health: &HealthReporter,
    opts: &StreamOptions,
) -> bool {
    let n = batch.heard.len();
    let permit = match tokio::time::timeout(opts.slow_after, out.reserve()).await {
        Ok(Ok(p)) => p,
        Ok(Err(_)) => return false,
        Err(_) => {
            let before = health.status();
            health.set(
                Status::Slowed,
                Some("the pipeline is behind: reading paused until it catches up".into()),
            );
            let Ok(p) = out.reserve().await else {
                return false;
            };
            health.set(before, None);
            p
        }
    };
    permit.send(batch);
    health.delivered(n);
    true
}

/// A streaming source running as a task. Dropping it (or [`Running::stop`])
/// ends the task; so does dropping the batches' receiver.
#[derive(Debug)]
pub struct Running {
    /// The source's health, for the UI.
    pub health: tokio::sync::watch::Receiver<Health>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub(crate) fn new(
        health: tokio::sync::watch::Receiver<Health>,
        task: tokio::task::JoinHandle<()>,
    ) -> Self {
        Self { health, task }
    }

    /// Stops the source. Batches already in the channel stay there.
    pub fn stop(&self) {
        self.task.abort();
    }

    /// Whether the task has ended (its receiver was dropped).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Items waiting to go out as one batch.
#[derive(Debug)]
pub(crate) struct Batcher {
    heard: Vec<Heard>,
    first_at: Option<tokio::time::Instant>,
    max: usize,
    wait: Duration,
}

impl Batcher {
    pub(crate) fn new(opts: &StreamOptions) -> Self {
        Self {
            heard: Vec::new(),
            first_at: None,
            max: opts.batch_max.max(1),
            wait: opts.batch_wait,
        }
    }

    pub(crate) fn push(&mut self, h: Heard) {
        if self.heard.is_empty() {
            self.first_at = Some(tokio::time::Instant::now());
        }
        self.heard.push(h);
    }

    /// Full, or its first item has waited long enough.
    pub(crate) fn due(&self) -> bool {
        self.heard.len() >= self.max || self.first_at.is_some_and(|t| t.elapsed() >= self.wait)
    }

    /// When it must go at the latest, if it holds anything.
    pub(crate) fn deadline(&self) -> Option<tokio::time::Instant> {
        self.first_at.map(|t| t + self.wait)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.heard.is_empty()
    }

    pub(crate) fn take(&mut self) -> Vec<Heard> {
        self.first_at = None;
        std::mem::take(&mut self.heard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_up_to_its_cap_and_honours_what_was_asked() {
        let opts = StreamOptions {
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(5),
            ..StreamOptions::default()
        };
        let mut b = Backoff::new(&opts);
        let waits: Vec<u64> = (0..5).map(|_| b.wait(None).as_millis() as u64).collect();
        for (w, base) in waits.iter().zip([1000, 2000, 4000, 5000, 5000]) {
            assert!(*w >= base && *w <= base + base / 4, "{waits:?}");
        }
        assert_eq!(
            b.wait(Some(Duration::from_secs(300))),
            Duration::from_secs(300)
        );
        b.reset();
        assert!(b.wait(None) < Duration::from_secs(2));
        let mut huge = Backoff::new(&StreamOptions {
            backoff_min: Duration::MAX,
            backoff_max: Duration::MAX,
            ..StreamOptions::default()
        });
        let _ = (huge.wait(None), huge.wait(None));
    }

    #[test]
    fn sizes_in_words() {
        assert_eq!(size_words(1 << 20), "1 MB");
        assert_eq!(size_words(2048), "2 KB");
        assert_eq!(size_words(512), "512 bytes");
    }
}
