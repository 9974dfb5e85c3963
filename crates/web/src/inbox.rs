//! The webcare inbox: conversations, replies through the original channel,
//! internal notes, tags, assignment, status and snoozing.
//!
//! Decisions taken here:
//! - Clients do not see the inbox (customers' words and the team's notes
//!   are not theirs); every other role reads and answers it.
//! - A reply is stored before it is sent, under the form's own key: the
//!   same form sent twice is one reply, sent once. It answers the newest
//!   item of the conversation that the network can answer.
//! - A reply to a conversation whose channel must be reconnected is refused
//!   before anything is stored, with that reason.
//! - Setting a status someone else set already changes nothing and says so.
//! - A new message from the customer opens a pending, resolved or snoozed
//!   conversation again.

use dialoog_domain::{Action, FieldError};
use dialoog_networks::length;
use dialoog_store::{Conversation, Entry, InboxFilter, Item, Membership, NewEntry, User};
use serde_json::json;

use crate::AppState;
use crate::error::AppError;
use crate::security::random_token;
use crate::service::{Result, access, audit, now_ms};

/// The longest reply or note accepted (an e-mail may be long).
pub const MAX_TEXT: usize = 20_000;
/// The longest tag.
pub const MAX_TAG: usize = 40;
/// Conversations per page.
pub const PAGE: i64 = 50;

/// What can go wrong in a conversation, with its stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboxError {
    /// The channel's credentials were refused: reconnect it first.
    NeedsReconnect(String),
    /// Nothing in the conversation can be answered through its network.
    CannotReply,
    /// Only a failed reply can be sent again.
    NotRetryable,
}

impl InboxError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            InboxError::NeedsReconnect(_) => "channel_needs_reconnect",
            InboxError::CannotReply => "cannot_reply",
            InboxError::NotRetryable => "reply_not_retryable",
        }
    }
}

/// The statuses a person can set.
pub const STATUSES: [&str; 3] = ["open", "pending", "resolved"];
/// The list's views by status.
pub const VIEWS: [&str; 5] = ["open", "pending", "snoozed", "resolved", "all"];

/// Lists a page of conversations.
pub async fn list(
    state: &AppState,
    user: &User,
    ws: i64,
    filter: &InboxFilter,
    limit: i64,
) -> Result<(Membership, Vec<Conversation>)> {
    let m = access(state, user, ws, Action::ViewInbox).await?;
    Ok((m, page(state, ws, filter, limit).await?))
}

/// A page of conversations, for a caller whose access is checked.
pub async fn page(
    state: &AppState,
    ws: i64,
    filter: &InboxFilter,
    limit: i64,
) -> Result<Vec<Conversation>> {
    Ok(state
        .store
        .conversations(ws, filter, now_ms(), limit.clamp(1, 200))
        .await?)
}

/// The tags of a page of conversations, read in one query, in the page's
/// order.
pub async fn page_tags(state: &AppState, rows: &[Conversation]) -> Result<Vec<Vec<String>>> {
    let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
    let mut by_id: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
    for (id, tag) in state.store.tags_of(&ids).await? {
        by_id.entry(id).or_default().push(tag);
    }
    Ok(ids
        .iter()
        .map(|id| by_id.remove(id).unwrap_or_default())
        .collect())
}

/// A conversation with everything in it.
pub struct Thread {
    /// The conversation.
    pub conversation: Conversation,
    /// Inbound items, oldest first.
    pub items: Vec<Item>,
    /// Replies and notes, oldest first.
    pub entries: Vec<Entry>,
    /// Its tags.
    pub tags: Vec<String>,
    /// The caller's membership.
    pub membership: Membership,
}

/// Opens a conversation.
pub async fn open(state: &AppState, user: &User, ws: i64, id: i64) -> Result<Thread> {
    let membership = access(state, user, ws, Action::ViewInbox).await?;
    let conversation = state.store.conversation(ws, id).await?;
    Ok(Thread {
        items: state.store.conversation_items(id).await?,
        entries: state.store.entries(id).await?,
        tags: state.store.conversation_tags(id).await?,
        conversation,
        membership,
    })
}

