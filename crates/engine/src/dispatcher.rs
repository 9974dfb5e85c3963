//! The dispatcher: publishes every (post, channel) target exactly once, on
//! time, or says why not.
//!
//! Each round claims due targets with a lease (several processes share the
//! work; a process that dies gives its targets back when the lease runs
//! out) and publishes them a few at a time. Before the network call the
//! target records that a call starts; whoever takes over an expired lease
//! and finds that mark does not know whether the network got the post. It
//! then sends again only where the network honours the idempotency key
//! (and only within the time the network remembers it); elsewhere the
//! target becomes `unconfirmed` and a person is asked to look.

use dialoog_networks::{Connector, ConnectorError, Image, Outgoing};
use dialoog_store::{Claim, Outcome, Store};
use futures_util::StreamExt;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

use crate::Cipher;

/// How the dispatcher runs.
#[derive(Debug, Clone, Copy)]
pub struct DispatcherConfig {
    /// Time between rounds when nothing was due.
    pub tick: Duration,
    /// Targets claimed per round.
    pub batch: i64,
    /// Publishes running at once.
    pub concurrency: usize,
    /// How long a claim holds; longer than any network call takes.
    pub lease: Duration,
    /// Attempts before a target that keeps failing for now fails for good.
    pub max_attempts: i64,
    /// How long after a first call the network still recognises its
    /// idempotency key (Mastodon keeps it an hour): past this, a lost
    /// answer is not sent again but asked about.
    pub resend_window: Duration,
    /// How long one request to a network may take before its answer counts
    /// as lost (`None`: the connectors' own, 30 seconds).
    pub network_timeout: Option<Duration>,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_millis(250),
            batch: 64,
            concurrency: 16,
            lease: Duration::from_secs(5 * 60),
            max_attempts: 8,
            resend_window: Duration::from_secs(50 * 60),
            network_timeout: None,
        }
    }
}

/// The time now (UTC ms).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A round's clock: the instant the round started at, moving on with real
/// time (tests start rounds in the future to step past leases and waits).
#[derive(Debug, Clone, Copy)]
struct Clock {
    start: i64,
    since: std::time::Instant,
}

impl Clock {
    fn now(&self) -> i64 {
        self.start.saturating_add(ms(self.since.elapsed()))
    }
}

/// A duration in whole milliseconds (saturating).
pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The wait before attempt `attempt + 1` after a temporary failure: 30
/// seconds, doubling, at most 30 minutes, never sooner than the network
/// asked.
pub fn retry_delay(attempt: i64, retry_after: Option<Duration>) -> Duration {
    let exp = u32::try_from(attempt.clamp(1, 12) - 1).unwrap_or(0);
    let base = Duration::from_secs(30).saturating_mul(1 << exp);
    base.min(Duration::from_secs(30 * 60))
        .max(retry_after.unwrap_or_default())
}

/// What one claimed target came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispatched {
    /// The target.
    pub target_id: i64,
    /// How it ended (`None`: the claim was lost to another process, which
    /// records the outcome instead).
    pub outcome: Option<Outcome>,
}

