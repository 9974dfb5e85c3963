//! What agents do in a conversation: replies (written before they are sent,
//! so a reply is never lost and never sent twice), internal notes, status,
//! assignment, snoozing and tags.

use crate::BeginWrite;
use crate::{Result, Store, StoreError, on};

/// A reply or an internal note.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Entry {
    /// Stable id.
    pub id: i64,
    /// Its conversation.
    pub conversation_id: i64,
    /// `reply` or `note`.
    pub kind: String,
    /// Who wrote it.
    pub user_id: Option<i64>,
    /// Their name.
    pub user_name: Option<String>,
    /// What they wrote.
    pub text: String,
    /// `note`; for a reply `sending`, `sent`, `failed` or `unconfirmed`.
    pub state: String,
    /// Why it failed, in the network's words.
    pub error: String,
    /// The inbound item it answers.
    pub item_id: Option<i64>,
    /// The network's id of the reply.
    pub remote_id: Option<String>,
    /// Where the reply can be seen.
    pub remote_url: Option<String>,
    /// The form's key (the same form sent twice is one entry).
    pub client_key: String,
    /// When it was written.
    pub created_at: i64,
    /// When the network took it.
    pub sent_at: Option<i64>,
}

const ENTRY_SELECT: &str = "SELECT e.id, e.conversation_id, e.kind, e.user_id, u.name AS user_name, e.text, \
     e.state, e.error, e.item_id, e.remote_id, e.remote_url, e.client_key, e.created_at, e.sent_at \
     FROM conversation_entries e LEFT JOIN users u ON u.id = e.user_id";

/// A new reply or note.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    /// `reply` or `note`.
    pub kind: &'a str,
    /// Who writes it.
    pub user_id: i64,
    /// The text.
    pub text: &'a str,
    /// The inbound item answered (replies).
    pub item_id: Option<i64>,
    /// The form's key.
    pub client_key: &'a str,
}

/// How sending a reply ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyOutcome {
    /// The network took it.
    Sent {
        /// Its id there.
        remote_id: String,
        /// Its address.
        url: Option<String>,
    },
    /// The network refused it or could not be reached; the reason in words.
    Failed(String),
    /// The answer was lost: it may or may not be there.
    Unconfirmed(String),
}

