//! For `dialoog bench listening` only (SQLite): an FTS5 table over the
//! stored mentions, and the same search as the index answers (all words,
//! newest first, facets), so both can be timed side by side.

use crate::{Result, Store, StoreError};

/// Facet rows `(sentiment, lang, source kind, count)` and days.
pub type FtsFacets = (
    Vec<(String, Option<String>, String, i64)>,
    Vec<(i64, String, i64)>,
);

impl Store {
    /// Builds the FTS5 table `bench_mentions_fts` over the mentions' texts
    /// (SQLite only; refused on PostgreSQL).
    pub async fn bench_fts_build(&self) -> Result<()> {
        let crate::Backend::Sqlite(p) = &self.backend else {
            return Err(StoreError::Conflict);
        };
        sqlx::raw_sql(
            "DROP TABLE IF EXISTS bench_mentions_fts; \
             CREATE VIRTUAL TABLE bench_mentions_fts USING fts5(text, content='mentions', content_rowid='id', \
             tokenize='unicode61 remove_diacritics 2'); \
             INSERT INTO bench_mentions_fts(bench_mentions_fts) VALUES('rebuild');",
        )
        .execute(p)
        .await?;
        Ok(())
    }

    /// The newest `limit` ids of a workspace's originals matching the FTS5
    /// `query`, and the facets of all matches.
    pub async fn bench_fts_search(
        &self,
        workspace_id: i64,
        query: &str,
        limit: i64,
    ) -> Result<(Vec<i64>, FtsFacets)> {
        let crate::Backend::Sqlite(p) = &self.backend else {
            return Err(StoreError::Conflict);
        };
        // CROSS JOIN keeps the FTS5 matches as the outer loop (SQLite
        // does not reorder it): each match is looked up by its id, instead
        // of the workspace's mentions being walked and each one matched.
        let from = "FROM bench_mentions_fts f CROSS JOIN mentions m ON m.id = f.rowid \
                    WHERE bench_mentions_fts MATCH $1 AND m.workspace_id = $2 AND m.copy_of IS NULL";
        let ids: Vec<i64> = sqlx::query_scalar(&format!(
            "SELECT m.id {from} ORDER BY m.published_at DESC, m.id DESC LIMIT $3"
        ))
        .bind(query)
        .bind(workspace_id)
        .bind(limit)
        .fetch_all(p)
        .await?;
        let groups = sqlx::query_as(&format!(
            "SELECT m.sentiment, m.lang, m.source_kind, COUNT(*) {from} GROUP BY 1, 2, 3"
        ))
        .bind(query)
        .bind(workspace_id)
        .fetch_all(p)
        .await?;
        let days = sqlx::query_as(&format!(
            "SELECT (m.published_at / 86400000) * 86400000, m.sentiment, COUNT(*) {from} GROUP BY 1, 2"
        ))
        .bind(query)
        .bind(workspace_id)
        .fetch_all(p)
        .await?;
        Ok((ids, (groups, days)))
    }
}