/// One round at `now` (UTC ms; [`now_ms`] outside tests): claims due
/// targets and publishes them. Returns what each came to.
pub async fn dispatch_once(
    store: &Store,
    cipher: &Cipher,
    config: &DispatcherConfig,
    now: i64,
) -> Vec<Dispatched> {
    let clock = Clock {
        start: now,
        since: std::time::Instant::now(),
    };
    let claims = match store
        .claim_targets(now, now.saturating_add(ms(config.lease)), config.batch)
        .await
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read which posts are due");
            return vec![];
        }
    };
    // Each channel is opened once a round: one check, one connector and
    // one HTTP client (its connections kept alive) for all its targets.
    let mut channels: HashMap<i64, Opened> = HashMap::new();
    for c in &claims {
        if let Some(id) = c.target.channel_id
            && !channels.contains_key(&id)
        {
            let opened = match open_channel(store, cipher, c.workspace_id, id).await {
                Ok(Opened::Ready(c)) => Opened::Ready(match config.network_timeout {
                    Some(t) => c.with_timeout(t),
                    None => c,
                }),
                Ok(o) => o,
                Err(e) => {
                    tracing::warn!(channel = id, error = %e, "cannot read a channel to publish to");
                    Opened::Unreadable
                }
            };
            channels.insert(id, opened);
        }
    }
    // Which of the round's posts have images: one look for all of them
    // (`None`: that look failed, so each post is looked at on its own).
    let post_ids: Vec<i64> = claims.iter().map(|c| c.target.post_id).collect();
    let with_images: Option<HashSet<i64>> = match store.post_images(&post_ids).await {
        Ok(rows) => Some(rows.into_iter().map(|r| r.post_id).collect()),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read which posts have images");
            None
        }
    };
    // Sending marks and outcomes are written by one writer each: what
    // arrives while a write is under way goes into the next transaction
    // together, so many publishes share one commit.
    let (marks, marks_rx) = Committer::new();
    let (records, records_rx) = Committer::new();
    let round = Round {
        store,
        config,
        channels: &channels,
        with_images: with_images.as_ref(),
        marks,
        records,
        clock,
    };
    let publishing = async move {
        let round = &round;
        futures_util::stream::iter(claims)
            .map(|claim| async move {
                let target_id = claim.target.id;
                let outcome = match round.publish(&claim).await {
                    Ok(o) => o,
                    Err(e) => {
                        // Storage failed mid-way: the lease runs out and the
                        // target is taken over, with the sending mark telling
                        // whether the network was called.
                        tracing::warn!(target = target_id, error = %e, "cannot record a publish");
                        None
                    }
                };
                Dispatched { target_id, outcome }
            })
            .buffer_unordered(config.concurrency.max(1))
            .collect::<Vec<_>>()
            .await
        // The round (and with it the writers' senders) ends here.
    };
    let (done, (), ()) = tokio::join!(
        publishing,
        group_commit(marks_rx, |marks: Vec<(i64, i64)>| async move {
            store.mark_sending_many(&marks, clock.now()).await
        }),
        group_commit(records_rx, |done: Vec<(i64, i64, Outcome)>| async move {
            store.finish_attempts(&done, clock.now()).await
        }),
    );
    done
}

/// A request to a group-committing writer, with where its answer goes.
type Ask<T> = (T, oneshot::Sender<Result<bool, String>>);

/// The handle publishes use to have something written.
struct Committer<T>(mpsc::UnboundedSender<Ask<T>>);

impl<T> Committer<T> {
    fn new() -> (Self, mpsc::UnboundedReceiver<Ask<T>>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self(tx), rx)
    }

    /// Writes `item` with whatever else is waiting; whether it held.
    async fn write(&self, item: T) -> Result<bool, String> {
        let (tx, rx) = oneshot::channel();
        self.0
            .send((item, tx))
            .map_err(|_| "the writer stopped".to_owned())?;
        rx.await.map_err(|_| "the writer stopped".to_owned())?
    }
}

/// Writes what arrives on `rx` in batches until every sender is gone:
/// each batch is everything that waited while the previous one was
/// written, in one call of `write` (one transaction).
async fn group_commit<T, F, Fut>(mut rx: mpsc::UnboundedReceiver<Ask<T>>, write: F)
where
    F: Fn(Vec<T>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<bool>, dialoog_store::StoreError>>,
{
    let mut waiting = Vec::new();
    while rx.recv_many(&mut waiting, 512).await > 0 {
        let (items, replies): (Vec<T>, Vec<_>) = waiting.drain(..).unzip();
        let written = write(items).await.map_err(|e| e.to_string());
        for (i, reply) in replies.into_iter().enumerate() {
            let answer = match &written {
                Ok(held) => Ok(held.get(i).copied().unwrap_or(false)),
                Err(e) => Err(e.clone()),
            };
            // A publish that gave up waiting needs no answer.
            let _ = reply.send(answer);
        }
    }
}

/// What every publish of one round shares.
struct Round<'a> {
    store: &'a Store,
    config: &'a DispatcherConfig,
    channels: &'a HashMap<i64, Opened>,
    with_images: Option<&'a HashSet<i64>>,
    marks: Committer<(i64, i64)>,
    records: Committer<(i64, i64, Outcome)>,
    clock: Clock,
}

