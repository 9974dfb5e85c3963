//! The length of a post, counted as each network counts it.
//!
//! - Bluesky: grapheme clusters of the text as sent (300 at most).
//! - Mastodon (its status length validator): grapheme clusters, after every
//!   link that starts with `http://` or `https://` is counted as 23
//!   characters and every mention `@name@server` as `@name`. Links without
//!   a protocol (`bakkerij.nl`) count as written, as on Mastodon. Where a
//!   link ends follows the usual rules (trailing punctuation and an
//!   unbalanced closing parenthesis are not part of it); exotic cases the
//!   network's full link grammar treats differently may count a few
//!   characters apart.
//! - Characters: Unicode scalar values.

use crate::contract::{Counting, Rules};
use unicode_segmentation::UnicodeSegmentation;

/// What a Mastodon link counts as, however long it is.
pub const MASTODON_URL_LENGTH: usize = 23;

/// The length of `text` as a network counting by `counting` sees it.
#[must_use]
pub fn count(text: &str, counting: Counting) -> usize {
    match counting {
        Counting::Graphemes => text.graphemes(true).count(),
        Counting::Characters => text.chars().count(),
        Counting::CharactersUrl23 => mastodon(text),
    }
}

/// `Some((count, max))` when `text` is longer than the rules allow.
#[must_use]
pub fn over_limit(text: &str, rules: &Rules) -> Option<(usize, usize)> {
    let max = rules.max_length?;
    let n = count(text, rules.counting);
    (n > max).then_some((n, max))
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Where a link starting at byte `start` of `text` ends.
fn url_end(text: &str, start: usize) -> usize {
    let rest = &text[start..];
    let mut end = rest
        .char_indices()
        .find(|(_, c)| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
        .map_or(rest.len(), |(i, _)| i);
    loop {
        let s = &rest[..end];
        let Some(last) = s.chars().next_back() else {
            break;
        };
        let unbalanced = last == ')' && s.matches('(').count() < s.matches(')').count();
        if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '\'' | ']' | '*') || unbalanced {
            end -= last.len_utf8();
        } else {
            break;
        }
    }
    start + end
}

/// Where the web link starting at byte `i` of `text` ends, if one starts
/// there (`prev`: the character before it), found as Mastodon finds links.
pub fn link_at(text: &str, i: usize, prev: Option<char>) -> Option<usize> {
    let rest = text.get(i..)?;
    let boundary = prev.is_none_or(|p| !is_word(p) && p != '/' && p != '@');
    if !boundary || !(rest.starts_with("https://") || rest.starts_with("http://")) {
        return None;
    }
    let end = url_end(text, i);
    (end > i + rest.find("//").unwrap_or(0) + 2).then_some(end)
}

fn mastodon(text: &str) -> usize {
    let mut countable = String::with_capacity(text.len());
    let mut i = 0;
    let mut prev: Option<char> = None;
    while i < text.len() {
        let rest = &text[i..];
        let boundary = prev.is_none_or(|p| !is_word(p) && p != '/' && p != '@');
        if let Some(end) = link_at(text, i, prev) {
            countable.push_str(&"x".repeat(MASTODON_URL_LENGTH));
            prev = text[..end].chars().next_back();
            i = end;
            continue;
        }
        if boundary && rest.starts_with('@') {
            let user: usize = rest[1..]
                .char_indices()
                .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
                .map_or(rest.len() - 1, |(n, _)| n);
            if user > 0 {
                let after = &rest[1 + user..];
                let mut end = 1 + user;
                if let Some(domain) = after.strip_prefix('@') {
                    let d: usize = domain
                        .char_indices()
                        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-')))
                        .map_or(domain.len(), |(n, _)| n);
                    let d = domain[..d].trim_end_matches(['.', '-']).len();
                    if d > 0 {
                        end += 1 + d;
                    }
                }
                countable.push_str(&rest[..=user]);
                prev = rest[..end].chars().next_back();
                i += end;
                continue;
            }
        }
        let Some(c) = rest.chars().next() else { break };
        countable.push(c);
        prev = Some(c);
        i += c.len_utf8();
    }
    countable.graphemes(true).count()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(serde::Deserialize)]
    struct Example {
        text: String,
        graphemes: usize,
        mastodon: usize,
        characters: usize,
    }

    #[test]
    fn every_example_counts_as_the_networks_count() {
        let examples: Vec<Example> =
            serde_json::from_str(include_str!("length_examples.json")).unwrap();
        assert!(examples.len() >= 20);
        for e in &examples {
            assert_eq!(
                count(&e.text, Counting::Graphemes),
                e.graphemes,
                "graphemes of {:?}",
                e.text
            );
            assert_eq!(
                count(&e.text, Counting::CharactersUrl23),
                e.mastodon,
                "Mastodon count of {:?}",
                e.text
            );
            assert_eq!(
                count(&e.text, Counting::Characters),
                e.characters,
                "characters of {:?}",
                e.text
            );
        }
    }

    proptest! {
        #[test]
        fn a_link_counts_23_whatever_its_length(words in "[a-zé ]{0,40}", path in "[a-z0-9/]{0,200}") {
            let text = format!("{words} https://bakkerij.example/{path} klaar");
            let plain = format!("{words} {} klaar", "x".repeat(23));
            prop_assert_eq!(count(&text, Counting::CharactersUrl23), count(&plain, Counting::Graphemes));
        }

        #[test]
        fn counts_never_panic_and_graphemes_are_at_most_characters(text in "\\PC{0,200}") {
            let g = count(&text, Counting::Graphemes);
            prop_assert!(g <= count(&text, Counting::Characters));
            let _ = count(&text, Counting::CharactersUrl23);
        }
    }
}
