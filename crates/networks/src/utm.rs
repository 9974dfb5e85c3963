//! Link tracking: UTM parameters on every web link of a post, per channel
//! and campaign.
//!
//! Every `http://` or `https://` link found as Mastodon finds them (the
//! same rules as [`crate::length`]) gets `utm_source=<network>`,
//! `utm_medium=social` and `utm_campaign=<campaign>`, after the query it
//! has and before its fragment. A parameter the link has already (in any
//! case) is left as it is. Links to the big social networks themselves
//! (profiles, posts, videos) are left alone: their owners' analytics are not
//! ours, and some refuse unknown parameters.

use crate::length::link_at;

/// Hosts whose links are not tagged (and their subdomains).
const UNTAGGED_HOSTS: &[&str] = &[
    "bsky.app",
    "bsky.social",
    "x.com",
    "twitter.com",
    "facebook.com",
    "fb.com",
    "instagram.com",
    "linkedin.com",
    "youtube.com",
    "youtu.be",
    "tiktok.com",
    "threads.net",
    "t.me",
    "wa.me",
    "whatsapp.com",
    "pinterest.com",
];

/// `text` with every web link tagged for `source` (the network) and
/// `campaign`. An empty campaign leaves the text as it is.
#[must_use]
pub fn tag_links(text: &str, source: &str, campaign: &str) -> String {
    let campaign = campaign.trim();
    if campaign.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut i = 0;
    let mut prev: Option<char> = None;
    while i < text.len() {
        if let Some(end) = link_at(text, i, prev) {
            let link = &text[i..end];
            out.push_str(&tag_one(link, source, campaign));
            prev = link.chars().next_back();
            i = end;
            continue;
        }
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        out.push(c);
        prev = Some(c);
        i += c.len_utf8();
    }
    out
}

/// The host of a link (`https://user@host:port/…` → `host`), lower case.
fn host(link: &str) -> String {
    let rest = link.split_once("//").map_or(link, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default();
    host.trim_end_matches('.').to_lowercase()
}

fn untagged(link: &str) -> bool {
    let h = host(link);
    UNTAGGED_HOSTS
        .iter()
        .any(|u| h == *u || h.ends_with(&format!(".{u}")))
}

/// Percent-encodes everything but the unreserved characters.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn tag_one(link: &str, source: &str, campaign: &str) -> String {
    if untagged(link) {
        return link.to_owned();
    }
    let (before_fragment, fragment) = match link.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (link, None),
    };
    let (base, query) = match before_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (before_fragment, None),
    };
    let has = |key: &str| {
        query.is_some_and(|q| {
            q.split('&').any(|pair| {
                pair.split('=')
                    .next()
                    .is_some_and(|k| k.eq_ignore_ascii_case(key))
            })
        })
    };
    let added: Vec<String> = [
        ("utm_source", source),
        ("utm_medium", "social"),
        ("utm_campaign", campaign),
    ]
    .into_iter()
    .filter(|(k, _)| !has(k))
    .map(|(k, v)| format!("{k}={}", encode(v)))
    .collect();
    if added.is_empty() {
        return link.to_owned();
    }
    let mut out = String::with_capacity(link.len() + 80);
    out.push_str(base);
    out.push('?');
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        out.push_str(q);
        if !q.ends_with('&') {
            out.push('&');
        }
    }
    out.push_str(&added.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::contract::Counting;
    use crate::length::count;
    use proptest::prelude::*;

    #[test]
    fn links_get_source_medium_and_campaign() {
        assert_eq!(
            tag_links("Vers: https://bakkerij.example/brood", "mastodon", "lente"),
            "Vers: https://bakkerij.example/brood?utm_source=mastodon&utm_medium=social&utm_campaign=lente"
        );
        // Query and fragment are kept; the parameters go between them.
        assert_eq!(
            tag_links("https://a.nl/x?p=1#boven", "bluesky", "lente 2025"),
            "https://a.nl/x?p=1&utm_source=bluesky&utm_medium=social&utm_campaign=lente%202025#boven"
        );
        // Trailing punctuation stays outside the link.
        assert_eq!(
            tag_links("Zie https://a.nl.", "mastodon", "c"),
            "Zie https://a.nl?utm_source=mastodon&utm_medium=social&utm_campaign=c."
        );
        assert_eq!(
            tag_links(
                "(https://nl.wikipedia.org/wiki/Brood_(voedsel))",
                "mastodon",
                "c"
            ),
            "(https://nl.wikipedia.org/wiki/Brood_(voedsel)?utm_source=mastodon&utm_medium=social&utm_campaign=c)"
        );
    }

    #[derive(serde::Deserialize)]
    struct Example {
        text: String,
        source: String,
        campaign: String,
        tagged: String,
    }

    /// The same examples test the composer's script (`count.js`).
    #[test]
    fn every_shared_example_is_tagged_as_written() {
        let examples: Vec<Example> =
            serde_json::from_str(include_str!("utm_examples.json")).unwrap();
        assert!(examples.len() >= 5);
        for e in &examples {
            assert_eq!(tag_links(&e.text, &e.source, &e.campaign), e.tagged);
        }
    }

    #[test]
    fn what_is_there_already_is_kept() {
        assert_eq!(
            tag_links("https://a.nl/?UTM_SOURCE=krant&x=1", "mastodon", "c"),
            "https://a.nl/?UTM_SOURCE=krant&x=1&utm_medium=social&utm_campaign=c"
        );
        let full = "https://a.nl/?utm_source=a&utm_medium=b&utm_campaign=c";
        assert_eq!(tag_links(full, "mastodon", "d"), full);
    }

    #[test]
    fn some_links_and_texts_are_left_alone() {
        for text in [
            "Volg ons op https://bsky.app/profile/bakkerij.example",
            "https://www.instagram.com/bakkerij",
            "bakkerij.nl en eva@bakkerij.nl",
            "https:// niets",
            "",
        ] {
            assert_eq!(tag_links(text, "mastodon", "c"), text);
        }
        assert_eq!(tag_links("https://a.nl", "mastodon", "  "), "https://a.nl");
    }

    #[test]
    fn mastodon_counts_a_tagged_link_as_23_and_bluesky_every_character() {
        let text = "Vers brood https://bakkerij.example/brood";
        let tagged = tag_links(text, "mastodon", "lente");
        assert_eq!(
            count(&tagged, Counting::CharactersUrl23),
            count(text, Counting::CharactersUrl23)
        );
        assert_eq!(
            count(&tagged, Counting::Graphemes),
            count(text, Counting::Graphemes) + tagged.len() - text.len()
        );
    }

    proptest! {
        #[test]
        fn tagging_twice_is_tagging_once(words in "[a-z ]{0,20}", path in "[a-z0-9/?=&#]{0,30}", campaign in "\\PC{1,12}") {
            let text = format!("{words} https://bakkerij.example/{path} klaar");
            let once = tag_links(&text, "bluesky", &campaign);
            prop_assert_eq!(tag_links(&once, "bluesky", &campaign), once.clone());
            prop_assert!(once.contains("utm_medium=social") || campaign.trim().is_empty());
            prop_assert!(once.ends_with(" klaar"));
        }

        #[test]
        fn text_without_links_is_unchanged_and_nothing_panics(text in "\\PC{0,200}") {
            let tagged = tag_links(&text, "mastodon", "c");
            if !text.contains("http") {
                prop_assert_eq!(tagged, text);
            }
        }
    }
}
