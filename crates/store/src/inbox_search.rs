//! The inbox's search document: per conversation, the author's name and
//! handle and every inbound text, lower-cased, one per line. It is written
//! in the same transaction that threads the items it holds, and found
//! through a trigram index (FTS5's `trigram` tokenizer on SQLite, `pg_trgm`
//! on PostgreSQL), so a search does not read every item.
//!
//! What a search means is unchanged by the index: a case-insensitive
//! substring of the document, in which `%`, `_` and `"` are characters like
//! any other. A query of one or two characters has no trigram to look up;
//! it is answered by a bounded scan of the workspace's
//! [`SHORT_QUERY_SCAN`] most recently active conversations.

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

/// The list's search condition on `c` (a conversation of workspace `$1`)
/// with `$?` for its one bound string, and that string.
pub(crate) fn condition(kind: BackendKind, q: &str) -> (String, String) {
    let q = q.to_lowercase();
    if q.chars().count() < 3 {
        let (key, find) = match kind {
            BackendKind::Sqlite => ("rowid", "instr(s.doc, $?) > 0"),
            BackendKind::Postgres => ("conversation_id", "strpos(s.doc, $?) > 0"),
        };
        let recent = format!(
            "c.last_at >= COALESCE((SELECT r.last_at FROM conversations r WHERE r.workspace_id = $1 \
             ORDER BY r.last_at DESC, r.id DESC LIMIT 1 OFFSET {}), 0)",
            SHORT_QUERY_SCAN - 1
        );
        return (
            format!(
                "{recent} AND EXISTS (SELECT 1 FROM conversation_search s WHERE s.{key} = c.id AND {find})"
            ),
            q,
        );
    }
    match kind {
        // A phrase of trigrams is a substring; inside the quotes nothing
        // but a doubled quote is special.
        BackendKind::Sqlite => (
            "c.id IN (SELECT rowid FROM conversation_search WHERE conversation_search MATCH $?)"
                .into(),
            format!("\"{}\"", q.replace('"', "\"\"")),
        ),
        BackendKind::Postgres => (
            "c.id IN (SELECT s.conversation_id FROM conversation_search s \
             WHERE s.doc LIKE $? ESCAPE '\\')"
                .into(),
            crate::inbox::like_pattern(&q),
        ),
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
        let (_, b) = condition(BackendKind::Sqlite, "Zeg \"hoi\"");
        assert_eq!(b, "\"zeg \"\"hoi\"\"\"");
        let (_, b) = condition(BackendKind::Postgres, "50%_a");
        assert_eq!(b, "%50\\%\\_a%");
        let (c, b) = condition(BackendKind::Postgres, "%");
        assert!(c.contains("strpos"));
        assert_eq!(b, "%");
    }
}
