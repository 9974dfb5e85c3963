//! Reading INBOX: a sync in bounded batches from the cursor on (too large
//! messages by their header only), finding the e-mail being answered, and
//! keeping a copy of a sent answer.

use super::capped::{ANSWER_BYTES, Imap, allow};
use super::imap::imap_error;
use super::mime::{clean_id, item, valid_id};
use super::{EmailConnector, MAX_MESSAGE_BYTES};
use crate::contract::{ConnectorError, Fetched, InboundItem};
use async_imap::imap_proto::NameAttribute;
use futures_util::StreamExt;
use mail_parser::MessageParser;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Messages read at a channel's first sync: the newest ones.
const FIRST_SYNC: usize = 200;
/// Messages read per sync at most; the rest follows at the next sync.
const PER_SYNC: usize = 500;
/// How much of a header is read when only the header is fetched.
const HEADER_BYTES: usize = 256 << 10;
/// Message bytes asked for in one FETCH.
const BATCH_BYTES: usize = 16 << 20;
/// Messages asked for in one FETCH.
const BATCH_MESSAGES: usize = 100;
/// Message bytes read per sync; past it the sync stops and says `more`.
const SYNC_BYTES: usize = 64 << 20;
/// The largest answer to a SEARCH (about five million messages).
const MAX_SEARCH_BYTES: usize = 64 << 20;
/// Room per message for the FETCH framing around its bytes.
const FRAMING_BYTES: usize = 4 << 10;

/// Where the next fetch resumes: the mailbox's UIDVALIDITY and the highest
/// UID read.
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
struct Cursor {
    uidvalidity: u32,
    last_uid: u32,
}

impl EmailConnector {
    /// Reads the next messages after `cursor` from INBOX.
    pub(super) async fn fetch_inner(
        &self,
        s: &mut Imap,
        cursor: &str,
    ) -> Result<Fetched, ConnectorError> {
        let cur = if cursor.trim().is_empty() {
            None
        } else {
            serde_json::from_str::<Cursor>(cursor).ok()
        };
        let (validity, exists) = self.inbox(s).await?;
        let (first, after) = match cur {
            None => (true, 0),
            Some(c) if c.uidvalidity == validity => (false, c.last_uid),
            // The mailbox was recreated: its numbers mean other messages
            // now. Start over; storage keeps each message once by its id.
            Some(_) => (false, 0),
        };
        let mut uids: Vec<u32> = if after == u32::MAX {
            Vec::new()
        } else {
            // About 11 bytes per UID; a server claiming billions of messages
            // still gets no more than `MAX_SEARCH_BYTES`.
            allow(
                s,
                (ANSWER_BYTES + (exists as usize).saturating_mul(12)).min(MAX_SEARCH_BYTES),
            );
            let query = if after == 0 {
                "ALL".to_owned()
            } else {
                format!("UID {}:*", after + 1)
            };
            self.step("searching", s.uid_search(query))
                .await?
                .map_err(|e| imap_error(&self.imap, "searching", e))?
                .into_iter()
                .filter(|u| *u > after)
                .collect()
        };
        uids.sort_unstable();
        let mut more = false;
        if first && uids.len() > FIRST_SYNC {
            uids.drain(..uids.len() - FIRST_SYNC);
        } else if uids.len() > PER_SYNC {
            uids.truncate(PER_SYNC);
            more = true;
        }
        // Sizes first: what is too large is not downloaded whole.
        let mut sizes: HashMap<u32, Option<u32>> = HashMap::new();
        self.uid_fetch(
            s,
            &uids,
            "(UID RFC822.SIZE)",
            ANSWER_BYTES + uids.len() * 128,
            |f| {
                if let Some(uid) = f.uid {
                    sizes.insert(uid, f.size);
                }
            },
        )
        .await?;
        let present: Vec<(u32, Option<u32>)> = uids
            .iter()
            .filter_map(|u| sizes.get(u).map(|size| (*u, *size)))
            .collect();
        let is_big = |size: Option<u32>| size.is_none_or(|n| n as usize > MAX_MESSAGE_BYTES);

        let mut items = Vec::new();
        let mut last = after;
        let mut spent = 0usize;
        let mut i = 0;
        while i < present.len() {
            if spent >= SYNC_BYTES {
                more = true;
                break;
            }
            let big = is_big(present[i].1);
            let mut end = i;
            let mut bytes = 0usize;
            while end < present.len() && end - i < BATCH_MESSAGES && is_big(present[end].1) == big {
                let n = if big {
                    HEADER_BYTES
                } else {
                    present[end].1.map_or(0, |n| n as usize)
                };
                if end > i && bytes + n > BATCH_BYTES {
                    break;
                }
                bytes += n;
                end += 1;
            }
            let batch: Vec<u32> = present[i..end].iter().map(|(u, _)| *u).collect();
            let query = if big {
                format!("(UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER]<0.{HEADER_BYTES}>)")
            } else {
                "(UID RFC822.SIZE INTERNALDATE BODY.PEEK[])".to_owned()
            };
            let mut got: HashMap<u32, InboundItem> = HashMap::new();
            self.uid_fetch(
                s,
                &batch,
                &query,
                ANSWER_BYTES + bytes + batch.len() * FRAMING_BYTES,
                |f| {
                    let Some(uid) = f.uid else { return };
                    let date = f.internal_date().map(|d| d.timestamp_millis());
                    let raw = if big { f.header() } else { f.body() };
                    if let Some(raw) = raw {
                        got.insert(uid, item(raw, uid, validity, f.size, date, !big));
                    }
                },
            )
            .await?;
            items.extend(batch.iter().filter_map(|u| got.remove(u)));
            spent += bytes;
            last = batch.last().copied().unwrap_or(last);
            i = end;
        }
        if i >= present.len() {
            // Everything picked was read (or was deleted meanwhile).
            last = last.max(uids.last().copied().unwrap_or(after));
        }
        let next = Cursor {
            uidvalidity: validity,
            last_uid: last,
        };
        Ok(Fetched {
            items,
            cursor: serde_json::to_string(&next).unwrap_or_default(),
            more,
        })
    }

