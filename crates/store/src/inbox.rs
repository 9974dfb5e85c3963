//! The webcare inbox: inbound items threaded into conversations, and what
//! the list shows of them and filters by (the list's queries are in
//! `inbox_list.rs`).
//!
//! Threading follows each network's meaning, in this order: an item that
//! answers an item we have joins that item's conversation; one that answers
//! a reply of ours joins the conversation the reply was in; otherwise items
//! that share the network's thread (a post's comments, an e-mail's
//! references, a Bluesky root, a direct-message partner) share one
//! conversation per channel. Threading runs after the items are stored, in
//! its own transaction, so an item is never lost to a threading failure: it
//! stays unthreaded and the next sync threads it. The conversation's search
//! document (`inbox_search.rs`) grows in that same transaction.

use crate::BeginWrite;
use crate::{Result, Store, on};

/// A conversation as the inbox lists it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Conversation {
    /// Stable id.
    pub id: i64,
    /// Its workspace.
    pub workspace_id: i64,
    /// The channel it came through (replies go out through it).
    pub channel_id: i64,
    /// The channel's name.
    pub channel_name: String,
    /// The channel's network.
    pub network: String,
    /// `comment`, `mention`, `direct_message`, `email` or `review`.
    pub kind: String,
    /// The network's thread it stands for.
    pub thread_key: String,
    /// Our post it is under, where there is one.
    pub post_id: Option<i64>,
    /// Who started it: id on the network.
    pub author_id: String,
    /// Who started it: display name.
    pub author_name: String,
    /// Who started it: handle.
    pub author_handle: Option<String>,
    /// `open`, `pending` or `resolved`.
    pub status: String,
    /// Who answers it.
    pub assignee_id: Option<i64>,
    /// That person's name.
    pub assignee_name: Option<String>,
    /// Out of the open list until then.
    pub snoozed_until: Option<i64>,
    /// The latest inbound text, shortened.
    pub preview: String,
    /// The latest known language.
    pub lang: Option<String>,
    /// The latest inbound item's sentiment.
    pub sentiment: Option<String>,
    /// Inbound items in it.
    pub messages: i64,
    /// Since when a customer waits for an answer (`None`: answered).
    pub waiting_since: Option<i64>,
    /// The latest inbound item's time.
    pub last_inbound_at: i64,
    /// The latest activity (inbound or a reply).
    pub last_at: i64,
    /// When we first answered.
    pub first_response_at: Option<i64>,
    /// When it was resolved.
    pub resolved_at: Option<i64>,
    /// Its first item's time.
    pub created_at: i64,
    /// When anything about it last changed.
    pub updated_at: i64,
}

pub(crate) const CONV_SELECT: &str = "SELECT c.id, c.workspace_id, c.channel_id, ch.name AS channel_name, \
     ch.network, c.kind, c.thread_key, c.post_id, c.author_id, c.author_name, c.author_handle, c.status, \
     c.assignee_id, u.name AS assignee_name, c.snoozed_until, c.preview, c.lang, c.sentiment, c.messages, \
     c.waiting_since, c.last_inbound_at, c.last_at, c.first_response_at, c.resolved_at, c.created_at, \
     c.updated_at FROM conversations c JOIN channels ch ON ch.id = c.channel_id \
     LEFT JOIN users u ON u.id = c.assignee_id";

/// Whose conversations to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// Assigned to this person.
    User(i64),
    /// Assigned to nobody.
    Nobody,
}

/// The inbox list's filters; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InboxFilter {
    /// `open` (not snoozed), `pending`, `resolved`, `snoozed`, or `None`
    /// for all.
    pub status: Option<String>,
    /// One channel.
    pub channel_id: Option<i64>,
    /// One kind (`comment`, `mention`, …).
    pub kind: Option<String>,
    /// One assignee, or nobody.
    pub assignee: Option<AssigneeFilter>,
    /// `positive`, `negative` or `neutral`.
    pub sentiment: Option<String>,
    /// A language code.
    pub lang: Option<String>,
    /// A tag.
    pub tag: Option<String>,
    /// Words in an item's text or the author's name (case-insensitive).
    pub q: Option<String>,
    /// Continue after this (last_at, id): the previous page's last row.
    pub after: Option<(i64, i64)>,
}

