//! Dialoog's storage: one [`Store`] over an embedded SQLite database or a
//! PostgreSQL server, with a migrations folder per backend.
//!
//! Every query is written once and compiled against both pools through the
//! `on!` macro, so the two backends cannot drift apart in what they store;
//! where SQL has to differ, a method matches on the backend itself. This is
//! the only crate that writes SQL.

mod alerts;
#[macro_use]
mod approval;
mod audit;
mod calendar;
mod channels;
mod contacts;
mod edit;
mod error;
mod inbox;
mod inbox_entries;
mod inbox_fill;
mod inbox_list;
mod inbox_search;
mod listening;
mod media;
mod mention_fts_bench;
mod mention_insert;
mod mention_keep;
mod mentions;
mod models;
mod notifications;
mod overdue;
mod posts;
mod schedule;
mod service_levels;
mod users;
mod voice;
mod workspaces;

#[cfg(feature = "testing")]
pub mod testing;

pub use alerts::{Alert, AlertRule, Delivery, DeliveryResult, NewAlert, NewAlertRule};
pub use approval::{Actor, ApprovalLink, Comment, Review};
pub use calendar::{CALENDAR_SCAN, CalendarDay, CalendarFeed, GeneratedPost};
pub use channels::{Channel, Item, NewItem, SyncRecord};
pub use contacts::{Contact, Identity, Suggestion, handle_stem};
pub use edit::{PostEdit, ReviewStep};
pub use error::StoreError;
pub use inbox::{AssigneeFilter, Conversation, InboxFilter};
pub use inbox_entries::{Entry, NewEntry, ReplyOutcome};
pub use inbox_fill::{GeneratedConversation, GeneratedItem};
pub use inbox_list::SEARCH_WALK;
pub use inbox_search::SHORT_QUERY_SCAN;
pub use listening::{ListeningQuery, Source, SourceFetch, StreamHealth};
pub use media::{MediaInfo, PostExtras, PostImage};
pub use mention_fts_bench::FtsFacets;
pub use mention_keep::{DEFAULT_KEEP_DAYS, IndexRow};
pub use mentions::{CopyOf, Facets, Mention, MentionFilter, NewMention, Stored};
pub use models::*;
pub use notifications::{MailNotice, Notification, ShownNotification};
pub use posts::{Claim, NewPost, NewTarget, Outcome, Post, Target};
pub use schedule::{NewSeries, Series};
pub use service_levels::{FIGURE_ROWS, InboxSettings, ResponseRow};
pub use users::NewOwner;
pub use workspaces::NewInvitee;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

/// A result of a storage operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Runs the same expression against whichever pool the store holds. Both arms
/// are type-checked separately, so a query must work on both backends.
macro_rules! on {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite($pool) => $body,
            $crate::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on;

/// Opens a transaction that writes. On SQLite it is `BEGIN IMMEDIATE`: the
/// write lock is taken at once, waiting for another writer up to the busy
/// timeout. A deferred transaction that reads first and writes later would
/// instead fail at once ("database is locked") when another connection
/// wrote in between, and the busy timeout would not help. On PostgreSQL it
/// is a plain `BEGIN`.
pub(crate) trait BeginWrite {
    /// The database.
    type Db: sqlx::Database;
    /// The transaction, begun.
    async fn begin_write(
        &self,
    ) -> std::result::Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>;
}

impl BeginWrite for sqlx::SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(
        &self,
    ) -> std::result::Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for sqlx::PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(
        &self,
    ) -> std::result::Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Backend {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// Which database a [`Store`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// The embedded default.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Connection pool figures for `/metrics`.
#[derive(Clone, Copy, Debug)]
pub struct PoolStats {
    /// Open connections.
    pub size: u32,
    /// Open connections not in use.
    pub idle: usize,
    /// The most connections the pool will open.
    pub max: u32,
}

/// The handle every other crate uses to read and write Dialoog's data.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) backend: Backend,
    max_connections: u32,
}

impl Store {
    /// Connects to `url`: `postgres://…` or `postgresql://…` selects
    /// PostgreSQL, `sqlite:…` an SQLite file (created when missing).
    pub async fn connect(url: &str) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let max = 16;
            // No parallel workers: the app asks short indexed queries with
            // small limits, for which PostgreSQL sometimes plans a parallel
            // scan whose start alone costs tens of milliseconds (a tag's
            // inbox page: 46 ms in parallel, 0.9 ms without).
            let opts = PgConnectOptions::from_str(url)?
                .options([("max_parallel_workers_per_gather", "0")]);
            let pool = PgPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Self {
                backend: Backend::Postgres(pool),
                max_connections: max,
            })
        } else if url.starts_with("sqlite:") {
            Self::connect_sqlite(SqliteConnectOptions::from_str(url)?).await
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }

    /// An SQLite pool with the house settings on top of `opts`.
    pub(crate) async fn connect_sqlite(opts: SqliteConnectOptions) -> Result<Self> {
        let opts = opts
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // 16 MB of pages per connection (SQLite's default is 2 MB):
            // the hot parts of the listening indexes stay in memory
            // instead of being read again for each batch.
            .pragma("cache_size", "-16384")
            // And at most 128 MB of SQLite's memory in the whole process
            // (what eight full page caches would take): past it, SQLite
            // reuses its least recently used cache pages instead of
            // allocating more, so its memory stays flat however long it
            // runs.
            .pragma("soft_heap_limit", "134217728");
        let max = 8;
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            .min_connections(1)
            .connect_with(opts)
            .await?;
        Ok(Self {
            backend: Backend::Sqlite(pool),
            max_connections: max,
        })
    }

    /// Applies every migration not yet applied; safe to run at each start.
    pub async fn migrate(&self) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Backend::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Which backend this store runs on.
    #[must_use]
    pub fn kind(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// Pool figures for monitoring.
    #[must_use]
    pub fn pool_stats(&self) -> PoolStats {
        let (size, idle) = on!(self, p => (p.size(), p.num_idle()));
        PoolStats {
            size,
            idle,
            max: self.max_connections,
        }
    }

    /// A cheap round trip, for `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        on!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Closes every connection (waits for those in use).
    pub async fn close(&self) {
        on!(self, p => p.close().await);
    }
}

impl Store {
    /// Runs one administrative statement (`CREATE DATABASE …`) that cannot
    /// run inside a transaction; for tests and tooling, never user input.
    pub async fn execute_admin(&self, statement: &str) -> Result<()> {
        on!(self, p => sqlx::raw_sql(statement).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
