//! The per-text path gives the same answers as before: fingerprints of the
//! language, the score's exact bits and the tokens over many generated texts,
//! recorded from the scorer as it was when they were written. A change that
//! is meant to make the path faster must keep these; a change that is meant
//! to change answers updates them (and says so).

use dialoog_text::eval::{
    DEVSET_EN, DEVSET_NL, REVIEWS_EN, REVIEWS_NL, Rng, read_tsv, sample_texts,
};
use dialoog_text::{Doc, lang, sentiment};

/// FNV-1a, 64 bits: small, stable across Rust versions and platforms.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, b: &[u8]) {
        for x in b {
            self.0 ^= u64::from(*x);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn str(&mut self, s: &str) {
        self.bytes(&(s.len() as u64).to_le_bytes());
        self.bytes(s.as_bytes());
    }
}

/// Language and sentiment of one text.
fn verdict(h: &mut Fnv, text: &str) {
    let doc = Doc::new(text);
    let l = lang::detect(&doc);
    let (_, confidence) = lang::detect_scores(&doc);
    let s = sentiment::score(&doc, l);
    h.str(l.map_or("-", |l| l.code()));
    h.bytes(&confidence.to_bits().to_le_bytes());
    h.bytes(&s.score.to_bits().to_le_bytes());
    h.str(s.label.as_str());
}

/// Everything a `Doc` holds.
fn tokens(h: &mut Fnv, text: &str) {
    let doc = Doc::new(text);
    h.str(&doc.text);
    h.bytes(&doc.exclamations.to_le_bytes());
    h.bytes(&[u8::from(doc.all_caps)]);
    for t in &doc.tokens {
        h.str(&format!("{:?}", t.kind));
        h.str(t.lower());
        h.str(t.folded());
        h.bytes(&[
            u8::from(t.caps),
            u8::from(t.clause_end),
            u8::from(t.sentence_end),
        ]);
    }
}

/// Texts built from pieces that stress the tokeniser and normalisation:
/// accents (composed and combining), ligatures, full-width letters,
/// emoji with modifiers and joiners, flags, emoticons, links, mentions,
/// e-mail addresses, apostrophes and punctuation.
pub(crate) fn odd_texts(n: usize, seed: u64) -> Vec<String> {
    const PIECES: &[&str] = &[
        "goed",
        "Niet",
        "NIET",
        "heel",
        "slecht",
        "not",
        "bad",
        "GREAT",
        "don't",
        "don\u{2019}t",
        "z'n",
        "geïrriteerd",
        "Gei\u{308}rriteerd",
        "café",
        "cafe\u{301}",
        "ĳs",
        "IJs",
        "ﬁne",
        "ｇｏｅｄ",
        "Ǆ",
        "ß",
        "straße",
        "ça",
        "mañana",
        "acción",
        "über",
        "schön",
        "ελληνικά",
        "日本語",
        "😍",
        "😡",
        "👍🏽",
        "👨\u{200D}👩\u{200D}👧",
        "🇳🇱",
        "🇳🇱🇧🇪",
        "❤\u{FE0F}",
        "1\u{FE0F}\u{20E3}",
        ":-)",
        ":)",
        ":D",
        "XD",
        "<3",
        "</3",
        ":-(",
        ">:(",
        "-_-",
        "d:",
        "^_^",
        "::)",
        "#lekker",
        "#not",
        "#Ironie",
        "@anna",
        "@anna@mastodon.social",
        "@x.y",
        "#",
        "@",
        "info@bakker.nl",
        "a@b",
        "https://x.nl/a?b=1.",
        "www.test.nl)",
        "http://",
        "!",
        "!!!",
        "?",
        ".",
        ",",
        ";",
        ":",
        "\n",
        " ",
        "  ",
        "\t",
        "'",
        "\u{2019}",
        "-",
        "/s",
        "1/5",
        "8",
        "out",
        "of",
        "10",
        "vijf",
        "sterren",
        "stars",
        "maar",
        "but",
        "hoewel",
        "al",
        "was",
        "nooit",
        "meer",
        "never",
        "again",
        "supertevreden",
        "keigoed",
        "goede",
        "mooiste",
        "a\u{301}",
        "\u{200D}",
        "\u{301}",
        "x",
        "_",
        "ǅungla",
        "İstanbul",
        "ΣΑΣ",
    ];
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let len = 1 + rng.below(12);
            let mut s = String::new();
            for _ in 0..len {
                s.push_str(rng.pick(PIECES).copied().unwrap_or(""));
                match rng.below(4) {
                    0 => {}
                    1 | 2 => s.push(' '),
                    _ => s.push_str(rng.pick(PIECES).copied().unwrap_or("")),
                }
            }
            s
        })
        .collect()
}

fn fingerprint(texts: &[String], f: fn(&mut Fnv, &str)) -> u64 {
    let mut h = Fnv::new();
    for t in texts {
        f(&mut h, t);
    }
    h.0
}

/// The labelled sets' texts, as they are.
fn set_texts() -> Vec<String> {
    [DEVSET_NL, DEVSET_EN, REVIEWS_NL, REVIEWS_EN]
        .into_iter()
        .flat_map(read_tsv)
        .map(|(_, t)| t.to_owned())
        .collect()
}

#[test]
fn language_and_sentiment_of_200000_sample_texts_are_unchanged() {
    let texts = sample_texts(200_000, 2026);
    assert_eq!(fingerprint(&texts, verdict), 5063734942451726002);
}

#[test]
fn tokens_of_sample_texts_are_unchanged() {
    let texts = sample_texts(20_000, 7);
    assert_eq!(fingerprint(&texts, tokens), 7740426393279615629);
}

#[test]
fn labelled_sets_are_unchanged() {
    let texts = set_texts();
    assert_eq!(
        (fingerprint(&texts, verdict), fingerprint(&texts, tokens)),
        (17133245335930076349, 14965954436417982034)
    );
}

#[test]
fn odd_texts_are_unchanged() {
    let texts = odd_texts(50_000, 11);
    assert_eq!(
        (fingerprint(&texts, verdict), fingerprint(&texts, tokens)),
        (1888352980193716339, 4119657661051144367)
    );
}