impl Store {
    /// Writes a reply (state `sending`) or a note. The same form key twice
    /// gives the first entry back with `false`: nothing is written or sent
    /// again.
    pub async fn add_entry(
        &self,
        conversation_id: i64,
        e: &NewEntry<'_>,
        now: i64,
    ) -> Result<(Entry, bool)> {
        let state = if e.kind == "note" { "note" } else { "sending" };
        let inserted: Option<i64> = on!(self, p => {
            let mut tx = p.begin_write().await?;
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO conversation_entries (conversation_id, kind, user_id, text, state, item_id, client_key, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (conversation_id, client_key) DO NOTHING RETURNING id")
                .bind(conversation_id).bind(e.kind).bind(e.user_id).bind(e.text).bind(state).bind(e.item_id)
                .bind(e.client_key).bind(now).fetch_optional(&mut *tx).await?;
            sqlx::query("UPDATE conversations SET updated_at = $2 WHERE id = $1")
                .bind(conversation_id).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            id
        });
        let sql = format!("{ENTRY_SELECT} WHERE e.conversation_id = $1 AND e.client_key = $2");
        let entry: Entry = on!(self, p => sqlx::query_as(&sql).bind(conversation_id).bind(e.client_key).fetch_one(p).await)?;
        Ok((entry, inserted.is_some()))
    }

    /// A conversation's replies and notes, oldest first.
    pub async fn entries(&self, conversation_id: i64) -> Result<Vec<Entry>> {
        let sql = format!("{ENTRY_SELECT} WHERE e.conversation_id = $1 ORDER BY e.id");
        Ok(on!(self, p => sqlx::query_as(&sql).bind(conversation_id).fetch_all(p).await)?)
    }

    /// One entry of a conversation.
    pub async fn entry(&self, conversation_id: i64, id: i64) -> Result<Entry> {
        let sql = format!("{ENTRY_SELECT} WHERE e.conversation_id = $1 AND e.id = $2");
        Ok(on!(self, p => sqlx::query_as(&sql).bind(conversation_id).bind(id).fetch_one(p).await)?)
    }

    /// Takes a failed reply back to `sending` for another try; only one
    /// caller wins ([`StoreError::Conflict`] for the others).
    pub async fn retry_reply(&self, conversation_id: i64, id: i64, now: i64) -> Result<Entry> {
        let n = on!(self, p => sqlx::query(
            "UPDATE conversation_entries SET state = 'sending', error = '' \
             WHERE conversation_id = $1 AND id = $2 AND kind = 'reply' AND state = 'failed'")
            .bind(conversation_id).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        self.touch_conversation(conversation_id, now).await?;
        self.entry(conversation_id, id).await
    }

    /// Records how sending a reply ended. A sent reply answers the
    /// conversation: the first response time is kept, the wait ends.
    pub async fn finish_reply(&self, id: i64, outcome: &ReplyOutcome, now: i64) -> Result<()> {
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let conv: i64 = sqlx::query_scalar("SELECT conversation_id FROM conversation_entries WHERE id = $1")
                .bind(id).fetch_one(&mut *tx).await?;
            match outcome {
                ReplyOutcome::Sent { remote_id, url } => {
                    sqlx::query("UPDATE conversation_entries SET state = 'sent', error = '', remote_id = $2, \
                                 remote_url = $3, sent_at = $4 WHERE id = $1")
                        .bind(id).bind(remote_id).bind(url).bind(now).execute(&mut *tx).await?;
                    sqlx::query("UPDATE conversations SET first_response_at = COALESCE(first_response_at, $2), \
                                 waiting_since = NULL, last_at = CASE WHEN $2 > last_at THEN $2 ELSE last_at END, \
                                 updated_at = $2 WHERE id = $1")
                        .bind(conv).bind(now).execute(&mut *tx).await?;
                }
                ReplyOutcome::Failed(reason) | ReplyOutcome::Unconfirmed(reason) => {
                    let state = if matches!(outcome, ReplyOutcome::Failed(_)) { "failed" } else { "unconfirmed" };
                    sqlx::query("UPDATE conversation_entries SET state = $2, error = $3 WHERE id = $1")
                        .bind(id).bind(state).bind(reason).execute(&mut *tx).await?;
                    sqlx::query("UPDATE conversations SET updated_at = $2 WHERE id = $1")
                        .bind(conv).bind(now).execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn touch_conversation(&self, id: i64, now: i64) -> Result<()> {
        on!(self, p => sqlx::query("UPDATE conversations SET updated_at = $2 WHERE id = $1")
            .bind(id).bind(now).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Sets a conversation's status. Returns `false` when it already had
    /// that status (someone else was first): nothing changes then.
    pub async fn set_conversation_status(
        &self,
        workspace_id: i64,
        id: i64,
        status: &str,
        now: i64,
    ) -> Result<bool> {
        let n = on!(self, p => sqlx::query(
            "UPDATE conversations SET status = $3, updated_at = $4, \
             resolved_at = CASE WHEN $3 = 'resolved' THEN $4 ELSE NULL END, \
             snoozed_until = CASE WHEN $3 = 'resolved' THEN NULL ELSE snoozed_until END \
             WHERE id = $1 AND workspace_id = $2 AND status <> $3")
            .bind(id).bind(workspace_id).bind(status).bind(now).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Gives a conversation to a person, or to nobody.
    pub async fn assign_conversation(
        &self,
        workspace_id: i64,
        id: i64,
        assignee: Option<i64>,
        now: i64,
    ) -> Result<()> {
        let n = on!(self, p => sqlx::query(
            "UPDATE conversations SET assignee_id = $3, updated_at = $4 WHERE id = $1 AND workspace_id = $2")
            .bind(id).bind(workspace_id).bind(assignee).bind(now).execute(p).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Snoozes a conversation until `until` (`None` wakes it).
    pub async fn snooze_conversation(
        &self,
        workspace_id: i64,
        id: i64,
        until: Option<i64>,
        now: i64,
    ) -> Result<()> {
        let n = on!(self, p => sqlx::query(
            "UPDATE conversations SET snoozed_until = $3, updated_at = $4 WHERE id = $1 AND workspace_id = $2")
            .bind(id).bind(workspace_id).bind(until).bind(now).execute(p).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// A conversation's tags, sorted.
    pub async fn conversation_tags(&self, id: i64) -> Result<Vec<String>> {
        Ok(on!(self, p => sqlx::query_scalar(
            "SELECT tag FROM conversation_tags WHERE conversation_id = $1 ORDER BY tag")
            .bind(id).fetch_all(p).await)?)
    }

    /// The tags of several conversations (a page of the list) in one
    /// query: (conversation id, tag), sorted by both.
    pub async fn tags_of(&self, ids: &[i64]) -> Result<Vec<(i64, String)>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT conversation_id, tag FROM conversation_tags WHERE conversation_id IN ({}) \
             ORDER BY conversation_id, tag",
            marks.join(", ")
        );
        Ok(on!(self, p => {
            let mut q = sqlx::query_as(&sql);
            for id in ids {
                q = q.bind(*id);
            }
            q.fetch_all(p).await
        })?)
    }

    /// Adds (or with `add` false removes) a tag.
    pub async fn tag_conversation(&self, id: i64, tag: &str, add: bool, now: i64) -> Result<()> {
        if add {
            on!(self, p => sqlx::query(
                "INSERT INTO conversation_tags (conversation_id, tag, workspace_id) \
                 SELECT id, $2, workspace_id FROM conversations WHERE id = $1 ON CONFLICT DO NOTHING")
                .bind(id).bind(tag).execute(p).await.map(|r| r.rows_affected()))?;
        } else {
            on!(self, p => sqlx::query("DELETE FROM conversation_tags WHERE conversation_id = $1 AND tag = $2")
                .bind(id).bind(tag).execute(p).await.map(|r| r.rows_affected()))?;
        }
        self.touch_conversation(id, now).await
    }

    /// The tags used in a workspace, for the filter (at most 200). Each
    /// next tag is one seek in the (workspace, tag) index, however many
    /// conversations carry it.
    pub async fn workspace_tags(&self, workspace_id: i64) -> Result<Vec<String>> {
        Ok(on!(self, p => sqlx::query_scalar(
            "WITH RECURSIVE t(tag, n) AS ( \
               SELECT (SELECT MIN(tag) FROM conversation_tags WHERE workspace_id = $1), 1 \
               UNION ALL \
               SELECT (SELECT MIN(x.tag) FROM conversation_tags x WHERE x.workspace_id = $1 AND x.tag > t.tag), n + 1 \
               FROM t WHERE t.tag IS NOT NULL AND n < 200) \
             SELECT tag FROM t WHERE tag IS NOT NULL ORDER BY tag")
            .bind(workspace_id).fetch_all(p).await)?)
    }
}
