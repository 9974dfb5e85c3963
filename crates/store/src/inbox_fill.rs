//! Filling an inbox with generated conversations at once, for benchmarks:
//! multi-row inserts in one transaction per call, the conversations, their
//! authors as contacts, threaded items, tags and search documents written
//! as threading would leave them. Ids are given by this function, so it
//! must not run beside other writers of conversations or contacts.

use crate::BeginWrite;
use crate::{BackendKind, Result, Store, inbox_search, on};
use std::collections::HashMap;

/// One inbound item of a [`GeneratedConversation`].
#[derive(Debug, Clone)]
pub struct GeneratedItem {
    /// Its text.
    pub text: String,
    /// When it was written (UTC ms).
    pub at: i64,
}

/// A generated conversation for [`Store::fill_generated_inbox`].
#[derive(Debug, Clone)]
pub struct GeneratedConversation {
    /// The channel it came through (of the workspace filled).
    pub channel_id: i64,
    /// `comment`, `mention`, `direct_message`, `email` or `review`.
    pub kind: String,
    /// The author's id on the network.
    pub author_id: String,
    /// The author's display name.
    pub author_name: String,
    /// The author's handle.
    pub author_handle: Option<String>,
    /// `open`, `pending` or `resolved`.
    pub status: String,
    /// Who answers it.
    pub assignee_id: Option<i64>,
    /// Out of the open list until then.
    pub snoozed_until: Option<i64>,
    /// The language of its items.
    pub lang: Option<String>,
    /// The sentiment of its items.
    pub sentiment: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its inbound items, oldest first (at least one).
    pub items: Vec<GeneratedItem>,
}

/// Rows per INSERT statement.
const ROWS: usize = 400;