/// A value bound to a query built at run time.
#[derive(Clone)]
pub(crate) enum Bind {
    /// A number.
    I(i64),
    /// A text.
    S(String),
}

/// The shortest preview shown in the list.
const PREVIEW_CHARS: usize = 200;

pub(crate) fn preview(text: &str) -> String {
    let flat: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(PREVIEW_CHARS + 1)
        .collect();
    if flat.chars().count() > PREVIEW_CHARS {
        let mut s: String = flat.chars().take(PREVIEW_CHARS).collect();
        s.push('…');
        s
    } else {
        flat
    }
}

pub(crate) fn like_pattern(q: &str) -> String {
    let mut out = String::from("%");
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[derive(sqlx::FromRow)]
struct Unthreaded {
    id: i64,
    kind: String,
    external_id: String,
    author_id: String,
    author_name: String,
    author_handle: Option<String>,
    thread_ref: Option<String>,
    in_reply_to: Option<String>,
    text: String,
    published_at: Option<i64>,
    fetched_at: i64,
    lang: Option<String>,
    sentiment: Option<String>,
}

/// Items threaded per transaction.
const THREAD_BATCH: i64 = 500;

impl Store {
    /// Threads a channel's unthreaded items into conversations (new ones,
    /// or the ones they belong to, which open again). Returns how many
    /// items were threaded.
    pub async fn thread_items(&self, channel_id: i64, now: i64) -> Result<u64> {
        let mut total = 0;
        loop {
            let n = self.thread_batch(channel_id, now).await?;
            total += n;
            if n < THREAD_BATCH as u64 {
                break;
            }
        }
        // New conversations' authors, as contacts.
        while self.link_identities(channel_id, now).await? > 0 {}
        Ok(total)
    }

    async fn thread_batch(&self, channel_id: i64, now: i64) -> Result<u64> {
        let mut done = 0;
        let (insert_doc, append_doc) = crate::inbox_search::write_sql(self.kind());
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let ws: i64 = sqlx::query_scalar("SELECT workspace_id FROM channels WHERE id = $1")
                .bind(channel_id).fetch_one(&mut *tx).await?;
            let items: Vec<Unthreaded> = sqlx::query_as(
                "SELECT id, kind, external_id, author_id, author_name, author_handle, thread_ref, in_reply_to, \
                 text, published_at, fetched_at, lang, sentiment FROM inbound_items \
                 WHERE channel_id = $1 AND conversation_id IS NULL AND kind <> 'post' ORDER BY id LIMIT $2")
                .bind(channel_id).bind(THREAD_BATCH).fetch_all(&mut *tx).await?;
            for it in items {
                let at = it.published_at.filter(|t| *t <= now).unwrap_or(it.fetched_at);
                let mut conv: Option<i64> = None;
                if let Some(parent) = &it.in_reply_to {
                    conv = sqlx::query_scalar(
                        "SELECT conversation_id FROM inbound_items WHERE channel_id = $1 AND external_id = $2 \
                         AND conversation_id IS NOT NULL")
                        .bind(channel_id).bind(parent).fetch_optional(&mut *tx).await?.flatten();
                    if conv.is_none() {
                        conv = sqlx::query_scalar(
                            "SELECT e.conversation_id FROM conversation_entries e \
                             JOIN conversations c ON c.id = e.conversation_id \
                             WHERE c.channel_id = $1 AND e.remote_id = $2 LIMIT 1")
                            .bind(channel_id).bind(parent).fetch_optional(&mut *tx).await?;
                    }
                }
                let key = it.thread_ref.clone().unwrap_or_else(|| it.external_id.clone());
                if conv.is_none() {
                    conv = sqlx::query_scalar("SELECT id FROM conversations WHERE channel_id = $1 AND thread_key = $2")
                        .bind(channel_id).bind(&key).fetch_optional(&mut *tx).await?;
                }
                let text = preview(&it.text);
                let id = match conv {
                    Some(id) => {
                        sqlx::query(
                            "UPDATE conversations SET messages = messages + 1, \
                             preview = CASE WHEN $2 >= last_inbound_at THEN $3 ELSE preview END, \
                             lang = CASE WHEN $2 >= last_inbound_at AND $4 IS NOT NULL THEN $4 ELSE lang END, \
                             sentiment = CASE WHEN $2 >= last_inbound_at AND $5 IS NOT NULL THEN $5 ELSE sentiment END, \
                             last_inbound_at = CASE WHEN $2 > last_inbound_at THEN $2 ELSE last_inbound_at END, \
                             last_at = CASE WHEN $2 > last_at THEN $2 ELSE last_at END, \
                             waiting_since = COALESCE(waiting_since, $2), \
                             status = 'open', resolved_at = NULL, snoozed_until = NULL, updated_at = $6 \
                             WHERE id = $1")
                            .bind(id).bind(at).bind(&text).bind(&it.lang).bind(&it.sentiment).bind(now)
                            .execute(&mut *tx).await?;
                        sqlx::query(append_doc).bind(id).bind(crate::inbox_search::more_doc(&it.text))
                            .execute(&mut *tx).await?;
                        id
                    }
                    None => {
                        let mut post_id: Option<i64> = None;
                        for remote in [it.in_reply_to.as_deref(), it.thread_ref.as_deref()].into_iter().flatten() {
                            post_id = sqlx::query_scalar(
                                "SELECT post_id FROM post_targets WHERE channel_id = $1 AND remote_id = $2 LIMIT 1")
                                .bind(channel_id).bind(remote).fetch_optional(&mut *tx).await?;
                            if post_id.is_some() {
                                break;
                            }
                        }
                        // A mention that answers our post is a comment under it.
                        let kind = if post_id.is_some() && it.kind == "mention" { "comment" } else { it.kind.as_str() };
                        let id: i64 = sqlx::query_scalar(
                            "INSERT INTO conversations (workspace_id, channel_id, kind, thread_key, post_id, author_id, \
                             author_name, author_handle, preview, lang, sentiment, messages, waiting_since, \
                             last_inbound_at, last_at, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $12, $12, $12, $13) RETURNING id")
                            .bind(ws).bind(channel_id).bind(kind).bind(&key).bind(post_id).bind(&it.author_id)
                            .bind(&it.author_name).bind(&it.author_handle).bind(&text).bind(&it.lang)
                            .bind(&it.sentiment).bind(at).bind(now)
                            .fetch_one(&mut *tx).await?;
                        let doc = crate::inbox_search::new_doc(&it.author_name, it.author_handle.as_deref(), &it.text);
                        sqlx::query(insert_doc).bind(id).bind(doc).execute(&mut *tx).await?;
                        id
                    }
                };
                sqlx::query("UPDATE inbound_items SET conversation_id = $1 WHERE id = $2")
                    .bind(id).bind(it.id).execute(&mut *tx).await?;
                done += 1;
            }
            tx.commit().await?;
        });
        Ok(done)
    }

    /// One conversation of a workspace.
    pub async fn conversation(&self, workspace_id: i64, id: i64) -> Result<Conversation> {
        let sql = format!("{CONV_SELECT} WHERE c.id = $1 AND c.workspace_id = $2");
        Ok(on!(self, p => sqlx::query_as(&sql).bind(id).bind(workspace_id).fetch_one(p).await)?)
    }

    /// A conversation's inbound items, oldest first.
    pub async fn conversation_items(&self, conversation_id: i64) -> Result<Vec<crate::Item>> {
        let sql = format!(
            "SELECT {} FROM inbound_items WHERE conversation_id = $1 ORDER BY COALESCE(published_at, fetched_at), id",
            crate::channels::ITEM_COLS
        );
        Ok(on!(self, p => sqlx::query_as(&sql).bind(conversation_id).fetch_all(p).await)?)
    }

    /// The latest change to any of a workspace's conversations (live
    /// updates compare it with what a browser last saw).
    pub async fn inbox_changed_at(&self, workspace_id: i64) -> Result<i64> {
        let at: Option<i64> = on!(self, p => sqlx::query_scalar(
            "SELECT MAX(updated_at) FROM conversations WHERE workspace_id = $1")
            .bind(workspace_id).fetch_one(p).await)?;
        Ok(at.unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_are_one_line_and_bounded() {
        assert_eq!(preview(" a\n\tb  c "), "a b c");
        let long = "é".repeat(300);
        let p = preview(&long);
        assert_eq!(p.chars().count(), PREVIEW_CHARS + 1);
        assert!(p.ends_with('…'));
    }

    #[test]
    fn search_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_A\\"), "%50\\%\\_a\\\\%");
    }
}
