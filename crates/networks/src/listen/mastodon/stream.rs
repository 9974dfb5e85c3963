//! A Mastodon hashtag or public timeline through the streaming API
//! (server-sent events: `event: update` with the status as `data:`),
//! falling back to polling when the instance does not offer it.
//!
//! Mastodon's stream cannot resume, so every (re)connection first opens the
//! stream and then catches up by polling from the cursor before reading it:
//! what was said while disconnected comes from the poll, what is said from
//! then on from the stream, and what comes through both is dropped once.

use super::{MastodonTimeline, Status, id_key};
use crate::contract::ConnectorError;
use crate::http::{error_from, transport};
use crate::listen::sse::{Parser, TooLarge};
use crate::listen::{
    Backoff, Batch, Batcher, HealthReporter, Heard, Running, SourceSettings, Status as State,
    StreamOptions, deliver,
};
use reqwest::{Url, header};
use std::collections::{HashSet, VecDeque};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout_at};

/// How long an instance that offers no stream is polled before the stream
/// is tried again.
const RETRY_STREAM_AFTER: Duration = Duration::from_secs(30 * 60);
/// Status ids remembered to drop what the poll and the stream both bring.
const REMEMBERED: usize = 5000;

/// A Mastodon timeline as a stream.
#[derive(Debug, Clone)]
pub struct MastodonStream {
    timeline: MastodonTimeline,
    streaming: Url,
    token: Option<String>,
    opts: StreamOptions,
    poll_every: Duration,
    client: reqwest::Client,
}

/// Why a stream ended.
enum End {
    /// The instance does not stream this timeline (404, 401, 403, not an
    /// event stream): poll instead.
    NotOffered(String),
    /// Lost; reconnect after a pause (at least `Option` when asked).
    Lost(String, Option<Duration>),
    /// Refused in a way a person must look at; try again, slowly.
    Failing(String, Option<Duration>),
    /// The receiver is gone.
    Stop,
}

