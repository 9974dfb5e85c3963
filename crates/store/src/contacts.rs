//! Contacts: one person across networks, as identities (an account on a
//! network, an e-mail address) grouped into a contact of the workspace.
//! Conversations point at the identity that wrote them, so merging and
//! splitting contacts only moves identities.

use crate::BeginWrite;
use crate::inbox::{CONV_SELECT, Conversation};
use crate::{Result, Store, StoreError, on};

/// A contact as listed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Contact {
    /// Stable id.
    pub id: i64,
    /// Its workspace.
    pub workspace_id: i64,
    /// The name shown (the first identity's).
    pub name: String,
    /// The team's note on them.
    pub note: String,
    /// Identities (accounts, addresses).
    pub identities: i64,
    /// Conversations with them.
    pub conversations: i64,
}

/// An account on a network or an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Identity {
    /// Stable id.
    pub id: i64,
    /// The contact it belongs to.
    pub contact_id: i64,
    /// `mastodon`, `bluesky`, `email`, …
    pub network: String,
    /// The network's id (a URL, a DID, an address).
    pub author_id: String,
    /// The name it goes by there.
    pub name: String,
    /// Its handle or address there.
    pub handle: Option<String>,
}

/// A contact that may be the same person, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The other contact.
    pub contact_id: i64,
    /// Its name.
    pub name: String,
    /// `same_name`, `same_address` or `same_handle`.
    pub reason: &'static str,
}

const CONTACT_SELECT: &str = "SELECT c.id, c.workspace_id, c.name, c.note, \
     (SELECT COUNT(*) FROM contact_identities i WHERE i.contact_id = c.id) AS identities, \
     (SELECT COUNT(*) FROM conversations v JOIN contact_identities i ON i.id = v.identity_id \
      WHERE i.contact_id = c.id) AS conversations FROM contacts c";

const IDENTITY_COLS: &str = "id, contact_id, network, author_id, name, handle";

/// The part of a handle that names the person: `anna` of `@anna@social.nl`,
/// `@anna.bsky.social` and `anna@klant.nl`.
pub fn handle_stem(handle: &str) -> String {
    let h = handle.trim().trim_start_matches('@').to_lowercase();
    h.split(['@', '.']).next().unwrap_or_default().to_owned()
}

