//! The work `dialoog serve` runs beside the web server: the poller, the
//! listening sources with their alerts and webhook deliveries, telling the
//! team of customers waiting past the answer target, the dispatcher, topping up recurring posts (with, once an hour, removing
//! images no post uses after a day's grace) and, where SMTP is set up,
//! mailing notifications; keeping the search index of mentions caught up
//! and removing mentions older than their workspace keeps them.

use dialoog_engine::Cipher;
use dialoog_engine::dispatcher::DispatcherConfig;
use dialoog_search::{MentionSearch, TantivyIndex};
use dialoog_store::Store;
use dialoog_web::AppState;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Opens the search index of mentions in `data/search` (with PostgreSQL
/// too: the data folder holds it). `None` when it cannot be opened (a
/// read-only or full disk): searches then go to the store.
pub fn open_search(data: &Path) -> Option<Arc<dyn MentionSearch>> {
    match TantivyIndex::open(&data.join("search")) {
        Ok(ix) => Some(Arc::new(ix)),
        Err(e) => {
            tracing::error!(error = %e, "search index unavailable; searching the database instead");
            None
        }
    }
}
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How the dispatcher runs (each has a `DIALOOG_DISPATCH_*` variable).
#[derive(clap::Args, Clone, Debug)]
pub struct DispatchArgs {
    /// How long a claimed post is held before another process may take it
    /// over, in seconds (a process that died gives its posts back after
    /// this). Keep it longer than a network call takes.
    #[arg(long, env = "DIALOOG_DISPATCH_LEASE", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub dispatch_lease: u64,
    /// Pause between rounds when nothing is due, in milliseconds.
    #[arg(long, env = "DIALOOG_DISPATCH_TICK_MS", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub dispatch_tick_ms: u64,
    /// Publishes under way at once in this process.
    #[arg(long, env = "DIALOOG_DISPATCH_CONCURRENCY", default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub dispatch_concurrency: u64,
}

impl DispatchArgs {
    /// The dispatcher's configuration.
    pub fn config(&self) -> DispatcherConfig {
        let concurrency = usize::try_from(self.dispatch_concurrency).unwrap_or(32);
        DispatcherConfig {
            tick: Duration::from_millis(self.dispatch_tick_ms),
            lease: Duration::from_secs(self.dispatch_lease),
            concurrency,
            // A round claims what its publishers can take on at once.
            batch: i64::try_from(concurrency.saturating_mul(4)).unwrap_or(128),
            ..DispatcherConfig::default()
        }
    }
}

/// The background tasks, to stop together.
pub struct Work {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

impl Work {
    /// Starts polling, dispatching, series and (with a mailer) mailing.
    pub fn start(
        store: &Store,
        cipher: &Cipher,
        dispatch: DispatcherConfig,
        web: &AppState,
    ) -> Self {
        let (stop, rx) = watch::channel(false);
        let mut tasks = vec![
            tokio::spawn(dialoog_engine::poller::run(
                store.clone(),
                cipher.clone(),
                dialoog_engine::poller::PollerConfig::default(),
                stopped(rx.clone()),
            )),
            tokio::spawn(dialoog_engine::dispatcher::run(
                store.clone(),
                cipher.clone(),
                dispatch,
                stopped(rx.clone()),
            )),
            // Occurrences are made in one transaction each: stopping loses none.
            // The same loop removes unused images (`dialoog_engine::cleanup`).
            tokio::spawn(dialoog_engine::series::run(
                store.clone(),
                Duration::from_secs(60),
                stopped(rx.clone()),
            )),
        ];
        // Streamed listening sources (the Bluesky firehose, Mastodon
        // timelines set to stream) run live through the same pipeline as
        // the polled ones, one stream per distinct source
        // (`dialoog_engine::listen_streams`).
        let streams = web.clone();
        let streams_stop = stopped(rx.clone());
        tasks.push(tokio::spawn(async move {
            match streams.pipeline().await {
                Ok(p) => {
                    dialoog_engine::listen_streams::run(
                        streams.store.clone(),
                        p,
                        dialoog_engine::listen_streams::StreamsConfig::default(),
                        streams_stop,
                    )
                    .await;
                }
                Err(e) => tracing::error!(error = %e, "listening streams cannot start"),
            }
        }));
        // Listening sources, fetched on their schedule through the one
        // pipeline the web's "fetch now" also uses.
        let listen = web.clone();
        let listen_stop = stopped(rx.clone());
        let alert_stop = stopped(rx.clone());
        tasks.push(tokio::spawn(async move {
            match listen.pipeline().await {
                Ok(p) => {
                    // Alerts are judged as the pipeline stores mentions.
                    let signals = p.lock().await.signals();
                    let alerts = tokio::spawn(dialoog_engine::alerts::run(
                        listen.store.clone(),
                        signals,
                        dialoog_web::alerts::webhook_body(&listen),
                        alert_stop,
                    ));
                    dialoog_engine::listen_sources::run(
                        listen.store.clone(),
                        p,
                        Duration::from_secs(5),
                        listen_stop,
                    )
                    .await;
                    let _ = alerts.await;
                }
                Err(e) => tracing::error!(error = %e, "listening cannot start"),
            }
        }));
        // Customers waiting past the answer target: told once per wait.
        tasks.push(tokio::spawn(dialoog_web::overdue::run(
            web.clone(),
            Duration::from_secs(60),
            stopped(rx.clone()),
        )));
        // Alerts to the workspaces' webhooks, signed, tried again for a day.
        tasks.push(tokio::spawn(dialoog_engine::alerts::run_webhooks(
            store.clone(),
            cipher.clone(),
            Duration::from_secs(2),
            stopped(rx.clone()),
        )));
        // The search index catches up from the store at once, then a step a
        // second; retention runs at start and then hourly.
        let index = web.mention_index();
        if let Some(ix) = &index {
            tasks.push(tokio::spawn(dialoog_engine::mention_index::run(
                store.clone(),
                Arc::clone(ix),
                Duration::from_secs(1),
                stopped(rx.clone()),
            )));
        }
        tasks.push(tokio::spawn(dialoog_engine::mention_index::run_retention(
            store.clone(),
            index,
            dialoog_engine::mention_index::RETENTION_EVERY,
            stopped(rx.clone()),
        )));
        if web.config.mailer.is_some() {
            tasks.push(tokio::spawn(dialoog_web::notify_mail::run(
                web.clone(),
                dialoog_web::notify_mail::MailLoopConfig::default(),
                stopped(rx),
            )));
        }
        Self { stop, tasks }
    }

    /// Stops every task: work under way may finish within ten seconds; a
    /// publish cut off is taken over safely by the next start (its lease
    /// runs out).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
    }
}
