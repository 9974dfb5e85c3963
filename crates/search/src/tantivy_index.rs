//! The tantivy implementation of [`MentionSearch`].
//!
//! Each mention's text goes into a plain field (no stemming) and into the
//! stemmed field of its language (Dutch or English), so a search for
//! `fiets` finds `fietsen` in Dutch mentions and `run` finds `running` in
//! English ones, while an unknown language still matches its exact words.
//! A search's words are looked for in all three fields (any form counts);
//! every word must occur. The workspace is always a required term, so
//! nothing of another workspace can match, whatever the words say.
//!
//! One writer per index folder (tantivy holds a lock); searchers reload on
//! each commit. A writer that failed (a full disk) is dropped and made
//! again on the next write, and whatever was not committed is simply added
//! again from the store: the commit records the highest store id it holds.

use crate::analysis::{self, DUTCH, ENGLISH, PLAIN};
use crate::collect::{PageAndFacets, field};
use crate::{FacetCounts, Found, IndexDoc, MentionSearch, Result, SearchError, SearchFilter};
use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, RangeQuery, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// Bumped when the schema or the analysis changes: a folder of another
/// version is set aside and the index built again from the store.
const VERSION: &str = "mentions-v1";
/// The writer's memory budget.
const WRITER_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    workspace: Field,
    published: Field,
    sentiment: Field,
    lang: Field,
    source: Field,
    queries: Field,
    plain: Field,
    nl: Field,
    en: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |tokenizer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
    };
    let f = Fields {
        id: b.add_i64_field(field::ID, INDEXED | FAST),
        workspace: b.add_i64_field(field::WORKSPACE, INDEXED),
        published: b.add_i64_field(field::PUBLISHED, INDEXED | FAST),
        sentiment: b.add_text_field(field::SENTIMENT, STRING | FAST),
        lang: b.add_text_field(field::LANG, STRING | FAST),
        source: b.add_text_field(field::SOURCE, STRING | FAST),
        queries: b.add_i64_field(field::QUERIES, INDEXED | FAST),
        plain: b.add_text_field("text", text(PLAIN)),
        nl: b.add_text_field("text_nl", text(DUTCH)),
        en: b.add_text_field("text_en", text(ENGLISH)),
    };
    (b.build(), f)
}

/// A tantivy index of mentions in a folder of its own.
pub struct TantivyIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<Option<IndexWriter>>,
    fields: Fields,
    parser: QueryParser,
    last_id: Mutex<i64>,
    /// The highest id ever added (committed or not): a mention above it
    /// cannot be in the index, so adding it needs no delete first.
    /// Deleting the id of each new mention made every commit look each
    /// one up in every segment, which grew slower as the index grew.
    added: Mutex<i64>,
}

impl std::fmt::Debug for TantivyIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TantivyIndex")
            .field("last_id", &self.last_id())
            .finish_non_exhaustive()
    }
}

