//! Storing a batch of mentions in a handful of statements: multi-row
//! INSERTs of the mentions (first the originals and the copies of stored
//! mentions, then the copies of mentions earlier in the same batch), one
//! UPDATE of the originals' copy counts, and multi-row INSERTs of the
//! (query, mention) links. A statement per mention cost a round trip to the
//! database each, and on SQLite the round trips (a thread woken and put to
//! sleep twice each) took more time than the writing.
//!
//! Rows go in chunks whose sizes are powers of two up to a bound, so there
//! are few distinct statements and each stays prepared on its connection:
//! parsing a statement of thousands of values anew for every batch cost
//! about as much as running it.

use crate::mentions::{CopyOf, NewMention, Stored};
use crate::{BeginWrite, Result, Store, on};
use rustc_hash::FxHashMap;

/// The most mentions per INSERT (17 values each).
const MENTIONS_PER_INSERT: usize = 64;
/// The most links (4 values each) or copy counts (2) per statement.
const LINKS_PER_INSERT: usize = 256;

/// `rows` in chunks of the largest power of two that fits, up to `max`.
fn chunks<T>(mut rows: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if rows.is_empty() {
            return None;
        }
        let n = max.min(1 << rows.len().ilog2());
        let (chunk, rest) = rows.split_at(n);
        rows = rest;
        Some(chunk)
    })
}

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
                for chunk in chunks(&pass, MENTIONS_PER_INSERT) {
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
                        q.build_query_as().fetch_all(&mut *tx).await?;
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
            for chunk in chunks(&counts, LINKS_PER_INSERT) {
                let mut q = sqlx::QueryBuilder::new("WITH v (id, n) AS (");
                q.push_values(chunk, |mut row, (id, n)| {
                    row.push_bind(*id).push_bind(*n);
                });
                q.push(") UPDATE mentions SET copies = copies + (SELECT v.n FROM v WHERE v.id = mentions.id) \
                        WHERE id IN (SELECT v.id FROM v)");
                q.build().execute(&mut *tx).await?;
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
            for chunk in chunks(&links, LINKS_PER_INSERT) {
                let mut q = sqlx::QueryBuilder::new("WITH v (q, m, ws, at) AS (");
                q.push_values(chunk, |mut row, (query, mention, ws, at)| {
                    row.push_bind(*query).push_bind(*mention).push_bind(*ws).push_bind(*at);
                });
                q.push(") INSERT INTO mention_queries (query_id, mention_id, workspace_id, published_at) \
                        SELECT lq.id, v.m, lq.workspace_id, v.at FROM v \
                        JOIN listening_queries lq ON lq.id = v.q AND lq.workspace_id = v.ws \
                        WHERE true ON CONFLICT DO NOTHING");
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::chunks;

    #[test]
    fn chunks_are_powers_of_two_up_to_the_bound() {
        let rows: Vec<u32> = (0..170).collect();
        let sizes: Vec<usize> = chunks(&rows, 64).map(<[u32]>::len).collect();
        assert_eq!(sizes, [64, 64, 32, 8, 2]);
        let again: Vec<u32> = chunks(&rows, 64).flatten().copied().collect();
        assert_eq!(again, rows, "every row once, in order");
        assert_eq!(chunks(&rows[..1], 64).count(), 1);
        assert_eq!(chunks::<u32>(&[], 64).count(), 0);
    }
}
