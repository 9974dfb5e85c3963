//! Near-duplicate fingerprints: a 64-bit similarity hash over a text's words
//! and hashtags, so a repost, a copy with other links or mentions, or a copy
//! with a word changed differs from its original in few bits.

use crate::doc::{Doc, TokenKind};

/// Fingerprints this many bits apart or fewer are near-copies.
pub const NEAR: u32 = 3;

/// Words that mark a repost rather than say anything.
const REPOST_MARKS: [&str; 2] = ["rt", "via"];

/// FNV-1a, then a final mix so nearby words spread over all 64 bits.
fn hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

/// The similarity hash of a text's words and hashtags (folded, `#`
/// dropped); links, mentions, emoji and repost marks do not count. A text
/// with no words has fingerprint 0.
#[must_use]
pub fn fingerprint(doc: &Doc) -> u64 {
    let mut weights = [0i32; 64];
    let mut any = false;
    for t in &doc.tokens {
        let w = match t.kind {
            TokenKind::Word => t.folded(),
            TokenKind::Hashtag => t.folded().trim_start_matches('#'),
            _ => continue,
        };
        if w.is_empty() || REPOST_MARKS.contains(&w) {
            continue;
        }
        any = true;
        let h = hash(w);
        for (i, weight) in weights.iter_mut().enumerate() {
            *weight += if h >> i & 1 == 1 { 1 } else { -1 };
        }
    }
    if !any {
        return 0;
    }
    weights
        .iter()
        .enumerate()
        .fold(0u64, |acc, (i, w)| if *w > 0 { acc | 1 << i } else { acc })
}

/// Whether two fingerprints are near-copies.
#[must_use]
pub fn near(a: u64, b: u64) -> bool {
    (a ^ b).count_ones() <= NEAR
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(s: &str) -> u64 {
        fingerprint(&Doc::new(s))
    }

    #[test]
    fn reposts_and_copies_are_near_and_other_texts_are_not() {
        let a = fp(
            "Slechte service bij Bakkerij De Vries, al twee weken wachten op mijn taart #klacht",
        );
        assert_eq!(
            a,
            fp(
                "RT @piet: Slechte service bij Bakkerij De Vries, al twee weken wachten op mijn taart #klacht https://t.co/x"
            )
        );
        assert_eq!(
            a,
            fp("slechte SERVICE bij bakkerij de vries al twee weken wachten op mijn taart klacht")
        );
        assert!(!near(
            a,
            fp("Heerlijke kerststol gehaald bij Bakkerij De Vries, aanrader!")
        ));
        assert!(!near(a, fp("De Vries")));
        assert_eq!(fp("https://x.nl @a 😀"), 0);
    }
}
