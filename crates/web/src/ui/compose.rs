//! The composer's per-channel parts: a panel per channel (its own text and
//! how its network counts), and a preview of how each network will show
//! the post: links as the network shortens them, mentions and hashtags
//! marked, the images with their alt text, and the count.

use dialoog_networks::contract::{Counting, Rules};
use dialoog_networks::length;

/// A piece of a previewed text.
pub struct Seg {
    /// `text`, `link`, `mention` or `tag`.
    pub kind: &'static str,
    /// What the network shows.
    pub text: String,
}

/// How a network counts, as `count.js` names it.
#[must_use]
pub fn counting_name(c: Counting) -> &'static str {
    match c {
        Counting::Graphemes => "graphemes",
        Counting::CharactersUrl23 => "mastodon",
        Counting::Characters => "characters",
    }
}

/// How a link looks on `network`: Mastodon shows it without its scheme
/// and `www.`, cut after 30 characters; elsewhere it shows as written
/// (Bluesky shows the text as Dialoog sends it, with the link marked).
fn link_shown(link: &str, network: &str) -> String {
    if network != "mastodon" {
        return link.to_owned();
    }
    let bare = link
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_start_matches("www.");
    if bare.chars().count() > 30 {
        let mut s: String = bare.chars().take(30).collect();
        s.push('…');
        s
    } else {
        bare.to_owned()
    }
}

fn starts_word(prev: Option<char>) -> bool {
    prev.is_none_or(|c| c.is_whitespace() || "([{\"'".contains(c))
}

/// `text` in pieces as `network` shows it.
#[must_use]
pub fn segments(text: &str, network: &str) -> Vec<Seg> {
    let mut out: Vec<Seg> = vec![];
    let mut plain = String::new();
    let mut i = 0;
    let mut prev: Option<char> = None;
    let flush = |plain: &mut String, out: &mut Vec<Seg>| {
        if !plain.is_empty() {
            out.push(Seg {
                kind: "text",
                text: std::mem::take(plain),
            });
        }
    };
    while i < text.len() {
        let rest = &text[i..];
        if let Some(end) = length::link_at(text, i, prev) {
            flush(&mut plain, &mut out);
            out.push(Seg {
                kind: "link",
                text: link_shown(&text[i..end], network),
            });
            prev = text[..end].chars().next_back();
            i = end;
            continue;
        }
        if starts_word(prev) && (rest.starts_with('@') || rest.starts_with('#')) {
            let body: usize = rest[1..]
                .char_indices()
                .find(|(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '@' | '-')))
                .map_or(rest.len() - 1, |(n, _)| n);
            let word = rest[..=body].trim_end_matches(['.', '-', '@']);
            if word.len() > 1 {
                flush(&mut plain, &mut out);
                let kind = if rest.starts_with('@') {
                    "mention"
                } else {
                    "tag"
                };
                let shown = if kind == "mention" && network == "mastodon" {
                    // Mastodon shows a remote mention by its local part.
                    word.splitn(3, '@').take(2).collect::<Vec<_>>().join("@")
                } else {
                    word.to_owned()
                };
                out.push(Seg { kind, text: shown });
                prev = word.chars().next_back();
                i += word.len();
                continue;
            }
        }
        let Some(c) = rest.chars().next() else {
            break;
        };
        plain.push(c);
        prev = Some(c);
        i += c.len_utf8();
    }
    flush(&mut plain, &mut out);
    out
}

/// A count against a network's limit, as the preview shows it.
#[must_use]
pub fn counted(text: &str, rules: &Rules) -> (usize, Option<usize>) {
    (length::count(text, rules.counting), rules.max_length)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str, network: &str) -> Vec<(&'static str, String)> {
        segments(text, network)
            .into_iter()
            .map(|s| (s.kind, s.text))
            .collect()
    }

    #[test]
    fn mastodon_shortens_links_and_remote_mentions() {
        assert_eq!(
            shown(
                "Vers! https://www.bakkerij.example/winkels/amsterdam/centrum @anna@social.example #brood.",
                "mastodon"
            ),
            [
                ("text", "Vers! ".to_owned()),
                ("link", "bakkerij.example/winkels/amste…".to_owned()),
                ("text", " ".to_owned()),
                ("mention", "@anna".to_owned()),
                ("text", " ".to_owned()),
                ("tag", "#brood".to_owned()),
                ("text", ".".to_owned()),
            ]
        );
    }

    #[test]
    fn bluesky_shows_the_text_as_sent() {
        assert_eq!(
            shown("@anna.bsky.social kijk https://a.nl/x", "bluesky"),
            [
                ("mention", "@anna.bsky.social".to_owned()),
                ("text", " kijk ".to_owned()),
                ("link", "https://a.nl/x".to_owned()),
            ]
        );
        assert_eq!(
            shown("mail eva@bakkerij.nl #", "bluesky"),
            [("text", "mail eva@bakkerij.nl #".to_owned())]
        );
    }
}
