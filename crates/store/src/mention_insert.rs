//! Storing a batch of mentions in a handful of statements: one INSERT per
//! thousand mentions (and one for the near-copies of mentions earlier in
//! the same batch), one UPDATE of the originals' copy counts, and one
//! INSERT per four thousand (query, mention) links. A statement per
//! mention cost a round trip to the database each, and on SQLite the round
//! trips (a thread woken and put to sleep twice each) took more time than
//! the writing. The statements differ in length from batch to batch, so
//! they are not kept prepared (they would push the store's other
//! statements out of the connection's cache).

use crate::mentions::{CopyOf, NewMention, Stored};
use crate::{BeginWrite, Result, Store, on};
use rustc_hash::FxHashMap;

/// Mentions per INSERT: 17 values each, well under SQLite's 32,766 and
/// PostgreSQL's 65,535 bound values per statement.
const MENTIONS_PER_INSERT: usize = 1_000;
/// Links (or copy counts) per statement: 4 (or 2) values each.
const LINKS_PER_INSERT: usize = 4_000;

/// The mentions of a batch stored in one pass, with the original each
/// copies (`None`: it is an original).
type Pass = Vec<(usize, Option<i64>)>;

impl Store {
    /// Stores a batch in one transaction; a mention whose key is known
    /// already changes nothing, so a batch delivered twice counts once
    /// (and a key twice in one batch is stored once, the first time).
    /// A copy of an earlier mention of the batch that turns out to be
    /// known already is stored as an original.
    pub async fn insert_mentions(&self, batch: &[NewMention], now: i64) -> Result<Vec<Stored>> {
        let mut out = vec![Stored::Known; batch.len()];
        if batch.is_empty() {
            return Ok(out);
        }
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            for second in [false, true] {
                // First the originals and the copies of stored mentions,
                // then the copies of mentions of this batch, whose
                // originals have ids only after the first pass.
                let pass: Pass = batch
                    .iter()
                    .enumerate()
                    .filter_map(|(i, m)| match (second, m.copy_of) {
                        (false, None) => Some((i, None)),
                        (false, Some(CopyOf::Stored(id))) => Some((i, Some(id))),
                        (true, Some(CopyOf::InBatch(j))) => Some((i, match out.get(j) {
                            Some(Stored::New(id) | Stored::Copy(id)) => Some(*id),
                            _ => None,
                        })),
                        _ => None,
                    })
                    .collect();
                for chunk in pass.chunks(MENTIONS_PER_INSERT) {
                    let mut q = sqlx::QueryBuilder::new(
                        "INSERT INTO mentions (workspace_id, source_id, source_kind, key, url, author_id, author_name, \
                         author_handle, reach, text, lang, sentiment, score, fingerprint, copy_of, published_at, stored_at) ");
                    q.push_values(chunk, |mut row, &(i, original)| {
                        let m = &batch[i];
                        row.push_bind(m.workspace_id).push_bind(m.source_id).push_bind(&m.source_kind)
                            .push_bind(&m.key).push_bind(&m.url).push_bind(&m.author_id)
                            .push_bind(&m.author_name).push_bind(&m.author_handle).push_bind(m.reach)
                            .push_bind(&m.text).push_bind(&m.lang).push_bind(&m.sentiment)
                            .push_bind(m.score).push_bind(m.fingerprint).push_bind(original)
                            .push_bind(m.published_at).push_bind(now);
                    });
                    q.push(" ON CONFLICT (workspace_id, key) DO NOTHING RETURNING id, workspace_id, key");
                    let rows: Vec<(i64, i64, String)> =
                        q.build_query_as().persistent(false).fetch_all(&mut *tx).await?;
                    let mut ids: FxHashMap<(i64, &str), i64> =
                        rows.iter().map(|(id, ws, key)| ((*ws, key.as_str()), *id)).collect();
                    for &(i, original) in chunk {
                        let m = &batch[i];
                        // The first of a key in the chunk takes its id; a
                        // repeat is known.
                        out[i] = match (ids.remove(&(m.workspace_id, m.key.as_str())), original) {
                            (None, _) => Stored::Known,
                            (Some(_), Some(o)) => Stored::Copy(o),
                            (Some(id), None) => Stored::New(id),
                        };
                    }
                }
            }
            // The originals' counts, one step per copy stored.
            let mut counts: FxHashMap<i64, i64> = FxHashMap::default();
            for s in &out {
                if let Stored::Copy(o) = s {
                    *counts.entry(*o).or_default() += 1;
                }
            }
            let counts: Vec<(i64, i64)> = counts.into_iter().collect();
            for chunk in counts.chunks(LINKS_PER_INSERT) {
                let mut q = sqlx::QueryBuilder::new("WITH v (id, n) AS (");
                q.push_values(chunk, |mut row, (id, n)| {
                    row.push_bind(*id).push_bind(*n);
                });
                q.push(") UPDATE mentions SET copies = copies + (SELECT v.n FROM v WHERE v.id = mentions.id) \
                        WHERE id IN (SELECT v.id FROM v)");
                q.build().persistent(false).execute(&mut *tx).await?;
            }
            // The queries that found each original (those of the mention's
            // workspace that still exist).
            let links: Vec<(i64, i64, i64, i64)> = batch
                .iter()
                .zip(&out)
                .filter_map(|(m, s)| match s {
                    Stored::New(id) => Some((m, *id)),
                    _ => None,
                })
                .flat_map(|(m, id)| m.query_ids.iter().map(move |q| (*q, id, m.workspace_id, m.published_at)))
                .collect();
            for chunk in links.chunks(LINKS_PER_INSERT) {
                let mut q = sqlx::QueryBuilder::new("WITH v (q, m, ws, at) AS (");
                q.push_values(chunk, |mut row, (query, mention, ws, at)| {
                    row.push_bind(*query).push_bind(*mention).push_bind(*ws).push_bind(*at);
                });
                q.push(") INSERT INTO mention_queries (query_id, mention_id, workspace_id, published_at) \
                        SELECT lq.id, v.m, lq.workspace_id, v.at FROM v \
                        JOIN listening_queries lq ON lq.id = v.q AND lq.workspace_id = v.ws \
                        WHERE true ON CONFLICT DO NOTHING");
                q.build().persistent(false).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(out)
    }
}
