//! Contacts: one person across networks, with their full history, the
//! team's note and tags, their sentiment over time, suggestions of whom
//! they may also be, and merging and splitting by hand.
//!
//! Decisions taken here:
//! - Every author who writes in gets a contact by themselves (one per
//!   account or address); Dialoog never merges on its own, it suggests
//!   (the same name, the same e-mail address, the same handle) and a person
//!   decides. Clients do not see contacts, as they do not see the inbox.
//! - Splitting takes one identity off with all its conversations; the
//!   last identity of a contact cannot be split off.

use dialoog_domain::{Action, FieldError};
use dialoog_store::{Contact, Conversation, Identity, StoreError, Suggestion, User};
use serde_json::json;
use std::collections::BTreeMap;

use crate::AppState;
use crate::error::AppError;
use crate::service::{Result, access, audit, now_ms};

/// The longest note.
pub const MAX_NOTE: usize = 5000;

/// A contact with everything about them.
pub struct Person {
    /// The contact.
    pub contact: Contact,
    /// Their accounts and addresses.
    pub identities: Vec<Identity>,
    /// Their conversations, latest first (at most 100).
    pub conversations: Vec<Conversation>,
    /// Their tags.
    pub tags: Vec<String>,
    /// Who they may also be.
    pub suggestions: Vec<Suggestion>,
    /// Per month (`YYYY-MM`, in the workspace's zone): positive, neutral
    /// and negative messages they wrote.
    pub sentiment: Vec<(String, [i64; 3])>,
}

/// Contacts matching `q`.
pub async fn list(state: &AppState, user: &User, ws: i64, q: &str) -> Result<Vec<Contact>> {
    access(state, user, ws, Action::ViewInbox).await?;
    Ok(state.store.contacts(ws, q, 100).await?)
}

/// One contact.
pub async fn open(state: &AppState, user: &User, ws: i64, id: i64) -> Result<Person> {
    let m = access(state, user, ws, Action::ViewInbox).await?;
    let contact = state.store.contact(ws, id).await?;
    let zone = dialoog_domain::time::zone(&m.workspace.timezone);
    let mut months: BTreeMap<String, [i64; 3]> = BTreeMap::new();
    for (at, s) in state.store.contact_sentiments(id).await? {
        let Ok(ts) = jiff::Timestamp::from_millisecond(at) else {
            continue;
        };
        let month = ts.to_zoned(zone.clone()).strftime("%Y-%m").to_string();
        let slot = match s.as_deref() {
            Some("positive") => 0,
            Some("negative") => 2,
            _ => 1,
        };
        months.entry(month).or_default()[slot] += 1;
    }
    Ok(Person {
        identities: state.store.identities(id).await?,
        conversations: state.store.contact_conversations(id, 100).await?,
        tags: state.store.contact_tags(id).await?,
        suggestions: state.store.merge_suggestions(ws, id).await?,
        sentiment: months.into_iter().collect(),
        contact,
    })
}

/// Sets the note.
pub async fn note(state: &AppState, user: &User, ws: i64, id: i64, note: &str) -> Result<()> {
    access(state, user, ws, Action::AnswerInbox).await?;
    let note = note.trim();
    if note.chars().count() > MAX_NOTE {
        return Err(FieldError::new("note", "text_too_long")
            .with("max", MAX_NOTE.to_string())
            .into());
    }
    Ok(state.store.set_contact_note(ws, id, note, now_ms()).await?)
}

/// Adds or removes a tag.
pub async fn tag(
    state: &AppState,
    user: &User,
    ws: i64,
    id: i64,
    tag: &str,
    add: bool,
) -> Result<()> {
    access(state, user, ws, Action::AnswerInbox).await?;
    state.store.contact(ws, id).await?;
    let tag = crate::inbox::clean_tag(tag)?;
    Ok(state.store.tag_contact(id, &tag, add).await?)
}

/// Merges `other` into `id`.
pub async fn merge(state: &AppState, user: &User, ws: i64, id: i64, other: i64) -> Result<()> {
    access(state, user, ws, Action::AnswerInbox).await?;
    state
        .store
        .merge_contacts(ws, id, other, now_ms())
        .await
        .map_err(|e| match e {
            StoreError::Conflict => FieldError::new("other_id", "same_contact").into(),
            StoreError::NotFound => FieldError::new("other_id", "contact_unknown").into(),
            e => AppError::from(e),
        })?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "contact.merged",
        json!({"contact_id": id, "merged_id": other}),
    )
    .await;
    Ok(())
}

/// Splits an identity off into a contact of its own; returns its id.
pub async fn split(state: &AppState, user: &User, ws: i64, id: i64, identity: i64) -> Result<i64> {
    access(state, user, ws, Action::AnswerInbox).await?;
    let new = state
        .store
        .split_identity(ws, id, identity, now_ms())
        .await
        .map_err(|e| match e {
            StoreError::Conflict => FieldError::new("identity", "last_identity").into(),
            e => AppError::from(e),
        })?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "contact.split",
        json!({"contact_id": id, "identity_id": identity, "new_contact_id": new}),
    )
    .await;
    Ok(new)
}
