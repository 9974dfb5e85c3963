//! Test support (feature `testing`): a fresh database per test, an SQLite
//! file in a temporary folder or a PostgreSQL database with a random name
//! that is dropped afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::Store;

/// A store and what must be cleaned up when the test ends.
pub struct TestDb {
    /// The migrated store.
    pub store: Store,
    /// Its URL, for a second connection (another process's view).
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

fn random_suffix() -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    hex::encode(b)
}

/// The PostgreSQL server tests use, or `None` (with a note on stderr) when
/// it is unavailable outside CI. In CI a missing server fails the test.
pub fn postgres_admin_url() -> Option<String> {
    if std::env::var("DIALOOG_TEST_PG_SKIP").is_ok_and(|v| v == "1") {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "PostgreSQL tests may not be skipped in CI"
        );
        eprintln!("SKIPPED: PostgreSQL tests (DIALOOG_TEST_PG_SKIP=1)");
        return None;
    }
    Some(
        std::env::var("DIALOOG_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
    )
}

impl TestDb {
    /// A migrated SQLite database in a new temporary folder.
    pub async fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(format!("dialoog-test-{}", random_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}/dialoog.db", dir.display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        Self {
            store,
            url,
            cleanup: Cleanup::Dir(dir),
        }
    }

    /// A migrated PostgreSQL database, or `None` when PostgreSQL tests are
    /// skipped (never in CI).
    pub async fn postgres() -> Option<Self> {
        let admin_url = postgres_admin_url()?;
        let name = format!("dialoog_test_{}", random_suffix());
        let admin = Store::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is required: {e}"));
        admin
            .execute_admin(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        admin.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        let url = format!("{base}/{name}");
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        Some(Self {
            store,
            url,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }
}

/// A full disk, on SQLite: a store whose connections may not grow the
/// database file, and filler rows that take up room and give it back.
impl TestDb {
    /// The SQLite file's size in pages.
    pub async fn pages(&self) -> i64 {
        let crate::Backend::Sqlite(p) = &self.store.backend else {
            panic!("a full disk is made on SQLite");
        };
        sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(p)
            .await
            .unwrap()
    }

    /// A second store on this SQLite file whose connections cannot grow
    /// it past `max_pages` pages: a write that needs more room fails as
    /// on a full disk ([`crate::StoreError::Full`]), and succeeds again
    /// once rows are removed (their pages are reused).
    pub async fn capped(&self, max_pages: i64) -> Store {
        let opts = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(&self.url)
            .unwrap()
            .pragma("max_page_count", max_pages.to_string());
        Store::connect_sqlite(opts).await.unwrap()
    }

    /// Grows the file to at least `pages` pages with filler rows, through
    /// this (uncapped) store.
    pub async fn grow_to(&self, pages: i64) {
        self.store
            .execute_admin("CREATE TABLE IF NOT EXISTS test_filler (b BLOB NOT NULL)")
            .await
            .unwrap();
        while self.pages().await < pages {
            self.store
                .execute_admin(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) \
                     INSERT INTO test_filler (b) SELECT zeroblob(3000) FROM n",
                )
                .await
                .unwrap();
        }
    }

    /// Removes the filler rows: their room can be written again.
    pub async fn free_filler(&self) {
        self.store
            .execute_admin("DELETE FROM test_filler")
            .await
            .unwrap();
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(d) => {
                let _ = std::fs::remove_dir_all(d);
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Dropping needs async; do it on a thread with its own runtime. The
                // test's pool is not closed first (its runtime is blocked here);
                // WITH (FORCE) ends its connections.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        if let Ok(admin) = Store::connect(&admin_url).await {
                            let _ = admin
                                .execute_admin(&format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                ))
                                .await;
                            admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// Declares one test per backend for an `async fn(Store)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() {
                let db = $crate::testing::TestDb::sqlite().await;
                super::$name(db.store.clone()).await;
            })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() {
                let Some(db) = $crate::testing::TestDb::postgres().await else { return };
                super::$name(db.store.clone()).await;
            })*
        }
    };
}