impl TantivyIndex {
    /// Opens the index under `dir` (made if missing). An index that cannot
    /// be opened (another version, damaged files) is moved aside and made
    /// anew: it is derived data, caught up from the store.
    pub fn open(dir: &Path) -> Result<Self> {
        let path = dir.join(VERSION);
        std::fs::create_dir_all(&path)?;
        let (schema, fields) = schema();
        let index = match Self::open_in(&path, &schema) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "search index set aside and rebuilt");
                let aside = dir.join(format!("{VERSION}.broken"));
                let _ = std::fs::remove_dir_all(&aside);
                std::fs::rename(&path, &aside)?;
                std::fs::create_dir_all(&path)?;
                Self::open_in(&path, &schema)?
            }
        };
        Self::with_index(index, fields)
    }

    /// An index in memory only (tests).
    pub fn in_memory() -> Result<Self> {
        let (schema, fields) = schema();
        Self::with_index(Index::create_in_ram(schema), fields)
    }

    fn open_in(path: &Path, schema: &Schema) -> Result<Index> {
        let dir = MmapDirectory::open(path).map_err(tantivy::TantivyError::from)?;
        Ok(Index::open_or_create(dir, schema.clone())?)
    }

    fn with_index(index: Index, fields: Fields) -> Result<Self> {
        analysis::register(index.tokenizers())?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let last_id = index
            .load_metas()?
            .payload
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(0);
        let mut parser = QueryParser::for_index(&index, vec![fields.plain, fields.nl, fields.en]);
        parser.set_conjunction_by_default();
        Ok(Self {
            index,
            reader,
            writer: Mutex::new(None),
            fields,
            parser,
            last_id: Mutex::new(last_id),
            added: Mutex::new(last_id),
        })
    }

    /// Runs `f` with the writer, making it when there is none; a failure
    /// drops the writer (and what it had not committed).
    fn with_writer<T>(&self, f: impl FnOnce(&mut IndexWriter) -> Result<T>) -> Result<T> {
        let mut guard = self.writer.lock().map_err(|_| SearchError::Unavailable)?;
        if guard.is_none() {
            let w: IndexWriter = self.index.writer_with_num_threads(1, WRITER_BYTES)?;
            *guard = Some(w);
        }
        let Some(w) = guard.as_mut() else {
            return Err(SearchError::Unavailable);
        };
        let out = f(w);
        if out.is_err() {
            // A writer that failed half-way is not trusted again; the next
            // write makes a new one from the last commit.
            if let Some(mut w) = guard.take() {
                let _ = w.rollback();
            }
        }
        out
    }

    fn filter_query(&self, ws: i64, f: &SearchFilter) -> Box<dyn Query> {
        let fl = self.fields;
        let term =
            |t: Term| -> Box<dyn Query> { Box::new(TermQuery::new(t, IndexRecordOption::Basic)) };
        let mut must: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, term(Term::from_field_i64(fl.workspace, ws)))];
        let words = f.q.trim();
        if !words.is_empty() {
            // Syntax the parser cannot read is taken as plain words.
            let (q, _errors) = self.parser.parse_query_lenient(words);
            must.push((Occur::Must, q));
        }
        if let Some(s) = &f.sentiment {
            must.push((Occur::Must, term(Term::from_field_text(fl.sentiment, s))));
        }
        if let Some(l) = &f.lang {
            must.push((Occur::Must, term(Term::from_field_text(fl.lang, l))));
        }
        if let Some(k) = &f.source_kind {
            must.push((Occur::Must, term(Term::from_field_text(fl.source, k))));
        }
        if let Some(q) = f.query_id {
            must.push((Occur::Must, term(Term::from_field_i64(fl.queries, q))));
        }
        let upper = match (f.until, f.before.map(|b| b.0)) {
            (Some(u), Some(b)) => Bound::Excluded(u.min(b.saturating_add(1))),
            (Some(u), None) => Bound::Excluded(u),
            (None, Some(b)) => Bound::Included(b),
            (None, None) => Bound::Unbounded,
        };
        let lower = f.since.map_or(Bound::Unbounded, Bound::Included);
        if !matches!((&lower, &upper), (Bound::Unbounded, Bound::Unbounded)) {
            let t = |v: i64| Term::from_field_i64(fl.published, v);
            must.push((
                Occur::Must,
                Box::new(RangeQuery::new(lower.map(t), upper.map(t))),
            ));
        }
        Box::new(BooleanQuery::new(must))
    }

    fn document(&self, d: &IndexDoc) -> TantivyDocument {
        let fl = self.fields;
        let mut doc = TantivyDocument::new();
        doc.add_i64(fl.id, d.id);
        doc.add_i64(fl.workspace, d.workspace_id);
        doc.add_i64(fl.published, d.published_at);
        doc.add_text(fl.sentiment, &d.sentiment);
        doc.add_text(fl.lang, d.lang.as_deref().unwrap_or("und"));
        doc.add_text(fl.source, &d.source_kind);
        for q in &d.query_ids {
            doc.add_i64(fl.queries, *q);
        }
        doc.add_text(fl.plain, &d.text);
        doc.add_text(fl.plain, &d.author);
        match d.lang.as_deref() {
            Some("nl") => doc.add_text(fl.nl, &d.text),
            Some("en") => doc.add_text(fl.en, &d.text),
            _ => {}
        }
        doc
    }
}

impl MentionSearch for TantivyIndex {
    fn search(&self, ws: i64, f: &SearchFilter, limit: usize, facets: bool) -> Result<Found> {
        let query = self.filter_query(ws, f);
        let searcher = self.reader.searcher();
        let (ids, counts): (Vec<i64>, FacetCounts) = searcher.search(
            &*query,
            &PageAndFacets {
                limit,
                before: f.before,
                facets,
            },
        )?;
        Ok(Found {
            ids,
            facets: facets.then_some(counts),
        })
    }

    fn add(&self, docs: &[IndexDoc]) -> Result<()> {
        let mut added = self.added.lock().map_err(|_| SearchError::Unavailable)?;
        self.with_writer(|w| {
            for d in docs {
                if d.id <= *added {
                    w.delete_term(Term::from_field_i64(self.fields.id, d.id));
                }
                w.add_document(self.document(d))?;
                *added = (*added).max(d.id);
            }
            Ok(())
        })
    }

    fn remove_older(&self, ws: i64, before: i64) -> Result<()> {
        let fl = self.fields;
        let q = BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_i64(fl.workspace, ws),
                    IndexRecordOption::Basic,
                )) as Box<dyn Query>,
            ),
            (
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Unbounded,
                    Bound::Excluded(Term::from_field_i64(fl.published, before)),
                )),
            ),
        ]);
        self.with_writer(|w| {
            w.delete_query(Box::new(q))?;
            Ok(())
        })
    }

    fn commit(&self, last_id: i64) -> Result<()> {
        let mut last = self.last_id.lock().map_err(|_| SearchError::Unavailable)?;
        let keep = last_id.max(*last);
        self.with_writer(|w| {
            let mut p = w.prepare_commit()?;
            p.set_payload(&keep.to_string());
            p.commit()?;
            Ok(())
        })?;
        *last = keep;
        self.reader.reload()?;
        Ok(())
    }

    fn last_id(&self) -> i64 {
        self.last_id.lock().map_or(0, |l| *l)
    }
}
