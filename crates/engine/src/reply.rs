//! Sending an inbox reply through the conversation's own channel: a public
//! answer, a direct message or an e-mail, as the item answered requires.
//!
//! The reply is stored (state `sending`) before anything goes out, and its
//! idempotency key is derived from the stored entry, so a retry of the same
//! reply is the same request to the network.

use dialoog_networks::{Connector, ConnectorError, ItemKind, ReplyTo};
use dialoog_store::{Channel, Entry, Item, ReplyOutcome, Store};

use crate::Cipher;
use crate::sync::{SyncError, open_credentials};

/// The network's name of an item kind stored as text.
fn kind(stored: &str) -> Option<ItemKind> {
    Some(match stored {
        "comment" => ItemKind::Comment,
        "mention" => ItemKind::Mention,
        "direct_message" => ItemKind::DirectMessage,
        "review" => ItemKind::Review,
        "email" => ItemKind::Email,
        "post" => ItemKind::Post,
        _ => return None,
    })
}

/// What the network needs to know of the item answered.
pub fn reply_to(item: &Item) -> ReplyTo {
    ReplyTo {
        external_id: item.item.external_id.clone(),
        kind: kind(&item.item.kind),
        author_handle: item.item.author_handle.clone(),
        thread_ref: item.item.thread_ref.clone(),
    }
}

/// The idempotency key of a stored reply: the same for every try.
pub fn reply_key(entry: &Entry) -> String {
    format!("dialoog-reply-{}-{}", entry.id, entry.client_key)
}

/// Sends `entry` (a reply in state `sending`) as an answer to `item`
/// through `channel`, and records the outcome. A refusal of the
/// credentials also marks the channel as needing to be reconnected.
pub async fn send_reply(
    store: &Store,
    cipher: &Cipher,
    channel: &Channel,
    item: &Item,
    entry: &Entry,
    now: impl Fn() -> i64,
) -> Result<ReplyOutcome, SyncError> {
    let outcome = match open_credentials(cipher, channel).and_then(|c| Ok(c.connector()?)) {
        Err(e) => ReplyOutcome::Failed(e.to_string()),
        Ok(connector) => {
            match connector
                .reply(&reply_to(item), &entry.text, &reply_key(entry))
                .await
            {
                Ok(p) => ReplyOutcome::Sent {
                    remote_id: p.remote_id,
                    url: p.url,
                },
                Err(ConnectorError::OutcomeUnknown { reason }) => ReplyOutcome::Unconfirmed(reason),
                Err(e) => {
                    if let ConnectorError::Authorization { reason } = &e {
                        store
                            .mark_needs_reconnect(channel.id, reason, now())
                            .await?;
                    }
                    ReplyOutcome::Failed(e.reason().to_owned())
                }
            }
        }
    };
    store.finish_reply(entry.id, &outcome, now()).await?;
    Ok(outcome)
}
