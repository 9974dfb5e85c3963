//! Mentions: the posts listening queries found, stored once per workspace
//! (by key), near-copies kept as copies of the first, with the queries that
//! found each; listed with filters and counted into facets.

use crate::inbox::{Bind, like_pattern};
use crate::{Result, Store, on};

/// A mention to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMention {
    /// Its workspace.
    pub workspace_id: i64,
    /// The source that heard it.
    pub source_id: Option<i64>,
    /// That source's kind.
    pub source_kind: String,
    /// The post's identity across sources (URI or URL).
    pub key: String,
    /// Where it can be read.
    pub url: Option<String>,
    /// The author's id on the source.
    pub author_id: String,
    /// The author's name.
    pub author_name: String,
    /// The author's handle.
    pub author_handle: Option<String>,
    /// The author's followers, where known.
    pub reach: Option<i64>,
    /// The text.
    pub text: String,
    /// Its language.
    pub lang: Option<String>,
    /// `positive`, `negative` or `neutral`.
    pub sentiment: String,
    /// -1.0 ..= 1.0.
    pub score: f64,
    /// Its similarity hash.
    pub fingerprint: i64,
    /// The earlier mention it is a near-copy of.
    pub copy_of: Option<CopyOf>,
    /// The queries that found it.
    pub query_ids: Vec<i64>,
    /// When it was published.
    pub published_at: i64,
}

/// Which mention a near-copy copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyOf {
    /// One stored before.
    Stored(i64),
    /// An earlier one in the same batch (by position).
    InBatch(usize),
}

/// What storing a batch did, per mention in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Stored as a new mention with this id.
    New(i64),
    /// Stored as a copy of this mention (whose count went up).
    Copy(i64),
    /// Known already (the same key): nothing changed.
    Known,
}

/// A stored mention, as listed.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Mention {
    /// Stable id.
    pub id: i64,
    /// Its workspace.
    pub workspace_id: i64,
    /// The source that heard it first.
    pub source_id: Option<i64>,
    /// That source's kind.
    pub source_kind: String,
    /// Where it can be read.
    pub url: Option<String>,
    /// The author's name.
    pub author_name: String,
    /// The author's handle.
    pub author_handle: Option<String>,
    /// The author's followers, where known.
    pub reach: Option<i64>,
    /// The text.
    pub text: String,
    /// Its language.
    pub lang: Option<String>,
    /// `positive`, `negative` or `neutral`.
    pub sentiment: String,
    /// -1.0 ..= 1.0.
    pub score: f64,
    /// How many times it was heard (copies included).
    pub copies: i64,
    /// When it was published.
    pub published_at: i64,
}

/// Which mentions to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MentionFilter {
    /// Words the text or the author contains.
    pub q: Option<String>,
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

/// Counts per value of each facet, for the mentions matching a filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facets {
    /// Per sentiment.
    pub sentiment: Vec<(String, i64)>,
    /// Per language (`und` for unknown).
    pub lang: Vec<(String, i64)>,
    /// Per source kind.
    pub source: Vec<(String, i64)>,
    /// Per query id.
    pub query: Vec<(i64, i64)>,
    /// Per day (start of the UTC day, ms) and sentiment.
    pub days: Vec<(i64, String, i64)>,
}

const MENTION_COLS: &str = "m.id, m.workspace_id, m.source_id, m.source_kind, m.url, m.author_name, \
    m.author_handle, m.reach, m.text, m.lang, m.sentiment, m.score, m.copies, m.published_at";

const DAY_MS: i64 = 86_400_000;

/// The WHERE clause (over `mentions m`) and its binds.
fn filter_sql(workspace_id: i64, f: &MentionFilter) -> (String, Vec<Bind>) {
    let mut sql = String::from("m.workspace_id = $1 AND m.copy_of IS NULL");
    let mut binds = vec![Bind::I(workspace_id)];
    let mut add = |sql: &mut String, clause: &str, b: Bind| {
        binds.push(b);
        sql.push_str(&clause.replace("$?", &format!("${}", binds.len())));
    };
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pat = like_pattern(q);
        add(
            &mut sql,
            " AND (lower(m.text) LIKE $? ESCAPE '\\'",
            Bind::S(pat.clone()),
        );
        add(
            &mut sql,
            " OR lower(m.author_name) LIKE $? ESCAPE '\\')",
            Bind::S(pat),
        );
    }
    if let Some(s) = &f.sentiment {
        add(&mut sql, " AND m.sentiment = $?", Bind::S(s.clone()));
    }
    match f.lang.as_deref() {
        Some("und") => sql.push_str(" AND m.lang IS NULL"),
        Some(l) => add(&mut sql, " AND m.lang = $?", Bind::S(l.to_owned())),
        None => {}
    }
    if let Some(k) = &f.source_kind {
        add(&mut sql, " AND m.source_kind = $?", Bind::S(k.clone()));
    }
    if let Some(q) = f.query_id {
        add(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM mention_queries mq WHERE mq.mention_id = m.id AND mq.query_id = $?)",
            Bind::I(q),
        );
    }
    if let Some(t) = f.since {
        add(&mut sql, " AND m.published_at >= $?", Bind::I(t));
    }
    if let Some(t) = f.until {
        add(&mut sql, " AND m.published_at < $?", Bind::I(t));
    }
    if let Some((at, id)) = f.before {
        add(&mut sql, " AND (m.published_at < $?", Bind::I(at));
        add(&mut sql, " OR (m.published_at = $?", Bind::I(at));
        add(&mut sql, " AND m.id < $?))", Bind::I(id));
    }
    (sql, binds)
}

