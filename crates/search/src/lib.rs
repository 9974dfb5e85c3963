//! Full-text search over mentions, behind one small trait ([`MentionSearch`])
//! so the product does not depend on how it is done. The implementation is a
//! tantivy index ([`TantivyIndex`]): Dutch and English analysis (Snowball
//! stemmers, Dutch compounds split on the parts we know), and the filter
//! fields (workspace, time, sentiment, language, source kind, queries) as
//! fast fields, so one pass over the matches gives a page and its facets.
//!
//! The index is derived data: the store holds every mention, the index is
//! told the highest mention id it holds (kept in the commit itself), and an
//! index that is lost, damaged or behind is caught up from the store.

mod analysis;
mod collect;
mod tantivy_index;
#[cfg(test)]
mod tests;

pub use tantivy_index::TantivyIndex;

/// Errors of the index (the store's mentions are never at stake).
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// tantivy failed (a full disk, a damaged file, a held lock, …).
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The index folder could not be made or read.
    #[error("search index folder: {0}")]
    Io(#[from] std::io::Error),
    /// The writer failed before and is being made again.
    #[error("search index writer unavailable")]
    Unavailable,
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, SearchError>;

/// A mention as the index takes it (originals only: a near-copy is counted
/// on its original and never listed on its own).
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDoc {
    /// The mention's id in the store.
    pub id: i64,
    /// Its workspace.
    pub workspace_id: i64,
    /// The text.
    pub text: String,
    /// The author's name and handle, searchable like the text.
    pub author: String,
    /// Its language code (`None`: unknown).
    pub lang: Option<String>,
    /// `positive`, `negative` or `neutral`.
    pub sentiment: String,
    /// The stored source kind.
    pub source_kind: String,
    /// The queries that found it.
    pub query_ids: Vec<i64>,
    /// When it was published (ms).
    pub published_at: i64,
}

/// What to find in one workspace: the words and the same filters as the
/// mentions list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchFilter {
    /// The words (all must occur, in any of their forms); `"a phrase"` and
    /// `-word` work too.
    pub q: String,
    /// Only this sentiment.
    pub sentiment: Option<String>,
    /// Only this language (`und` for unknown).
    pub lang: Option<String>,
    /// Only mentions this query found.
    pub query_id: Option<i64>,
    /// Only this kind of source.
    pub source_kind: Option<String>,
    /// Published at or after.
    pub since: Option<i64>,
    /// Published before.
    pub until: Option<i64>,
    /// Older than this `(published_at, id)`: the next page.
    pub before: Option<(i64, i64)>,
}

/// Counts per value of each facet (the shape of the store's facets).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FacetCounts {
    /// Per sentiment, most first.
    pub sentiment: Vec<(String, i64)>,
    /// Per language (`und` for unknown), most first.
    pub lang: Vec<(String, i64)>,
    /// Per source kind, most first.
    pub source: Vec<(String, i64)>,
    /// Per query id, most first.
    pub query: Vec<(i64, i64)>,
    /// Per day (start of the UTC day, ms) and sentiment, in order.
    pub days: Vec<(i64, String, i64)>,
}

/// What a search found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    /// Mention ids, newest first (`published_at`, then id), at most the
    /// limit asked for.
    pub ids: Vec<i64>,
    /// The facets of every match (when asked for).
    pub facets: Option<FacetCounts>,
}

/// Full-text search over mentions. Writes are buffered until
/// [`MentionSearch::commit`]; searches see the last commit.
pub trait MentionSearch: Send + Sync + std::fmt::Debug {
    /// Finds mentions of one workspace, newest first.
    fn search(
        &self,
        workspace_id: i64,
        f: &SearchFilter,
        limit: usize,
        facets: bool,
    ) -> Result<Found>;
    /// Adds mentions, replacing any with the same id.
    fn add(&self, docs: &[IndexDoc]) -> Result<()>;
    /// Removes a workspace's mentions published before `before`.
    fn remove_older(&self, workspace_id: i64, before: i64) -> Result<()>;
    /// Makes the changes searchable, recording `last_id` as the highest
    /// store id the index now holds.
    fn commit(&self, last_id: i64) -> Result<()>;
    /// The highest store id of the last commit (0 for a new index).
    fn last_id(&self) -> i64;
}