/// A channel as a round found it.
enum Opened {
    /// Ready to publish through.
    Ready(dialoog_networks::AnyConnector),
    /// Publishing through it ends at once with this outcome.
    Refused(Outcome),
    /// Disconnected.
    Gone,
    /// The store could not be read: its targets are left to their lease.
    Unreadable,
}

/// Opens a channel for a round: it is still there and connected, and its
/// credentials open.
async fn open_channel(
    store: &Store,
    cipher: &Cipher,
    workspace_id: i64,
    channel_id: i64,
) -> Result<Opened, dialoog_store::StoreError> {
    let channel = match store.channel(workspace_id, channel_id).await {
        Ok(c) => c,
        Err(dialoog_store::StoreError::NotFound) => return Ok(Opened::Gone),
        Err(e) => return Err(e),
    };
    if channel.status == "needs_reconnect" {
        return Ok(Opened::Refused(failed(
            "needs_reconnect",
            channel.status_reason,
        )));
    }
    Ok(
        match crate::sync::open_credentials(cipher, &channel)
            .map_err(|e| e.to_string())
            .and_then(|c| c.connector().map_err(|e| e.to_string()))
        {
            Ok(c) => Opened::Ready(c),
            Err(e) => Opened::Refused(failed("needs_reconnect", e)),
        },
    )
}

fn failed(code: &str, error: impl Into<String>) -> Outcome {
    Outcome::Failed {
        code: code.to_owned(),
        error: error.into(),
    }
}

impl Round<'_> {
    /// Publishes one claimed target and records the outcome. `Ok(None)`:
    /// the claim was lost before anything was sent or recorded, or the
    /// channel could not be read (the lease runs out).
    async fn publish(&self, claim: &Claim) -> Result<Option<Outcome>, String> {
        let t = &claim.target;
        let opened = t
            .channel_id
            .and_then(|id| self.channels.get(&id))
            .unwrap_or(&Opened::Gone);
        if matches!(opened, Opened::Unreadable) {
            return Ok(None);
        }
        let config = self.config;
        let clock = self.clock;
        let outcome = match prepare(config, claim, opened, clock.now()) {
            Err(early) => early,
            Ok(connector) => {
                // The images with their alt text, read from the database so
                // that any process can send them.
                let images = if self.with_images.is_none_or(|w| w.contains(&t.post_id)) {
                    self.store
                        .post_image_bytes(t.post_id)
                        .await
                        .map_err(|e| e.to_string())?
                        .into_iter()
                        .map(|(mime, bytes, alt)| Image { bytes, mime, alt })
                        .collect()
                } else {
                    vec![]
                };
                if !self.marks.write((t.id, t.attempts)).await? {
                    return Ok(None);
                }
                let post = Outgoing {
                    text: claim.text.clone(),
                    images,
                    idempotency_key: t.idempotency_key.clone(),
                    created_at: Some(claim.first_due),
                    ..Outgoing::default()
                };
                let rules = connector.rules();
                let result = connector.publish(&post).await;
                let now = clock.now();
                match result {
                    Ok(p) => Outcome::Published {
                        remote_id: p.remote_id,
                        url: p.url,
                    },
                    Err(ConnectorError::Transient {
                        reason,
                        retry_after,
                    }) => {
                        // This call was refused, but an earlier one may have
                        // reached the network (`sending_since` from before
                        // this attempt): the target stays marked, so it is
                        // neither sent blindly later nor changed meanwhile,
                        // and it is not called failed while it may be out.
                        let earlier = t.sending_since.is_some();
                        let due_at = now + ms(retry_delay(t.attempts, retry_after));
                        match (t.attempts >= config.max_attempts, earlier) {
                            (true, false) => failed("retries_exhausted", reason),
                            (true, true) => Outcome::Unconfirmed {
                                code: "outcome_unknown".to_owned(),
                                error: reason,
                            },
                            (false, false) => Outcome::Retry {
                                due_at,
                                error: reason,
                            },
                            (false, true) => Outcome::Resend {
                                due_at,
                                error: reason,
                            },
                        }
                    }
                    Err(ConnectorError::OutcomeUnknown { reason }) => {
                        if rules.idempotent_publish && t.attempts < config.max_attempts {
                            Outcome::Resend {
                                due_at: now + ms(retry_delay(t.attempts, None)),
                                error: reason,
                            }
                        } else {
                            Outcome::Unconfirmed {
                                code: "outcome_unknown".to_owned(),
                                error: reason,
                            }
                        }
                    }
                    Err(ConnectorError::Authorization { reason }) => {
                        if let Some(ch) = t.channel_id {
                            self.store
                                .mark_needs_reconnect(ch, &reason, now)
                                .await
                                .map_err(|e| e.to_string())?;
                        }
                        failed("needs_reconnect", reason)
                    }
                    Err(ConnectorError::Permanent { reason }) => failed("rejected", reason),
                }
            }
        };
        if !self
            .records
            .write((t.id, t.attempts, outcome.clone()))
            .await?
        {
            return Ok(None);
        }
        tracing::info!(target = t.id, post = t.post_id, outcome = ?outcome, "publish attempt");
        Ok(Some(outcome))
    }
}