fn checked_text(text: &str) -> Result<&str> {
    let text = text.trim();
    if text.is_empty() {
        return Err(FieldError::new("text", "required").into());
    }
    if text.chars().count() > MAX_TEXT {
        return Err(FieldError::new("text", "text_too_long")
            .with("max", MAX_TEXT.to_string())
            .into());
    }
    Ok(text)
}

/// A form key: the caller's, or a fresh one (then nothing is de-duplicated).
fn key(client_key: Option<&str>) -> Result<String> {
    match client_key.map(str::trim).filter(|k| !k.is_empty()) {
        None => Ok(random_token()),
        Some(k) if k.len() <= 100 && k.bytes().all(|b| b.is_ascii_graphic()) => Ok(k.to_owned()),
        Some(_) => Err(FieldError::new("key", "invalid").into()),
    }
}

/// Answers a conversation through its channel. Returns the reply with the
/// state it reached (`sent`, `failed` with the network's reason, or
/// `unconfirmed`), and whether it is new (`false`: the same form key was
/// used before, and nothing was sent again).
pub async fn reply(
    state: &AppState,
    user: &User,
    ws: i64,
    id: i64,
    text: &str,
    client_key: Option<&str>,
) -> Result<(Entry, bool)> {
    access(state, user, ws, Action::AnswerInbox).await?;
    let conv = state.store.conversation(ws, id).await?;
    let text = checked_text(text)?;
    let client_key = key(client_key)?;
    let channel = state.store.channel(ws, conv.channel_id).await?;
    if channel.status == "needs_reconnect" {
        return Err(AppError::Inbox(InboxError::NeedsReconnect(
            channel.status_reason,
        )));
    }
    let rules = dialoog_engine::channel_rules(&state.cipher, &channel).ok_or_else(|| {
        AppError::Inbox(InboxError::NeedsReconnect(
            "the channel's credentials cannot be read".to_owned(),
        ))
    })?;
    let items = state.store.conversation_items(id).await?;
    let answered = items
        .iter()
        .rev()
        .find(|i| rules.can_reply_to.iter().any(|k| k.as_str() == i.item.kind))
        .ok_or(AppError::Inbox(InboxError::CannotReply))?;
    if let Some((count, max)) = length::over_limit(text, &rules) {
        return Err(FieldError::new("text", "too_long_for_network")
            .with("count", count.to_string())
            .with("max", max.to_string())
            .into());
    }
    let (entry, new) = state
        .store
        .add_entry(
            id,
            &NewEntry {
                kind: "reply",
                user_id: user.id,
                text,
                item_id: Some(answered.id),
                client_key: &client_key,
            },
            now_ms(),
        )
        .await?;
    if !new {
        return Ok((entry, false));
    }
    send(state, &channel, answered, &entry).await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "conversation.replied",
        json!({"conversation_id": id, "entry_id": entry.id}),
    )
    .await;
    Ok((state.store.entry(id, entry.id).await?, true))
}

async fn send(
    state: &AppState,
    channel: &dialoog_store::Channel,
    item: &Item,
    entry: &Entry,
) -> Result<()> {
    dialoog_engine::reply::send_reply(&state.store, &state.cipher, channel, item, entry, now_ms)
        .await
        .map_err(AppError::internal)?;
    Ok(())
}

/// Sends a failed reply again, with the same key (the network sees the same
/// request).
pub async fn retry(state: &AppState, user: &User, ws: i64, id: i64, entry: i64) -> Result<Entry> {
    access(state, user, ws, Action::AnswerInbox).await?;
    let conv = state.store.conversation(ws, id).await?;
    let channel = state.store.channel(ws, conv.channel_id).await?;
    if channel.status == "needs_reconnect" {
        return Err(AppError::Inbox(InboxError::NeedsReconnect(
            channel.status_reason,
        )));
    }
    let e = state
        .store
        .retry_reply(id, entry, now_ms())
        .await
        .map_err(|e| match e {
            dialoog_store::StoreError::Conflict => AppError::Inbox(InboxError::NotRetryable),
            e => e.into(),
        })?;
    let items = state.store.conversation_items(id).await?;
    let item = items
        .iter()
        .find(|i| Some(i.id) == e.item_id)
        .ok_or(AppError::Inbox(InboxError::CannotReply))?;
    send(state, &channel, item, &e).await?;
    Ok(state.store.entry(id, entry).await?)
}