fn marks(rows: usize, cols: usize, first: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (0..cols)
                .map(|c| format!("${}", first + r * cols + c))
                .collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Stores generated conversations of one workspace in one transaction:
    /// each with its items (threaded), its author's identity (a new
    /// contact for an author seen for the first time), tags and search
    /// document. Resolved ones count as answered an hour after their last
    /// item.
    pub async fn fill_generated_inbox(
        &self,
        workspace_id: i64,
        convs: &[GeneratedConversation],
        now: i64,
    ) -> Result<()> {
        let pg = self.kind() == BackendKind::Postgres;
        let overriding = if pg { "OVERRIDING SYSTEM VALUE" } else { "" };
        let search_cols = if pg {
            "conversation_id, doc"
        } else {
            "rowid, doc"
        };
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let (before,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM conversations")
                .fetch_one(&mut *tx).await?;
            let mut next = before.unwrap_or(0) + 1;
            let networks: HashMap<i64, String> =
                sqlx::query_as::<_, (i64, String)>("SELECT id, network FROM channels WHERE workspace_id = $1")
                    .bind(workspace_id).fetch_all(&mut *tx).await?.into_iter().collect();
            let (contacts_before, identities_before): (Option<i64>, Option<i64>) = sqlx::query_as(
                "SELECT (SELECT MAX(id) FROM contacts), (SELECT MAX(id) FROM contact_identities)")
                .fetch_one(&mut *tx).await?;
            let mut next_contact = contacts_before.unwrap_or(0) + 1;
            let mut next_identity = identities_before.unwrap_or(0) + 1;
            for chunk in convs.chunks(ROWS) {
                let first = next;
                next += chunk.len() as i64;
                // The authors' identities: those known already, and new
                // ones (with their contacts) for the rest.
                let network = |c: &GeneratedConversation| networks.get(&c.channel_id).cloned().unwrap_or_default();
                let mut identity: HashMap<(String, String), i64> = HashMap::new();
                // Per network, so the (workspace, network, author) index
                // answers.
                let mut by_network: HashMap<String, Vec<&String>> = HashMap::new();
                for c in chunk {
                    by_network.entry(network(c)).or_default().push(&c.author_id);
                }
                for (net, authors) in &by_network {
                    let sql = format!(
                        "SELECT network, author_id, id FROM contact_identities \
                         WHERE workspace_id = $1 AND network = $2 AND author_id IN ({})",
                        (0..authors.len()).map(|i| format!("${}", i + 3)).collect::<Vec<_>>().join(", "));
                    let mut q = sqlx::query_as::<_, (String, String, i64)>(&sql).bind(workspace_id).bind(net);
                    for a in authors {
                        q = q.bind(*a);
                    }
                    for (net, author, id) in q.fetch_all(&mut *tx).await? {
                        identity.insert((net, author), id);
                    }
                }
                let mut fresh: Vec<(i64, i64, String, &GeneratedConversation)> = vec![];
                for c in chunk {
                    let key = (network(c), c.author_id.clone());
                    if !identity.contains_key(&key) {
                        identity.insert(key.clone(), next_identity);
                        fresh.push((next_contact, next_identity, key.0, c));
                        next_contact += 1;
                        next_identity += 1;
                    }
                }
                if !fresh.is_empty() {
                    let sql = format!(
                        "INSERT INTO contacts (id, workspace_id, name, created_at, updated_at) {overriding} VALUES {}",
                        marks(fresh.len(), 5, 1));
                    let mut q = sqlx::query(&sql);
                    for (contact, _, _, c) in &fresh {
                        q = q.bind(*contact).bind(workspace_id).bind(&c.author_name).bind(now).bind(now);
                    }
                    q.execute(&mut *tx).await?;
                    let sql = format!(
                        "INSERT INTO contact_identities (id, workspace_id, contact_id, network, author_id, name, handle, \
                         created_at) {overriding} VALUES {}",
                        marks(fresh.len(), 8, 1));
                    let mut q = sqlx::query(&sql);
                    for (contact, id, net, c) in &fresh {
                        q = q.bind(*id).bind(workspace_id).bind(*contact).bind(net).bind(&c.author_id)
                            .bind(&c.author_name).bind(&c.author_handle).bind(now);
                    }
                    q.execute(&mut *tx).await?;
                }
                let sql = format!(
                    "INSERT INTO conversations (id, workspace_id, channel_id, kind, thread_key, author_id, \
                     author_name, author_handle, status, assignee_id, snoozed_until, preview, lang, sentiment, \
                     messages, waiting_since, last_inbound_at, last_at, first_response_at, resolved_at, \
                     created_at, updated_at, identity_id) {overriding} VALUES {}",
                    marks(chunk.len(), 23, 1)
                );
                let mut q = sqlx::query(&sql);
                for (i, c) in chunk.iter().enumerate() {
                    let start = c.items.first().map_or(now, |x| x.at);
                    let last = c.items.last().map_or(now, |x| x.at);
                    let resolved = c.status == "resolved";
                    let answered = resolved.then_some(last + 3_600_000);
                    q = q.bind(first + i as i64).bind(workspace_id).bind(c.channel_id).bind(&c.kind)
                        .bind(format!("bench-{}", first + i as i64)).bind(&c.author_id)
                        .bind(&c.author_name).bind(&c.author_handle).bind(&c.status).bind(c.assignee_id)
                        .bind(c.snoozed_until)
                        .bind(crate::inbox::preview(c.items.last().map_or("", |x| x.text.as_str())))
                        .bind(&c.lang).bind(&c.sentiment).bind(c.items.len() as i64)
                        .bind((!resolved).then_some(last)).bind(last).bind(answered.unwrap_or(last))
                        .bind(answered).bind(answered).bind(start).bind(answered.unwrap_or(last))
                        .bind(identity.get(&(network(c), c.author_id.clone())).copied());
                }
                q.execute(&mut *tx).await?;

                let items: Vec<(i64, usize, &GeneratedConversation, &GeneratedItem)> = chunk.iter().enumerate()
                    .flat_map(|(i, c)| c.items.iter().enumerate().map(move |(k, it)| (first + i as i64, k, c, it)))
                    .collect();
                for part in items.chunks(ROWS) {
                    let sql = format!(
                        "INSERT INTO inbound_items (channel_id, external_id, kind, author_id, author_name, \
                         author_handle, thread_ref, text, published_at, fetched_at, conversation_id, lang, \
                         sentiment) VALUES {}",
                        marks(part.len(), 13, 1)
                    );
                    let mut q = sqlx::query(&sql);
                    for (id, k, c, it) in part {
                        q = q.bind(c.channel_id).bind(format!("bench-{id}-{k}")).bind(&c.kind)
                            .bind(&c.author_id).bind(&c.author_name).bind(&c.author_handle)
                            .bind(format!("bench-{id}")).bind(&it.text).bind(it.at).bind(it.at).bind(*id)
                            .bind(&c.lang).bind(&c.sentiment);
                    }
                    q.execute(&mut *tx).await?;
                }

                let tags: Vec<(i64, &String)> = chunk.iter().enumerate()
                    .flat_map(|(i, c)| c.tags.iter().map(move |t| (first + i as i64, t)))
                    .collect();
                for part in tags.chunks(ROWS) {
                    let sql = format!(
                        "INSERT INTO conversation_tags (conversation_id, tag, workspace_id) VALUES {}",
                        marks(part.len(), 3, 1)
                    );
                    let mut q = sqlx::query(&sql);
                    for (id, tag) in part {
                        q = q.bind(*id).bind(*tag).bind(workspace_id);
                    }
                    q.execute(&mut *tx).await?;
                }

                let sql = format!(
                    "INSERT INTO conversation_search ({search_cols}) VALUES {}",
                    marks(chunk.len(), 2, 1)
                );
                let mut q = sqlx::query(&sql);
                for (i, c) in chunk.iter().enumerate() {
                    let mut texts = c.items.iter();
                    let mut doc = inbox_search::new_doc(
                        &c.author_name,
                        c.author_handle.as_deref(),
                        texts.next().map_or("", |x| x.text.as_str()),
                    );
                    for it in texts {
                        doc.push_str(&inbox_search::more_doc(&it.text));
                    }
                    q = q.bind(first + i as i64).bind(doc);
                }
                q.execute(&mut *tx).await?;
            }
            if pg {
                for table in ["conversations", "contacts", "contact_identities"] {
                    sqlx::query(&format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"))
                        .execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }
}
