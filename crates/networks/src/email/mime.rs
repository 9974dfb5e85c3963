//! MIME parsing: a message (or only its header) made into an
//! [`InboundItem`], with its sender, thread, plain text and attachments,
//! and the Message-ID rules shared with answering.

use crate::contract::{Author, InboundItem, ItemKind, Media};
use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders, PartType};

/// The longest text kept from one e-mail.
const MAX_TEXT_BYTES: usize = 1 << 20;
/// Attachments listed per e-mail.
const MAX_MEDIA: usize = 100;
/// The longest Message-ID taken as the item's id.
const MAX_ID_LEN: usize = 250;

/// Whether `id` can be a Message-ID we use and search for.
pub(super) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\\'))
}

/// A Message-ID without its angle brackets, if it is usable.
pub(super) fn clean_id(raw: &str) -> Option<String> {
    let id = raw
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    valid_id(id).then(|| id.to_owned())
}

/// The Message-IDs in a header (`References`, `In-Reply-To`).
pub(super) fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    let raw: Vec<&str> = match v {
        HeaderValue::Text(t) => vec![t.as_ref()],
        HeaderValue::TextList(l) => l.iter().map(AsRef::as_ref).collect(),
        _ => Vec::new(),
    };
    raw.into_iter()
        .flat_map(str::split_whitespace)
        .filter_map(clean_id)
        .take(1000)
        .collect()
}

/// One line, control characters out, spaces folded, at most 200 characters.
pub(super) fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(200)
        .collect()
}

/// Cuts text at `max` bytes, on a character boundary.
fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// The body as plain text: the text/plain parts, else the HTML ones made
/// harmless.
fn body_text(m: &Message<'_>) -> String {
    let mut parts = Vec::new();
    for list in [&m.text_body, &m.html_body] {
        for id in list {
            match m.parts.get(*id as usize).map(|p| &p.body) {
                Some(PartType::Text(t)) => parts.push(t.to_string()),
                Some(PartType::Html(h)) => parts.push(crate::html::to_text(h)),
                _ => {}
            }
        }
        if !parts.is_empty() {
            break;
        }
    }
    let text = parts.join("\n").replace("\r\n", "\n").replace('\r', "\n");
    let text: String = text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    cut(text.trim().to_owned(), MAX_TEXT_BYTES)
}

/// A size for people, in MB with one decimal.
fn size_text(bytes: u32) -> String {
    let tenths = u64::from(bytes) * 10 / (1 << 20);
    format!("{}.{} MB", tenths / 10, tenths % 10)
}

/// An inbound item from a message (`whole`) or only its header.
pub(super) fn item(
    raw: &[u8],
    uid: u32,
    validity: u32,
    size: Option<u32>,
    internal_date: Option<i64>,
    whole: bool,
) -> InboundItem {
    let parser = MessageParser::default();
    let parsed = if whole {
        parser.parse(raw)
    } else {
        parser.parse_headers(raw)
    };
    let fallback_id = format!("uid:{validity}:{uid}");
    let Some(m) = parsed else {
        return InboundItem {
            external_id: fallback_id.clone(),
            kind: ItemKind::Email,
            author: Author {
                id: String::new(),
                name: "(unknown sender)".into(),
                handle: None,
            },
            thread_ref: Some(fallback_id),
            in_reply_to: None,
            text: "(this e-mail could not be read)".into(),
            url: None,
            published_at: internal_date,
            media: Vec::new(),
        };
    };
    let own_id = m.message_id().and_then(clean_id);
    let external_id = own_id.clone().unwrap_or(fallback_id);
    let in_reply_to = ids(m.in_reply_to()).into_iter().next();
    let thread_ref = ids(m.references())
        .into_iter()
        .next()
        .or_else(|| in_reply_to.clone())
        .unwrap_or_else(|| external_id.clone());
    let from = m
        .from()
        .and_then(|a| a.first())
        .or_else(|| m.sender().and_then(|a| a.first()));
    let address = from
        .and_then(|a| a.address.as_deref())
        .map(one_line)
        .unwrap_or_default();
    let name = from
        .and_then(|a| a.name.as_deref())
        .map(one_line)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| address.clone());
    let author = Author {
        id: address.to_lowercase(),
        name: if name.is_empty() {
            "(unknown sender)".into()
        } else {
            name
        },
        handle: (!address.is_empty()).then(|| address.clone()),
    };
    let subject = m.subject().map(one_line).unwrap_or_default();
    let body = if whole {
        body_text(&m)
    } else {
        format!(
            "(This e-mail is {}, too large for Dialoog to fetch; read it in your mail program.)",
            size.map_or("over 10 MB".to_owned(), size_text)
        )
    };
    let text = match (subject.is_empty(), body.is_empty()) {
        (true, _) => body,
        (false, true) => subject,
        (false, false) => format!("{subject}\n{body}"),
    };
    let published_at = m
        .date()
        .filter(|d| d.is_valid())
        .and_then(|d| d.to_timestamp().checked_mul(1000))
        .or(internal_date);
    let media = if whole {
        m.attachments
            .iter()
            .take(MAX_MEDIA)
            .filter_map(|id| m.parts.get(*id as usize).map(|p| (id, p)))
            .map(|(id, p)| Media {
                url: format!("imap:{validity}/{uid}/{id}"),
                kind: p
                    .content_type()
                    .map(|c| match c.subtype() {
                        Some(sub) => format!("{}/{sub}", c.ctype()),
                        None => c.ctype().to_owned(),
                    })
                    .map(|k| one_line(&k).to_lowercase())
                    .unwrap_or_else(|| "application/octet-stream".into()),
                alt: p.attachment_name().map(one_line).unwrap_or_default(),
            })
            .collect()
    } else {
        Vec::new()
    };
    InboundItem {
        external_id,
        kind: ItemKind::Email,
        author,
        thread_ref: Some(thread_ref),
        in_reply_to,
        text,
        url: None,
        published_at,
        media,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn odd_mail_does_not_panic() {
        for raw in [
            &b""[..],
            b"\r\n\r\n",
            b"From: <>\r\nSubject: =?utf-8?B?////?=\r\nMessage-ID: <<<>>>\r\n\r\n",
            b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n--x--",
            b"Date: Mon, 99 Foo 99999 99:99:99 +9999\r\n\r\nbody",
        ] {
            for whole in [true, false] {
                let it = item(raw, 7, 3, Some(10), None, whole);
                assert!(!it.external_id.is_empty());
                assert!(it.thread_ref.is_some());
            }
        }
        let it = item(b"Subject: hi\r\n\r\n", 7, 3, None, Some(5), true);
        assert_eq!(it.external_id, "uid:3:7");
        assert_eq!(it.published_at, Some(5));
    }
}
