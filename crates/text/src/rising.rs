//! Rising terms: the words and hashtags said clearly more often now than
//! in the period before, among mentions. Function words of Dutch and
//! English, numbers and very short words are left out; a term counts once
//! per text.

use crate::{Doc, TokenKind};
use rustc_hash::{FxHashMap, FxHashSet};

/// Common Dutch and English function words, which never rise.
const STOP: &[&str] = &[
    // Dutch
    "aan", "achter", "al", "alle", "alles", "als", "bij", "daar", "dan", "dat", "de", "deze", "die",
    "dit", "doen", "door", "dus", "een", "eens", "en", "er", "geen", "had", "heb", "hebben",
    "heeft", "hem", "het", "hier", "hij", "hoe", "hun", "iets", "ik", "in", "is", "ja", "je",
    "jij", "jou", "jouw", "kan", "kun", "kunnen", "maar", "me", "meer", "men", "met", "mij",
    "mijn", "moet", "na", "naar", "niet", "niets", "nog", "nu", "of", "om", "omdat", "ons", "onze",
    "ook", "op", "over", "te", "tot", "toch", "toen", "uit", "van", "veel", "voor", "want", "was",
    "waren", "wat", "we", "wel", "werd", "wie", "wij", "wil", "worden", "wordt", "zal", "ze",
    "zei", "zich", "zij", "zijn", "zo", "zoals", "zonder", "zou", "zeer", "echt", "gewoon", "gaat",
    "gaan", "weer", "heel", "vandaag", // English
    "about", "after", "all", "also", "and", "any", "are", "because", "been", "but", "can", "could",
    "did", "does", "for", "from", "get", "got", "had", "has", "have", "her", "here", "him", "his",
    "how", "its", "just", "like", "more", "not", "now", "one", "only", "our", "out", "she",
    "should", "some", "than", "that", "the", "their", "them", "then", "there", "these", "they",
    "this", "too", "very", "was", "way", "were", "what", "when", "which", "who", "why", "will",
    "with", "would", "you", "your", "today", "really",
];

/// A term said more often now than before.
#[derive(Debug, Clone, PartialEq)]
pub struct Rising {
    /// The term as matched (lower case, accents removed; hashtags with `#`).
    pub term: String,
    /// Texts with it now.
    pub now: usize,
    /// Texts with it in the period before.
    pub before: usize,
    /// How much more often, adjusted for the sizes of the two periods:
    /// `(now + 1) / (before·scale + 1)`.
    pub growth: f64,
}

fn terms_of(text: &str, out: &mut FxHashSet<String>) {
    out.clear();
    let doc = Doc::new(text);
    for t in &doc.tokens {
        let f = t.folded();
        match t.kind {
            TokenKind::Hashtag if f.chars().count() > 2 => {
                out.insert(f.to_owned());
            }
            TokenKind::Word
                if f.chars().count() >= 3
                    && !f.chars().all(|c| c.is_ascii_digit())
                    && !STOP.contains(&f) =>
            {
                out.insert(f.to_owned());
            }
            _ => {}
        }
    }
}

fn counts<'a>(texts: impl IntoIterator<Item = &'a str>) -> (FxHashMap<String, usize>, usize) {
    let mut counts: FxHashMap<String, usize> = FxHashMap::default();
    let mut seen = FxHashSet::default();
    let mut n = 0;
    for text in texts {
        n += 1;
        terms_of(text, &mut seen);
        for t in seen.drain() {
            *counts.entry(t).or_default() += 1;
        }
    }
    (counts, n)
}

/// The `top` terms that rose most from `before` to `now`, each in at least
/// `min_now` texts now and at least twice as often as before (after
/// scaling for the number of texts in each period); the steepest first.
pub fn rising<'a>(
    now: impl IntoIterator<Item = &'a str>,
    before: impl IntoIterator<Item = &'a str>,
    min_now: usize,
    top: usize,
) -> Vec<Rising> {
    let (now, n_now) = counts(now);
    let (before, n_before) = counts(before);
    let scale = if n_before == 0 {
        1.0
    } else {
        n_now.max(1) as f64 / n_before as f64
    };
    let mut out: Vec<Rising> = now
        .into_iter()
        .filter(|(_, c)| *c >= min_now.max(1))
        .map(|(term, c)| {
            let b = before.get(&term).copied().unwrap_or(0);
            let growth = (c as f64 + 1.0) / (b as f64 * scale + 1.0);
            Rising {
                term,
                now: c,
                before: b,
                growth,
            }
        })
        .filter(|r| r.growth >= 2.0)
        .collect();
    out.sort_by(|a, b| {
        b.growth
            .total_cmp(&a.growth)
            .then(b.now.cmp(&a.now))
            .then(a.term.cmp(&b.term))
    });
    out.truncate(top);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_complaint_rises_and_the_usual_words_do_not() {
        let before = [
            "Lekker brood bij de bakker",
            "Het brood was vers",
            "Mooie taart gekocht",
            "Brood en taart, prima",
        ];
        let now = [
            "Schimmel op mijn brood!",
            "Weer schimmel, wat een brood",
            "Schimmel gevonden #schimmelbrood",
            "Lekkere taart",
        ];
        let r = rising(now, before, 2, 10);
        let terms: Vec<&str> = r.iter().map(|x| x.term.as_str()).collect();
        assert_eq!(terms, ["schimmel"], "{r:?}");
        assert_eq!((r[0].now, r[0].before), (3, 0));
        assert!(!terms.contains(&"brood"), "brood was there before");
    }

    #[test]
    fn function_words_numbers_and_repeats_within_a_text_do_not_count() {
        let r = rising(["de de de het 2026 and the", "the 2026 de"], [], 1, 10);
        assert!(r.is_empty(), "{r:?}");
        let r = rising(["staking staking staking"], [], 2, 10);
        assert!(r.is_empty(), "one text, counted once");
    }

    #[test]
    fn accents_fold_and_hashtags_keep_their_sign() {
        let r = rising(["Café dicht #Staking", "cafe dicht #staking"], [], 2, 10);
        let terms: Vec<&str> = r.iter().map(|x| x.term.as_str()).collect();
        assert!(
            terms.contains(&"cafe") && terms.contains(&"#staking"),
            "{terms:?}"
        );
    }
}