impl Store {
    /// Gives every conversation of a channel that has none the identity of
    /// its author (a new contact for an author seen for the first time).
    pub async fn link_identities(&self, channel_id: i64, now: i64) -> Result<u64> {
        let mut done = 0;
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let (ws, network): (i64, String) = sqlx::query_as("SELECT workspace_id, network FROM channels WHERE id = $1")
                .bind(channel_id).fetch_one(&mut *tx).await?;
            let rows: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
                "SELECT id, author_id, author_name, author_handle FROM conversations \
                 WHERE channel_id = $1 AND identity_id IS NULL ORDER BY id LIMIT 1000")
                .bind(channel_id).fetch_all(&mut *tx).await?;
            for (conv, author, name, handle) in rows {
                let found: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM contact_identities WHERE workspace_id = $1 AND network = $2 AND author_id = $3")
                    .bind(ws).bind(&network).bind(&author).fetch_optional(&mut *tx).await?;
                let identity = match found {
                    Some(i) => i,
                    None => {
                        let contact: i64 = sqlx::query_scalar(
                            "INSERT INTO contacts (workspace_id, name, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id")
                            .bind(ws).bind(&name).bind(now).fetch_one(&mut *tx).await?;
                        sqlx::query_scalar(
                            "INSERT INTO contact_identities (workspace_id, contact_id, network, author_id, name, handle, created_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
                            .bind(ws).bind(contact).bind(&network).bind(&author).bind(&name).bind(&handle).bind(now)
                            .fetch_one(&mut *tx).await?
                    }
                };
                sqlx::query("UPDATE conversations SET identity_id = $1 WHERE id = $2")
                    .bind(identity).bind(conv).execute(&mut *tx).await?;
                done += 1;
            }
            tx.commit().await?;
        });
        Ok(done)
    }

    /// A workspace's contacts, newest first, whose name or any identity's
    /// handle contains `q` (case-insensitive).
    pub async fn contacts(&self, workspace_id: i64, q: &str, limit: i64) -> Result<Vec<Contact>> {
        let pat = crate::inbox::like_pattern(q.trim());
        let sql = format!(
            "{CONTACT_SELECT} WHERE c.workspace_id = $1 AND (lower(c.name) LIKE $2 ESCAPE '\\' OR EXISTS \
             (SELECT 1 FROM contact_identities i WHERE i.contact_id = c.id AND lower(COALESCE(i.handle, i.author_id)) LIKE $2 ESCAPE '\\')) \
             ORDER BY c.id DESC LIMIT $3"
        );
        Ok(
            on!(self, p => sqlx::query_as(&sql).bind(workspace_id).bind(&pat).bind(limit).fetch_all(p).await)?,
        )
    }

    /// One contact of a workspace.
    pub async fn contact(&self, workspace_id: i64, id: i64) -> Result<Contact> {
        let sql = format!("{CONTACT_SELECT} WHERE c.id = $1 AND c.workspace_id = $2");
        Ok(on!(self, p => sqlx::query_as(&sql).bind(id).bind(workspace_id).fetch_one(p).await)?)
    }

    /// The contact a conversation's author belongs to.
    pub async fn contact_of(&self, conversation_id: i64) -> Result<Option<i64>> {
        Ok(on!(self, p => sqlx::query_scalar(
            "SELECT i.contact_id FROM conversations v JOIN contact_identities i ON i.id = v.identity_id WHERE v.id = $1")
            .bind(conversation_id).fetch_optional(p).await)?)
    }

    /// A contact's identities.
    pub async fn identities(&self, contact_id: i64) -> Result<Vec<Identity>> {
        let sql = format!(
            "SELECT {IDENTITY_COLS} FROM contact_identities WHERE contact_id = $1 ORDER BY id"
        );
        Ok(on!(self, p => sqlx::query_as(&sql).bind(contact_id).fetch_all(p).await)?)
    }

    /// A contact's conversations on every network, latest activity first.
    pub async fn contact_conversations(
        &self,
        contact_id: i64,
        limit: i64,
    ) -> Result<Vec<Conversation>> {
        let sql = format!(
            "{CONV_SELECT} WHERE c.identity_id IN (SELECT id FROM contact_identities WHERE contact_id = $1) \
             ORDER BY c.last_at DESC, c.id DESC LIMIT $2"
        );
        Ok(on!(self, p => sqlx::query_as(&sql).bind(contact_id).bind(limit).fetch_all(p).await)?)
    }

    /// The time and sentiment of every message a contact wrote (at most
    /// 10,000, the newest).
    pub async fn contact_sentiments(&self, contact_id: i64) -> Result<Vec<(i64, Option<String>)>> {
        Ok(on!(self, p => sqlx::query_as(
            "SELECT COALESCE(m.published_at, m.fetched_at), m.sentiment FROM inbound_items m \
             JOIN conversations v ON v.id = m.conversation_id JOIN contact_identities i ON i.id = v.identity_id \
             WHERE i.contact_id = $1 AND m.author_id = i.author_id \
             ORDER BY m.id DESC LIMIT 10000")
            .bind(contact_id).fetch_all(p).await)?)
    }

    /// Sets the team's note on a contact.
    pub async fn set_contact_note(
        &self,
        workspace_id: i64,
        id: i64,
        note: &str,
        now: i64,
    ) -> Result<()> {
        let n = on!(self, p => sqlx::query(
            "UPDATE contacts SET note = $3, updated_at = $4 WHERE id = $1 AND workspace_id = $2")
            .bind(id).bind(workspace_id).bind(note).bind(now).execute(p).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// A contact's tags, sorted.
    pub async fn contact_tags(&self, id: i64) -> Result<Vec<String>> {
        Ok(
            on!(self, p => sqlx::query_scalar("SELECT tag FROM contact_tags WHERE contact_id = $1 ORDER BY tag")
            .bind(id).fetch_all(p).await)?,
        )
    }

    /// Adds (or with `add` false removes) a contact's tag.
    pub async fn tag_contact(&self, id: i64, tag: &str, add: bool) -> Result<()> {
        if add {
            on!(self, p => sqlx::query("INSERT INTO contact_tags (contact_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id).bind(tag).execute(p).await.map(|r| r.rows_affected()))?;
        } else {
            on!(self, p => sqlx::query("DELETE FROM contact_tags WHERE contact_id = $1 AND tag = $2")
                .bind(id).bind(tag).execute(p).await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    /// Merges contact `from` into `into` (both of the workspace): its
    /// identities, tags and note move, and `from` is gone.
    pub async fn merge_contacts(
        &self,
        workspace_id: i64,
        into: i64,
        from: i64,
        now: i64,
    ) -> Result<()> {
        if into == from {
            return Err(StoreError::Conflict);
        }
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let found: Vec<(i64, String)> = sqlx::query_as(
                "SELECT id, note FROM contacts WHERE workspace_id = $1 AND id IN ($2, $3) ORDER BY id")
                .bind(workspace_id).bind(into).bind(from).fetch_all(&mut *tx).await?;
            if found.len() != 2 {
                return Err(StoreError::NotFound);
            }
            let note = |id: i64| found.iter().find(|(i, _)| *i == id).map(|(_, n)| n.trim().to_owned()).unwrap_or_default();
            let merged = match (note(into), note(from)) {
                (a, b) if b.is_empty() => a,
                (a, b) if a.is_empty() => b,
                (a, b) => format!("{a}\n{b}"),
            };
            sqlx::query("UPDATE contact_identities SET contact_id = $1 WHERE contact_id = $2")
                .bind(into).bind(from).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO contact_tags (contact_id, tag) SELECT $1, tag FROM contact_tags WHERE contact_id = $2 \
                         ON CONFLICT DO NOTHING")
                .bind(into).bind(from).execute(&mut *tx).await?;
            sqlx::query("UPDATE contacts SET note = $2, updated_at = $3 WHERE id = $1")
                .bind(into).bind(&merged).bind(now).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM contacts WHERE id = $1").bind(from).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Splits an identity off its contact into a contact of its own (with
    /// its conversations); refused when it is the contact's only identity.
    pub async fn split_identity(
        &self,
        workspace_id: i64,
        contact_id: i64,
        identity_id: i64,
        now: i64,
    ) -> Result<i64> {
        let new = on!(self, p => {
            let mut tx = p.begin_write().await?;
            let name: Option<String> = sqlx::query_scalar(
                "SELECT name FROM contact_identities WHERE id = $1 AND contact_id = $2 AND workspace_id = $3")
                .bind(identity_id).bind(contact_id).bind(workspace_id).fetch_optional(&mut *tx).await?;
            let Some(name) = name else { return Err(StoreError::NotFound) };
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM contact_identities WHERE contact_id = $1")
                .bind(contact_id).fetch_one(&mut *tx).await?;
            if n < 2 {
                return Err(StoreError::Conflict);
            }
            let new: i64 = sqlx::query_scalar(
                "INSERT INTO contacts (workspace_id, name, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id")
                .bind(workspace_id).bind(&name).bind(now).fetch_one(&mut *tx).await?;
            sqlx::query("UPDATE contact_identities SET contact_id = $1 WHERE id = $2")
                .bind(new).bind(identity_id).execute(&mut *tx).await?;
            tx.commit().await?;
            new
        });
        Ok(new)
    }

    /// Contacts that may be the same person as `contact_id`: an identity
    /// with the same name, the same e-mail address, or the same handle.
    pub async fn merge_suggestions(
        &self,
        workspace_id: i64,
        contact_id: i64,
    ) -> Result<Vec<Suggestion>> {
        let mine = self.identities(contact_id).await?;
        let mut out: Vec<Suggestion> = vec![];
        for i in &mine {
            let name = i.name.trim().to_lowercase();
            let stem = i.handle.as_deref().map(handle_stem).unwrap_or_default();
            let address = i
                .handle
                .as_deref()
                .filter(|h| !h.starts_with('@') && h.contains('@'))
                .map(str::to_lowercase);
            let candidates: Vec<(i64, String, String, Option<String>)> = on!(self, p => sqlx::query_as(
                "SELECT c.id, c.name, lower(i.name), lower(i.handle) FROM contact_identities i JOIN contacts c ON c.id = i.contact_id \
                 WHERE i.workspace_id = $1 AND i.contact_id <> $2 AND (lower(i.name) = $3 OR lower(i.handle) LIKE $4 \
                 OR lower(i.handle) LIKE $5 OR lower(i.handle) LIKE $6) LIMIT 20")
                .bind(workspace_id).bind(contact_id).bind(&name)
                .bind(format!("@{stem}@%")).bind(format!("@{stem}.%")).bind(format!("{stem}@%"))
                .fetch_all(p).await)?;
            for (id, cname, other_name, other_handle) in candidates {
                let reason = match (&address, &other_handle) {
                    (Some(a), Some(h)) if a == h => "same_address",
                    _ if !name.is_empty() && other_name == name => "same_name",
                    _ if stem.chars().count() >= 3
                        && other_handle.as_deref().map(handle_stem).as_deref()
                            == Some(stem.as_str()) =>
                    {
                        "same_handle"
                    }
                    _ => continue,
                };
                if !out.iter().any(|s| s.contact_id == id) && out.len() < 5 {
                    out.push(Suggestion {
                        contact_id: id,
                        name: cname,
                        reason,
                    });
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::handle_stem;

    #[test]
    fn stems_of_handles() {
        assert_eq!(handle_stem("@anna@social.nl"), "anna");
        assert_eq!(handle_stem("@Anna.bsky.social"), "anna");
        assert_eq!(handle_stem("anna@klant.nl"), "anna");
        assert_eq!(handle_stem(""), "");
    }
}