/// Everything checked before a network call: the channel is still there
/// and connected, the text fits, and sending is safe. `Err(outcome)` ends
/// the attempt without a call.
fn prepare<'a>(
    config: &DispatcherConfig,
    claim: &Claim,
    opened: &'a Opened,
    now: i64,
) -> Result<&'a dialoog_networks::AnyConnector, Outcome> {
    let t = &claim.target;
    let connector = match opened {
        Opened::Ready(c) => c,
        Opened::Refused(o) => return Err(o.clone()),
        Opened::Gone => return Err(failed("channel_disconnected", "")),
        // Never reached: such targets are left to their lease.
        Opened::Unreadable => return Err(failed("channel_disconnected", "")),
    };
    let rules = connector.rules();
    if !rules.can_publish {
        return Err(failed("cannot_publish", ""));
    }
    if let Some((count, max)) = dialoog_networks::length::over_limit(&claim.text, &rules) {
        return Err(failed("too_long", format!("{count} / {max}")));
    }
    if let Some(since) = t.sending_since {
        // An earlier attempt may have reached the network.
        let expired = now.saturating_sub(since) > ms(config.resend_window);
        if !rules.idempotent_publish || expired {
            return Err(Outcome::Unconfirmed {
                code: "interrupted".to_owned(),
                error: String::new(),
            });
        }
    }
    Ok(connector)
}

/// Publishes until `stop` resolves.
pub async fn run(
    store: Store,
    cipher: Cipher,
    config: DispatcherConfig,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        let done = dispatch_once(&store, &cipher, &config, now_ms()).await;
        // A full batch means more may be due: go on at once.
        let wait = if done.len() as i64 >= config.batch {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_double_and_respect_the_network() {
        assert_eq!(retry_delay(1, None), Duration::from_secs(30));
        assert_eq!(retry_delay(2, None), Duration::from_secs(60));
        assert_eq!(retry_delay(12, None), Duration::from_secs(1800));
        assert_eq!(retry_delay(i64::MAX, None), Duration::from_secs(1800));
        assert_eq!(
            retry_delay(1, Some(Duration::from_secs(600))),
            Duration::from_secs(600)
        );
    }
}