/// Adds an internal note (never sent anywhere).
pub async fn note(
    state: &AppState,
    user: &User,
    ws: i64,
    id: i64,
    text: &str,
    client_key: Option<&str>,
) -> Result<Entry> {
    access(state, user, ws, Action::AnswerInbox).await?;
    state.store.conversation(ws, id).await?;
    let text = checked_text(text)?;
    let client_key = key(client_key)?;
    let (entry, _) = state
        .store
        .add_entry(
            id,
            &NewEntry {
                kind: "note",
                user_id: user.id,
                text,
                item_id: None,
                client_key: &client_key,
            },
            now_ms(),
        )
        .await?;
    Ok(entry)
}

/// Sets the status; `false` when it had that status already.
pub async fn set_status(
    state: &AppState,
    user: &User,
    ws: i64,
    id: i64,
    status: &str,
) -> Result<bool> {
    access(state, user, ws, Action::AnswerInbox).await?;
    let status = status.trim();
    if !STATUSES.contains(&status) {
        return Err(FieldError::new("status", "invalid").into());
    }
    state.store.conversation(ws, id).await?;
    let changed = state
        .store
        .set_conversation_status(ws, id, status, now_ms())
        .await?;
    if changed {
        audit(
            state,
            Some(ws),
            Some(user.id),
            "conversation.status",
            json!({"conversation_id": id, "status": status}),
        )
        .await;
    }
    Ok(changed)
}

/// Gives the conversation to a member who may answer it, or to nobody.
pub async fn assign(
    state: &AppState,
    user: &User,
    ws: i64,
    id: i64,
    assignee: Option<i64>,
) -> Result<()> {
    access(state, user, ws, Action::AnswerInbox).await?;
    if let Some(a) = assignee {
        let ok = state
            .store
            .membership(ws, a)
            .await?
            .is_some_and(|m| m.role.can(Action::AnswerInbox));
        if !ok {
            return Err(FieldError::new("assignee_id", "not_an_agent").into());
        }
    }
    state
        .store
        .assign_conversation(ws, id, assignee, now_ms())
        .await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "conversation.assigned",
        json!({"conversation_id": id, "assignee_id": assignee}),
    )
    .await;
    Ok(())
}

/// Snoozes until a time in the future, or wakes it (`None`).
pub async fn snooze(
    state: &AppState,
    user: &User,
    ws: i64,
    id: i64,
    until: Option<i64>,
) -> Result<()> {
    access(state, user, ws, Action::AnswerInbox).await?;
    if until.is_some_and(|u| u <= now_ms()) {
        return Err(FieldError::new("until", "in_past").into());
    }
    state
        .store
        .snooze_conversation(ws, id, until, now_ms())
        .await?;
    Ok(())
}

/// A tag as stored: trimmed, lower case, one line, 1 to 40 characters.
pub fn clean_tag(tag: &str) -> Result<String> {
    let t: String = tag.trim().to_lowercase();
    if t.is_empty() {
        return Err(FieldError::new("tag", "required").into());
    }
    if t.chars().count() > MAX_TAG || t.chars().any(char::is_control) {
        return Err(FieldError::new("tag", "invalid")
            .with("max", MAX_TAG.to_string())
            .into());
    }
    Ok(t)
}

/// Adds or removes a tag.
pub async fn tag(
    state: &AppState,
    user: &User,
    ws: i64,
    id: i64,
    tag: &str,
    add: bool,
) -> Result<Vec<String>> {
    access(state, user, ws, Action::AnswerInbox).await?;
    state.store.conversation(ws, id).await?;
    let tag = clean_tag(tag)?;
    state
        .store
        .tag_conversation(id, &tag, add, now_ms())
        .await?;
    Ok(state.store.conversation_tags(id).await?)
}
