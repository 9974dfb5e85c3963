//! `dialoog`: the one binary. See `dialoog --help`.

mod bench;
mod bench_calendar;
mod bench_inbox;
mod bench_inbox_load;
mod bench_listening;
mod bench_posts;
mod bench_scheduler;
mod bench_sync;
mod keys;
mod work;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use dialoog_store::Store;
use dialoog_web::{AppState, Mailer, WebConfig};
use std::path::PathBuf;

/// Dialoog, the self-hosted social media hub.
#[derive(Parser)]
#[command(name = "dialoog", version, about)]
struct Cli {
    /// Log format.
    #[arg(
        long,
        global = true,
        env = "DIALOOG_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Where the data lives.
#[derive(clap::Args, Clone)]
struct DbArgs {
    /// The data folder (the SQLite database and other files live here).
    #[arg(long, env = "DIALOOG_DATA", default_value = "./dialoog-data")]
    data: PathBuf,
    /// A `postgres://` URL selects PostgreSQL; without one, SQLite in the data folder.
    #[arg(long, env = "DIALOOG_DATABASE_URL")]
    database_url: Option<String>,
}

impl DbArgs {
    async fn open(&self) -> anyhow::Result<Store> {
        let url = match &self.database_url {
            Some(u) if !u.trim().is_empty() => u.clone(),
            _ => {
                std::fs::create_dir_all(&self.data).with_context(|| {
                    format!("cannot create the data folder {}", self.data.display())
                })?;
                format!("sqlite://{}/dialoog.db", self.data.display())
            }
        };
        let store = Store::connect(&url)
            .await
            .context("cannot open the database")?;
        store
            .migrate()
            .await
            .context("cannot apply database migrations")?;
        Ok(store)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run Dialoog: the web interface, the API and the background work.
    Serve {
        /// Address and port to listen on.
        #[arg(long, env = "DIALOOG_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        #[command(flatten)]
        db: DbArgs,
        /// The address people reach Dialoog at (for links in e-mails and
        /// invitations); https makes cookies Secure. Default: http://LISTEN.
        #[arg(long, env = "DIALOOG_PUBLIC_URL")]
        public_url: Option<String>,
        /// SMTP server for outgoing e-mail, e.g. smtp://user:pass@mail.example.nl:587.
        #[arg(long, env = "DIALOOG_SMTP_URL")]
        smtp_url: Option<String>,
        /// Sender of outgoing e-mail.
        #[arg(
            long,
            env = "DIALOOG_MAIL_FROM",
            default_value = "Dialoog <dialoog@localhost>"
        )]
        mail_from: String,
        /// Let images from outside be fetched from this machine (loopback
        /// addresses): for development and tests only. Private networks
        /// are always refused.
        #[arg(long, env = "DIALOOG_ALLOW_LOOPBACK_MEDIA")]
        allow_loopback_media: bool,
        #[command(flatten)]
        dispatch: work::DispatchArgs,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Language and sentiment for each line of standard input, as JSON lines.
    ///
    /// A line is plain text or a JSON object with a "text" field. Output:
    /// {"lang": "nl"|null, "sentiment": "positive"|"negative"|"neutral", "score": -1..1}.
    Analyze,
    /// Whole-pipeline benchmarks on generated data; ends with one JSON line.
    Bench {
        /// What to measure: `text` (language, sentiment, matcher), `sync`
        /// (one channel sync from a loopback server of the network) or
        /// `scheduler` (dispatch lag with posts falling due at `--rate`) or
        /// `calendar` (the calendar's month query over generated posts) or
        /// `inbox` (the inbox's first pages with filters at `--rate`, and
        /// live updates, over generated conversations) or `listening` (the
        /// whole listening pipeline with the search index for `--seconds`,
        /// then search over `--mentions` stored mentions: tantivy and FTS5).
        what: String,
        /// How many items (texts, posts, conversations); default 1,000,000
        /// (`scheduler`: 10,000).
        #[arg(long)]
        items: Option<usize>,
        /// How many listening queries the matcher compiles.
        #[arg(long, default_value_t = 10_000)]
        queries: usize,
        /// For `sync`: the connector (`rss`, `mastodon`, `bluesky`, `wordpress`).
        #[arg(long, default_value = "rss")]
        connector: String,
        /// For `scheduler`: posts falling due per second; for `inbox`: page
        /// requests per second (default 200 there).
        #[arg(long)]
        rate: Option<u32>,
        /// For `inbox`: how long the page requests go on; for `listening`:
        /// how long the pipeline runs.
        #[arg(long, default_value_t = 60)]
        seconds: u32,
        /// For `listening`: how many stored mentions the search part times
        /// tantivy and FTS5 over.
        #[arg(long, default_value_t = 1_000_000)]
        mentions: usize,
        /// For `inbox`: searches per second, asked for beside the pages.
        #[arg(long, default_value_t = 10)]
        search_rate: u32,
        /// For `inbox`: new inbound items whose live update is timed.
        #[arg(long, default_value_t = 100)]
        live_items: usize,
        /// For `scheduler`: dispatching `dialoog serve` processes.
        #[arg(long, default_value_t = 1)]
        dispatchers: usize,
        /// For `scheduler`, `calendar` and `inbox`: a PostgreSQL server (a fresh
        /// database is made on it and dropped afterwards); without one,
        /// SQLite.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Re-seal every channel's credentials with a new secret key.
    RotateKey {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print a one-hour password-reset link for a user (when no SMTP is set).
    ResetLink {
        /// The user's e-mail address.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        db: DbArgs,
        /// The address people reach Dialoog at.
        #[arg(
            long,
            env = "DIALOOG_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        public_url: String,
    },
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DIALOOG_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// mimalloc instead of the C library's allocator: under the listening
/// pipeline's load (batches allocated on one thread and freed on another,
/// several threads) the C library's per-thread arenas kept growing: 720 MB
/// of the process's own memory after 10 minutes, where heaptrack found no
/// leak and a heap of at most 152 MB in a shorter run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logs(cli.log_format);
    match cli.command {
        Command::Serve {
            listen,
            db,
            public_url,
            smtp_url,
            mail_from,
            allow_loopback_media,
            dispatch,
        } => {
            let started = std::time::Instant::now();
            let store = db.open().await?;
            let mailer = match smtp_url.as_deref().filter(|u| !u.trim().is_empty()) {
                Some(u) => Some(Mailer::new(u, &mail_from).context("invalid SMTP settings")?),
                None => None,
            };
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            let addr = listener.local_addr()?;
            let public_url = public_url
                .unwrap_or_else(|| format!("http://{addr}"))
                .trim_end_matches('/')
                .to_owned();
            let cipher = keys::load(&db.data)?;
            let state = AppState::new(
                store.clone(),
                WebConfig {
                    allow_loopback_media,
                    public_url: public_url.clone(),
                    mailer,
                },
                cipher.clone(),
            );
            if let Some(index) = work::open_search(&db.data) {
                state.set_mention_index(index);
            }
            let work = work::Work::start(&store, &cipher, dispatch.config(), &state);
            let app = dialoog_web::app(state);
            tracing::info!(
                %addr, %public_url, backend = ?store.kind(),
                ready_ms = started.elapsed().as_millis() as u64,
                "Dialoog is ready"
            );
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown())
            .await?;
            work.stop().await;
            store.close().await;
            Ok(())
        }
        Command::Analyze => {
            let stdin = std::io::stdin().lock();
            let stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            let stats =
                dialoog_text::analyze::analyze_stream(stdin, stdout, &mut std::io::stderr())?;
            if stats.errors > 0 {
                tracing::warn!(
                    lines = stats.lines,
                    errors = stats.errors,
                    "some lines could not be analysed"
                );
            }
            Ok(())
        }
        Command::Bench {
            what,
            items,
            queries,
            connector,
            rate,
            seconds,
            mentions,
            search_rate,
            live_items,
            dispatchers,
            database_url,
        } => {
            let line = match what.as_str() {
                "text" => bench::text(items.unwrap_or(1_000_000), queries),
                "sync" => bench_sync::run(&connector, items.unwrap_or(1_000_000)).await?,
                "scheduler" => {
                    bench_scheduler::run(&bench_scheduler::SchedulerBench {
                        items: items.unwrap_or(10_000),
                        rate: rate.unwrap_or(1000),
                        database_url,
                        dispatchers,
                    })
                    .await?
                }
                "calendar" => {
                    bench_calendar::run(items.unwrap_or(1_000_000), database_url.as_deref()).await?
                }
                "inbox" => {
                    bench_inbox::run(&bench_inbox::InboxBench {
                        items: items.unwrap_or(1_000_000),
                        database_url,
                        rate: rate.unwrap_or(200),
                        search_rate,
                        seconds,
                        live_items,
                    })
                    .await?
                }
                "listening" => {
                    bench_listening::run(&bench_listening::ListeningBench {
                        seconds,
                        mentions,
                        queries,
                    })
                    .await?
                }
                other => {
                    anyhow::bail!(
                        "unknown benchmark {other:?}; available: text, sync, scheduler, calendar, inbox, listening"
                    )
                }
            };
            #[allow(clippy::print_stdout)]
            {
                println!("{line}");
            }
            Ok(())
        }
        Command::Migrate { db } => {
            db.open().await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Admin {
            command: AdminCommand::RotateKey { db },
        } => {
            let store = db.open().await?;
            let printed = keys::rotate(&store, &db.data).await?;
            #[allow(clippy::print_stdout)]
            match printed {
                Some(key) => println!(
                    "{key}\nAll credentials are now sealed with the key above: set it as DIALOOG_SECRET_KEY before the next start."
                ),
                None => println!(
                    "All credentials are now sealed with a new key in {}.",
                    keys::key_file(&db.data).display()
                ),
            }
            Ok(())
        }
        Command::Admin {
            command:
                AdminCommand::ResetLink {
                    email,
                    db,
                    public_url,
                },
        } => {
            let store = db.open().await?;
            let email = dialoog_domain::Email::parse(&email)
                .map_err(|_| anyhow::anyhow!("not a valid e-mail address"))?;
            let user = store
                .user_by_email(email.as_str())
                .await?
                .ok_or_else(|| anyhow::anyhow!("no account with the address {}", email.as_str()))?;
            let state = AppState::new(
                store,
                WebConfig {
                    allow_loopback_media: false,
                    public_url: public_url.trim_end_matches('/').to_owned(),
                    mailer: None,
                },
                keys::load(&db.data)?,
            );
            let link = dialoog_web::service::reset_link(&state, &user)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            #[allow(clippy::print_stdout)]
            {
                println!("{link}");
            }
            Ok(())
        }
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}