impl MastodonStream {
    /// The stream of a `mastodon_tag` or `mastodon_public` source.
    pub fn new(
        settings: &SourceSettings,
        token: Option<&str>,
        opts: StreamOptions,
    ) -> Result<Self, ConnectorError> {
        let timeline = MastodonTimeline::new(settings, token)?;
        // A long-lived connection: no overall time-out, only the idle one.
        let client = reqwest::Client::builder()
            .user_agent(concat!("Dialoog/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ConnectorError::permanent(format!("HTTP could not be set up ({e})")))?;
        Ok(Self {
            streaming: timeline.base().clone(),
            token: timeline.token.clone(),
            timeline,
            opts,
            poll_every: super::POLL_INTERVAL,
            client,
        })
    }

    /// Streams from another address than the instance's own (where its
    /// `urls.streaming` points elsewhere).
    pub fn with_streaming_base(mut self, url: &str) -> Result<Self, ConnectorError> {
        self.streaming = crate::mastodon::instance(url)?;
        Ok(self)
    }

    /// Polls this often when the instance offers no stream.
    #[must_use]
    pub fn with_poll_interval(mut self, every: Duration) -> Self {
        self.poll_every = every;
        self
    }

    /// Runs as a task delivering into `out` from `cursor` (the cursor of the
    /// last stored batch; empty: from now on).
    pub fn spawn(self, cursor: String, out: mpsc::Sender<Batch>) -> Running {
        let (health, rx) = HealthReporter::new();
        let task = tokio::spawn(async move { self.run(cursor, out, health).await });
        Running::new(rx, task)
    }

    /// Runs until `out` is closed.
    pub async fn run(self, cursor: String, out: mpsc::Sender<Batch>, health: HealthReporter) {
        let mut run = Run {
            cursor,
            seen: VecDeque::new(),
            seen_set: HashSet::new(),
            out,
            health,
        };
        let mut backoff = Backoff::new(&self.opts);
        let mut no_stream: Option<(Instant, String)> = None;
        loop {
            if let Some((until, why)) = no_stream.as_ref().filter(|(t, _)| Instant::now() < *t) {
                let (until, why) = (*until, why.clone());
                match self.catch_up(&mut run).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => {
                        let wait = backoff.wait(retry_of(&e));
                        let state = match e {
                            ConnectorError::Transient { .. } => State::Reconnecting,
                            _ => State::Failing,
                        };
                        run.health.set(state, Some(e.reason().to_owned()));
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                }
                run.health.set(State::Polling, Some(why));
                backoff.reset();
                tokio::time::sleep(
                    self.poll_every
                        .min(until.saturating_duration_since(Instant::now())),
                )
                .await;
                continue;
            }
            match self.stream_once(&mut run, &mut backoff).await {
                End::Stop => return,
                End::NotOffered(reason) => {
                    run.health.set(State::Polling, Some(reason.clone()));
                    no_stream = Some((Instant::now() + RETRY_STREAM_AFTER, reason));
                }
                End::Lost(reason, asked) => {
                    run.health.set(State::Reconnecting, Some(reason));
                    tokio::time::sleep(backoff.wait(asked)).await;
                }
                End::Failing(reason, asked) => {
                    run.health.set(State::Failing, Some(reason));
                    tokio::time::sleep(backoff.wait(asked)).await;
                }
            }
        }
    }

    /// Polls from the cursor until nothing more is waiting. `false`: stop.
    async fn catch_up(&self, run: &mut Run) -> Result<bool, ConnectorError> {
        loop {
            let polled = self.timeline.poll(&run.cursor).await?;
            let mut fresh = Vec::new();
            for h in polled.heard {
                if run.remember(&h) {
                    fresh.push(h);
                }
            }
            let batch = Batch {
                heard: fresh,
                cursor: polled.cursor.clone(),
            };
            if (!batch.heard.is_empty() || batch.cursor != run.cursor)
                && !deliver(&run.out, batch, &run.health, &self.opts).await
            {
                return Ok(false);
            }
            run.cursor = polled.cursor;
            if !polled.more {
                return Ok(true);
            }
        }
    }

    async fn stream_once(&self, run: &mut Run, backoff: &mut Backoff) -> End {
        let url = match self.timeline.stream_url(&self.streaming) {
            Ok(u) => u,
            Err(e) => return End::NotOffered(e.reason().to_owned()),
        };
        let mut req = self
            .client
            .get(url)
            .header(header::ACCEPT, "text/event-stream");
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let mut resp = match tokio::time::timeout(self.opts.idle_timeout, req.send()).await {
            Err(_) => return End::Lost("the instance did not answer in time".into(), None),
            Ok(Err(e)) => return End::Lost(transport(e).reason().to_owned(), None),
            Ok(Ok(r)) => r,
        };
        let status = resp.status().as_u16();
        if matches!(status, 401 | 403 | 404 | 405 | 410 | 501) {
            return End::NotOffered(format!(
                "the instance offers no stream here ({status}): polling every {} s",
                self.poll_every.as_secs()
            ));
        }
        if !resp.status().is_success() {
            let e = error_from(resp).await;
            return End::Lost(e.reason().to_owned(), retry_of(&e));
        }
        let event_stream = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !event_stream {
            return End::NotOffered("the instance's stream is not an event stream: polling".into());
        }
        // The stream is open: what is said from now on comes through it.
        // Catch up on what was said before, then read it.
        match self.catch_up(run).await {
            Ok(true) => {}
            Ok(false) => return End::Stop,
            Err(e @ ConnectorError::Transient { .. }) => {
                return End::Lost(e.reason().to_owned(), retry_of(&e));
            }
            Err(e) => return End::Failing(e.reason().to_owned(), None),
        }
        run.health.set(State::Connected, None);
        backoff.reset();
        let mut parser = Parser::new(self.opts.max_message_bytes);
        let mut batcher = Batcher::new(&self.opts);
        let mut newest = run.cursor.clone();
        let mut events = Vec::new();
        let mut idle_at = Instant::now() + self.opts.idle_timeout;
        let end = loop {
            let until = batcher.deadline().map_or(idle_at, |d| d.min(idle_at));
            match timeout_at(until, resp.chunk()).await {
                Err(_) if Instant::now() >= idle_at => {
                    break End::Lost(
                        format!(
                            "the stream was silent for {} s",
                            self.opts.idle_timeout.as_secs()
                        ),
                        None,
                    );
                }
                Err(_) => {}
                Ok(Ok(Some(bytes))) => {
                    idle_at = Instant::now() + self.opts.idle_timeout;
                    if parser.feed(&bytes, &mut events) == Err(TooLarge) {
                        break End::Lost(
                            format!(
                                "an event was larger than {}",
                                crate::listen::size_words(self.opts.max_message_bytes)
                            ),
                            None,
                        );
                    }
                    for ev in events.drain(..) {
                        if ev.name != "update" {
                            continue;
                        }
                        let Ok(status) = serde_json::from_str::<Status>(&ev.data) else {
                            run.health.skipped();
                            continue;
                        };
                        if id_key(&status.id) > id_key(&newest) {
                            newest = status.id.clone();
                        }
                        if let Some(h) = self.timeline.heard(status)
                            && run.remember(&h)
                        {
                            batcher.push(h);
                        }
                    }
                }
                Ok(Ok(None)) => break End::Lost("the instance ended the stream".into(), None),
                Ok(Err(e)) => break End::Lost(transport(e).reason().to_owned(), None),
            }
            let due = batcher.due() || (batcher.is_empty() && newest != run.cursor);
            if due {
                if !self.flush(run, &mut batcher, &newest).await {
                    break End::Stop;
                }
                // Time spent waiting for the pipeline is not silence.
                idle_at = Instant::now() + self.opts.idle_timeout;
            }
        };
        // What was read whole before the end still goes out.
        if !batcher.is_empty() && !self.flush(run, &mut batcher, &newest).await {
            return End::Stop;
        }
        end
    }

    async fn flush(&self, run: &mut Run, batcher: &mut Batcher, newest: &str) -> bool {
        // The stream brings statuses in the order the instance handles
        // them; the cursor never goes back.
        let cursor = if id_key(newest) > id_key(&run.cursor) {
            newest.to_owned()
        } else {
            run.cursor.clone()
        };
        let batch = Batch {
            heard: batcher.take(),
            cursor: cursor.clone(),
        };
        if !deliver(&run.out, batch, &run.health, &self.opts).await {
            return false;
        }
        run.cursor = cursor;
        true
    }
}

/// The state of one run.
struct Run {
    cursor: String,
    seen: VecDeque<String>,
    seen_set: HashSet<String>,
    out: mpsc::Sender<Batch>,
    health: HealthReporter,
}

impl Run {
    /// Remembers an item; `false` when it was delivered already.
    fn remember(&mut self, h: &Heard) -> bool {
        let id = &h.item.external_id;
        if self.seen_set.contains(id) {
            return false;
        }
        self.seen_set.insert(id.clone());
        self.seen.push_back(id.clone());
        while self.seen.len() > REMEMBERED {
            if let Some(old) = self.seen.pop_front() {
                self.seen_set.remove(&old);
            }
        }
        true
    }
}

fn retry_of(e: &ConnectorError) -> Option<Duration> {
    match e {
        ConnectorError::Transient { retry_after, .. } => *retry_after,
        _ => None,
    }
}
