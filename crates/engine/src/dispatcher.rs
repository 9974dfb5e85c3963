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
use std::collections::HashMap;
use std::time::Duration;

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

fn ms(d: Duration) -> i64 {
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
    let channels = &channels;
    futures_util::stream::iter(claims)
        .map(|claim| async move {
            let target_id = claim.target.id;
            let opened = claim
                .target
                .channel_id
                .and_then(|id| channels.get(&id))
                .unwrap_or(&Opened::Gone);
            if matches!(opened, Opened::Unreadable) {
                return Dispatched {
                    target_id,
                    outcome: None,
                };
            }
            let outcome = match publish(store, config, &claim, opened, clock).await {
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
        .collect()
        .await
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

/// Publishes one claimed target and records the outcome. `Ok(None)`: the
/// claim was lost before anything was sent or recorded.
async fn publish(
    store: &Store,
    config: &DispatcherConfig,
    claim: &Claim,
    opened: &Opened,
    clock: Clock,
) -> Result<Option<Outcome>, dialoog_store::StoreError> {
    let t = &claim.target;
    let outcome = match prepare(config, claim, opened, clock.now()) {
        Err(early) => early,
        Ok(connector) => {
            // The images with their alt text, read from the database so
            // that any process can send them.
            let images = store
                .post_image_bytes(t.post_id)
                .await?
                .into_iter()
                .map(|(mime, bytes, alt)| Image { bytes, mime, alt })
                .collect();
            if !store.mark_sending(t.id, t.attempts, clock.now()).await? {
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
                    // reached the network (`sending_since` from before this
                    // attempt): the target stays marked, so it is neither
                    // sent blindly later nor changed meanwhile, and it is
                    // not called failed while it may be out.
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
                        store.mark_needs_reconnect(ch, &reason, now).await?;
                    }
                    failed("needs_reconnect", reason)
                }
                Err(ConnectorError::Permanent { reason }) => failed("rejected", reason),
            }
        }
    };
    let recorded = store
        .finish_attempt(t.id, t.attempts, &outcome, clock.now())
        .await?;
    if !recorded {
        return Ok(None);
    }
    tracing::info!(target = t.id, post = t.post_id, outcome = ?outcome, "publish attempt");
    Ok(Some(outcome))
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