    /// Finds the e-mail being answered in INBOX and reads its header.
    pub(super) async fn original(&self, s: &mut Imap, id: &str) -> Result<Vec<u8>, ConnectorError> {
        let gone = || {
            ConnectorError::permanent(
                "the e-mail you are answering is no longer in the mailbox (deleted or moved)",
            )
        };
        let (validity, _) = self.inbox(s).await?;
        let (uids, by_uid) = if let Some(rest) = id.strip_prefix("uid:") {
            let (v, u) = rest.split_once(':').ok_or_else(gone)?;
            if v.parse::<u32>().ok() != Some(validity) {
                return Err(gone());
            }
            (vec![u.parse::<u32>().map_err(|_| gone())?], true)
        } else {
            if !valid_id(id) {
                return Err(ConnectorError::permanent(
                    "this is not an e-mail's Message-ID",
                ));
            }
            allow(s, ANSWER_BYTES);
            let mut found: Vec<u32> = self
                .step(
                    "searching",
                    s.uid_search(format!("HEADER Message-ID \"<{id}>\"")),
                )
                .await?
                .map_err(|e| imap_error(&self.imap, "searching", e))?
                .into_iter()
                .collect();
            found.sort_unstable();
            found.truncate(10);
            (found, false)
        };
        let mut headers = Vec::new();
        self.uid_fetch(
            s,
            &uids,
            &format!("(UID BODY.PEEK[HEADER]<0.{HEADER_BYTES}>)"),
            ANSWER_BYTES + uids.len() * (HEADER_BYTES + FRAMING_BYTES),
            |f| {
                if let Some(h) = f.header() {
                    headers.push(h.to_vec());
                }
            },
        )
        .await?;
        headers
            .into_iter()
            .find(|h| {
                by_uid
                    || MessageParser::default()
                        .parse_headers(h.as_slice())
                        .and_then(|m| m.message_id().and_then(clean_id))
                        .is_some_and(|m| m == id)
            })
            .ok_or_else(gone)
    }

    /// Puts a copy of a sent answer in the mailbox marked `\Sent`, if there
    /// is one. A failure here loses nothing: the answer went out.
    pub(super) async fn keep_copy(&self, s: &mut Imap, message: &[u8]) {
        allow(s, ANSWER_BYTES);
        let mut sent = None;
        if let Ok(Ok(list)) = tokio::time::timeout(self.timeout, s.list(Some(""), Some("*"))).await
        {
            let mut list = std::pin::pin!(list);
            while let Ok(Some(Ok(name))) = tokio::time::timeout(self.timeout, list.next()).await {
                if sent.is_none() && name.attributes().contains(&NameAttribute::Sent) {
                    sent = Some(name.name().to_owned());
                }
            }
        }
        let Some(sent) = sent else { return };
        allow(s, ANSWER_BYTES);
        match tokio::time::timeout(
            self.timeout,
            s.append(&sent, Some("(\\Seen)"), None, message),
        )
        .await
        {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "the answer could not be copied to {sent}"),
            Err(_) => tracing::warn!("copying the answer to {sent} timed out"),
        }
    }
}
