//! The inbox's search document: per conversation, the author's name and
//! handle and every inbound text, lower-cased, one per line. It is written
//! in the same transaction that threads the items it holds, and found
//! through a trigram index (FTS5's `trigram` tokenizer on SQLite, `pg_trgm`
//! on PostgreSQL), so a search does not read every item.
//!
//! What a search means is unchanged by the index: a case-insensitive
//! substring of the document, in which `%`, `_` and `"` are characters like
//! any other. The list (`inbox_list.rs`) walks its own order first and
//! checks each document ([`doc_has`]); the index ([`index_from`]) answers
//! only what that walk does not reach. A query of one or two characters has
//! no trigram to look up; it is answered by a bounded scan of the
//! workspace's [`SHORT_QUERY_SCAN`] most recently active conversations.

use crate::BackendKind;

/// How many of a workspace's most recently active conversations a query
/// shorter than three characters looks through.
pub const SHORT_QUERY_SCAN: i64 = 5_000;

/// The document of a new conversation.
pub(crate) fn new_doc(author_name: &str, author_handle: Option<&str>, text: &str) -> String {
    let mut doc = author_name.to_lowercase();
    doc.push('\n');
    doc.push_str(&author_handle.unwrap_or_default().to_lowercase());
    doc.push_str(&more_doc(text));
    doc
}

/// What one more inbound text adds to a document.
pub(crate) fn more_doc(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 1);
    s.push('\n');
    s.push_str(&text.to_lowercase());
    s
}

/// The statements that write a document: (insert `id, doc`, append `doc`
/// to the row of `id`).
pub(crate) fn write_sql(kind: BackendKind) -> (&'static str, &'static str) {
    match kind {
        BackendKind::Sqlite => (
            "INSERT INTO conversation_search (rowid, doc) VALUES ($1, $2)",
            "UPDATE conversation_search SET doc = doc || $2 WHERE rowid = $1",
        ),
        BackendKind::Postgres => (
            "INSERT INTO conversation_search (conversation_id, doc) VALUES ($1, $2)",
            "UPDATE conversation_search SET doc = doc || $2 WHERE conversation_id = $1",
        ),
    }
}

/// The search condition of a query shorter than three characters on `c`
/// (a conversation of workspace `$1`), with `$?` for the lower-cased
/// query: among the workspace's [`SHORT_QUERY_SCAN`] most recently active
/// conversations, those whose document holds it.
pub(crate) fn short_condition(kind: BackendKind) -> String {
    format!(
        "c.last_at >= COALESCE((SELECT r.last_at FROM conversations r WHERE r.workspace_id = $1 \
         ORDER BY r.last_at DESC, r.id DESC LIMIT 1 OFFSET {}), 0) AND {}",
        SHORT_QUERY_SCAN - 1,
        doc_has(kind)
    )
}

/// Whether the document of `c` holds `$?` (the lower-cased query), read
/// from the document itself: for a walk in list order. A scalar subquery,
/// so that PostgreSQL looks up each row's document by its key instead of
/// hashing every document of every workspace first.
pub(crate) fn doc_has(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::Sqlite => {
            "COALESCE((SELECT instr(s.doc, $?) > 0 FROM conversation_search s WHERE s.rowid = c.id), 0)"
        }
        BackendKind::Postgres => {
            "COALESCE((SELECT strpos(s.doc, $?) > 0 FROM conversation_search s \
             WHERE s.conversation_id = c.id), FALSE)"
        }
    }
}

/// The `FROM` of a query through the trigram index: the conversations `c`
/// whose documents match `$?` (bound to [`index_bind`]), looked up one by
/// one from the index's matches (never by walking the list).
pub(crate) fn index_from(kind: BackendKind) -> &'static str {
    match kind {
        // CROSS JOIN keeps the matches the outer loop.
        BackendKind::Sqlite => {
            "SELECT c.id FROM (SELECT rowid AS id FROM conversation_search \
             WHERE conversation_search MATCH $?) m CROSS JOIN conversations c ON c.id = m.id"
        }
        // The matches first, then each conversation by its key.
        BackendKind::Postgres => {
            "WITH m AS MATERIALIZED (SELECT s.conversation_id AS id FROM conversation_search s \
             WHERE s.doc LIKE $? ESCAPE '\\') \
             SELECT c.id FROM m CROSS JOIN LATERAL \
             (SELECT * FROM conversations k WHERE k.id = m.id OFFSET 0) c"
        }
    }
}

/// What the trigram index is asked for a lower-cased query of three or
/// more characters: a phrase of trigrams (a substring; inside the quotes
/// only a doubled quote is special) on SQLite, a `LIKE` pattern on
/// PostgreSQL.
pub(crate) fn index_bind(kind: BackendKind, q: &str) -> String {
    match kind {
        BackendKind::Sqlite => format!("\"{}\"", q.replace('"', "\"\"")),
        BackendKind::Postgres => crate::inbox::like_pattern(q),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_lower_case_lines() {
        assert_eq!(
            new_doc("Anna É", Some("@Anna"), "Hoi\nDaar"),
            "anna é\n@anna\nhoi\ndaar"
        );
        assert_eq!(new_doc("Bo", None, "x"), "bo\n\nx");
        assert_eq!(more_doc("ÉÉN"), "\néén");
    }

    #[test]
    fn phrases_quote_their_quotes() {
        let b = index_bind(BackendKind::Sqlite, "zeg \"hoi\"");
        assert_eq!(b, "\"zeg \"\"hoi\"\"\"");
        let b = index_bind(BackendKind::Postgres, "50%_a");
        assert_eq!(b, "%50\\%\\_a%");
        assert!(short_condition(BackendKind::Postgres).contains("strpos"));
    }
}