macro_rules! bound {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                Bind::I(v) => q.bind(*v),
                Bind::S(s) => q.bind(s.as_str()),
            };
        }
        q
    }};
}

impl Store {
    /// The newest `limit` originals stored since `since`, oldest first, as
    /// `(workspace, id, fingerprint)`: what a restarted pipeline folds new
    /// copies into.
    pub async fn recent_fingerprints(
        &self,
        since: i64,
        limit: usize,
    ) -> Result<Vec<(i64, i64, i64)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows: Vec<(i64, i64, i64)> = on!(self, p => sqlx::query_as(
            "SELECT workspace_id, id, fingerprint FROM mentions WHERE stored_at >= $1 AND copy_of IS NULL \
             ORDER BY id DESC LIMIT $2")
            .bind(since).bind(limit).fetch_all(p).await)?;
        rows.reverse();
        Ok(rows)
    }

    /// A page of a workspace's mentions, newest first.
    pub async fn mentions(
        &self,
        workspace_id: i64,
        f: &MentionFilter,
        limit: i64,
    ) -> Result<Vec<Mention>> {
        let (wh, binds) = filter_sql(workspace_id, f);
        let sql = format!(
            "SELECT {MENTION_COLS} FROM mentions m WHERE {wh} ORDER BY m.published_at DESC, m.id DESC LIMIT {}",
            limit.clamp(1, 500)
        );
        Ok(on!(self, p => bound!(sqlx::query_as::<_, Mention>(&sql), &binds).fetch_all(p).await)?)
    }

    /// The queries that found each of these mentions, as `(mention, query)`.
    pub async fn mention_query_ids(&self, ids: &[i64]) -> Result<Vec<(i64, i64)>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = format!(
            "SELECT mention_id, query_id FROM mention_queries WHERE mention_id IN ({list}) ORDER BY mention_id, query_id"
        );
        Ok(on!(self, p => sqlx::query_as(&sql).fetch_all(p).await)?)
    }

    /// Counts per facet of the mentions matching `f` (copies counted as
    /// one, as the list shows them).
    pub async fn mention_facets(&self, workspace_id: i64, f: &MentionFilter) -> Result<Facets> {
        let (wh, binds) = filter_sql(workspace_id, f);
        let by = |col: &str| {
            format!(
                "SELECT {col}, COUNT(*) FROM mentions m WHERE {wh} GROUP BY 1 ORDER BY 2 DESC, 1"
            )
        };
        let sentiment_sql = by("m.sentiment");
        let lang_sql = by("COALESCE(m.lang, 'und')");
        let source_sql = by("m.source_kind");
        let query_sql = format!(
            "SELECT mq.query_id, COUNT(*) FROM mentions m JOIN mention_queries mq ON mq.mention_id = m.id \
             WHERE {wh} GROUP BY 1 ORDER BY 2 DESC, 1"
        );
        let day_sql = format!(
            "SELECT (m.published_at / {DAY_MS}) * {DAY_MS} AS day, m.sentiment, COUNT(*) FROM mentions m \
             WHERE {wh} GROUP BY 1, 2 ORDER BY 1, 2"
        );
        let mut out = Facets::default();
        on!(self, p => {
            out.sentiment = bound!(sqlx::query_as(&sentiment_sql), &binds).fetch_all(p).await?;
            out.lang = bound!(sqlx::query_as(&lang_sql), &binds).fetch_all(p).await?;
            out.source = bound!(sqlx::query_as(&source_sql), &binds).fetch_all(p).await?;
            out.query = bound!(sqlx::query_as(&query_sql), &binds).fetch_all(p).await?;
            out.days = bound!(sqlx::query_as(&day_sql), &binds).fetch_all(p).await?;
        });
        Ok(out)
    }
}
