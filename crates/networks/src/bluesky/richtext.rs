//! Bluesky's rich text: links, mentions and hashtags found with their
//! UTF-8 byte offsets, and the length as Bluesky counts it.

use reqwest::Url;
use unicode_segmentation::UnicodeSegmentation;

/// A facet found in a text: its byte range and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Facet {
    /// A web link.
    Link {
        /// Byte range in the UTF-8 text.
        range: (usize, usize),
        /// The address.
        uri: String,
    },
    /// `@handle`, to be resolved to a DID.
    Mention {
        /// Byte range in the UTF-8 text.
        range: (usize, usize),
        /// The handle, without `@`.
        handle: String,
    },
    /// `#tag`.
    Tag {
        /// Byte range in the UTF-8 text.
        range: (usize, usize),
        /// The tag, without `#`.
        tag: String,
    },
}

/// Whether the character before byte `i` lets a mention or tag start there.
fn starts_word(text: &str, i: usize) -> bool {
    text[..i]
        .chars()
        .next_back()
        .is_none_or(|c| c.is_whitespace() || "([{\"'".contains(c))
}

/// Finds links, mentions and hashtags in a post, with UTF-8 byte offsets.
pub fn facets(text: &str) -> Vec<Facet> {
    let mut out = vec![];
    let trailing = |s: &str| {
        s.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '"', '\''])
            .len()
    };
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..word_end];
        if (word.starts_with("https://") || word.starts_with("http://")) && starts_word(text, i) {
            let len = trailing(word);
            if Url::parse(&word[..len]).is_ok_and(|u| u.host_str().is_some()) {
                out.push(Facet::Link {
                    range: (i, i + len),
                    uri: word[..len].to_owned(),
                });
            }
        } else if let Some(h) = word.strip_prefix('@').filter(|_| starts_word(text, i)) {
            let h = &h[..trailing(h)];
            let valid = h.contains('.')
                && !h.starts_with('.')
                && !h.ends_with('.')
                && h.len() <= 253
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
            if valid {
                out.push(Facet::Mention {
                    range: (i, i + 1 + h.len()),
                    handle: h.to_ascii_lowercase(),
                });
            }
        } else if let Some(t) = word.strip_prefix('#').filter(|_| starts_word(text, i)) {
            let end = t
                .char_indices()
                .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
                .map_or(t.len(), |(j, _)| j);
            let tag = &t[..end];
            if !tag.is_empty()
                && !tag.bytes().all(|b| b.is_ascii_digit())
                && tag.graphemes(true).count() <= 64
            {
                out.push(Facet::Tag {
                    range: (i, i + 1 + end),
                    tag: tag.to_owned(),
                });
            }
        }
        // On to the next word.
        let skip = rest[word_end..]
            .find(|c: char| !c.is_whitespace())
            .map_or(rest.len(), |k| word_end + k);
        i += skip.max(1);
        while i < text.len() && !text.is_char_boundary(i) {
            i += 1;
        }
    }
    out
}

/// The length of a text as Bluesky counts it.
pub fn length(text: &str) -> usize {
    text.graphemes(true).count()
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn facets_have_utf8_byte_offsets() {
        let text = "Café ☕ open! #koffie @anna.bsky.social https://cafe.example/menu.";
        let f = facets(text);
        let slice = |r: (usize, usize)| &text[r.0..r.1];
        assert_eq!(f.len(), 3, "{f:?}");
        match &f[0] {
            Facet::Tag { range, tag } => {
                assert_eq!((slice(*range), tag.as_str()), ("#koffie", "koffie"));
                assert_eq!(range.0, "Café ☕ open! ".len());
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(&f[1], Facet::Mention { range, handle } if slice(*range) == "@anna.bsky.social" && handle == "anna.bsky.social")
        );
        assert!(
            matches!(&f[2], Facet::Link { range, uri } if slice(*range) == "https://cafe.example/menu" && uri == "https://cafe.example/menu")
        );
        // Not a mention, not a tag.
        assert!(facets("mail anna@x.nl #123 @nodot").is_empty());
        assert!(facets("").is_empty());
        assert!(facets("🍰#taart").is_empty(), "a tag starts a word");
    }

    #[test]
    fn graphemes_count_as_people_see_them() {
        assert_eq!(length("👨‍👩‍👧‍👦"), 1);
        assert_eq!(length("e\u{301}"), 1);
        assert_eq!(length("hallo"), 5);
    }
}
