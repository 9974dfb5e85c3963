//! Measuring sentiment on a labelled set (accuracy, macro-F1, binary
//! accuracy from the sign of the score), and generated inputs for the
//! benchmarks.

use crate::{Doc, Label, lang, sentiment};

/// Figures for one labelled set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    /// Texts scored.
    pub n: usize,
    /// Share with the right label (positive, negative, neutral).
    pub accuracy: f64,
    /// Mean F1 over the labels the set uses (a review set without neutral
    /// texts averages positive and negative only).
    pub macro_f1: f64,
    /// On positive and negative texts only: share whose score has the right
    /// sign (a score of exactly 0 counts as wrong).
    pub binary_accuracy: f64,
}

fn parse_label(s: &str) -> Option<Label> {
    match s {
        "positive" => Some(Label::Positive),
        "negative" => Some(Label::Negative),
        "neutral" => Some(Label::Neutral),
        _ => None,
    }
}

/// Reads `label<TAB>text` lines (blank lines and `#` comments skipped).
pub fn read_tsv(src: &str) -> Vec<(Label, &str)> {
    src.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .filter_map(|(l, t)| Some((parse_label(l)?, t)))
        .collect()
}

/// Scores every text and compares with its label.
pub fn evaluate(items: &[(Label, &str)]) -> Figures {
    let labels = [Label::Positive, Label::Negative, Label::Neutral];
    let mut confusion = [[0usize; 3]; 3];
    let (mut polar, mut polar_right) = (0usize, 0usize);
    let idx = |l: Label| labels.iter().position(|x| *x == l).unwrap_or(2);
    for (gold, text) in items {
        let doc = Doc::new(text);
        let s = sentiment::score(&doc, lang::detect(&doc));
        if let Some(row) = confusion.get_mut(idx(*gold))
            && let Some(cell) = row.get_mut(idx(s.label))
        {
            *cell += 1;
        }
        match gold {
            Label::Positive => {
                polar += 1;
                polar_right += usize::from(s.score > 0.0);
            }
            Label::Negative => {
                polar += 1;
                polar_right += usize::from(s.score < 0.0);
            }
            Label::Neutral => {}
        }
    }
    let n = items.len();
    let right: usize = (0..3).map(|i| confusion[i][i]).sum();
    let f1s: Vec<f64> = (0..3)
        .filter(|i| confusion[*i].iter().sum::<usize>() > 0)
        .map(|i| {
            let tp = confusion[i][i] as f64;
            let predicted: usize = (0..3).map(|g| confusion[g][i]).sum();
            let actual: usize = confusion[i].iter().sum();
            let (p, r) = (tp / predicted.max(1) as f64, tp / actual.max(1) as f64);
            if p + r == 0.0 {
                0.0
            } else {
                2.0 * p * r / (p + r)
            }
        })
        .collect();
    Figures {
        n,
        accuracy: right as f64 / n.max(1) as f64,
        macro_f1: f1s.iter().sum::<f64>() / f1s.len().max(1) as f64,
        binary_accuracy: polar_right as f64 / polar.max(1) as f64,
    }
}

/// Labelled texts.
pub type Labelled<'a> = Vec<(Label, &'a str)>;

/// Splits a development set: every fifth text is held out from tuning.
pub fn split<'a>(items: &[(Label, &'a str)]) -> (Labelled<'a>, Labelled<'a>) {
    let (mut tune, mut held) = (vec![], vec![]);
    for (i, it) in items.iter().enumerate() {
        if i % 5 == 4 {
            held.push(*it)
        } else {
            tune.push(*it)
        }
    }
    (tune, held)
}

/// The development sets written and labelled by the Dialoog team.
pub const DEVSET_NL: &str = include_str!("../data/devset/nl.tsv");
/// The English development set.
pub const DEVSET_EN: &str = include_str!("../data/devset/en.tsv");

/// Review-style evaluation sets (several sentences each, positive and
/// negative only), written and labelled by the team and never tuned on: a
/// second held-out measure for longer, mixed texts.
pub const REVIEWS_NL: &str = include_str!("../data/devset/reviews_nl.tsv");
/// The English review set.
pub const REVIEWS_EN: &str = include_str!("../data/devset/reviews_en.tsv");

/// A small deterministic generator (xorshift64*), so runs are repeatable.
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// One of the items.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

const EXTRAS: [&str; 10] = [
    "#klantenservice",
    "@bakkerijdevries",
    "https://example.nl/p/123",
    "😍",
    "😡",
    "👍",
    "#webcare",
    "@support",
    "!!",
    "#fail",
];

/// Social-length texts: one or two sentences from the development sets,
/// sometimes with a hashtag, mention, link or emoji.
pub fn sample_texts(n: usize, seed: u64) -> Vec<String> {
    let pool: Vec<&str> = read_tsv(DEVSET_NL)
        .into_iter()
        .chain(read_tsv(DEVSET_EN))
        .map(|(_, t)| t)
        .collect();
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let mut s = rng.pick(&pool).copied().unwrap_or("").to_owned();
            if rng.below(3) == 0 {
                s.push(' ');
                s.push_str(rng.pick(&pool).copied().unwrap_or(""));
            }
            if rng.below(2) == 0 {
                s.push(' ');
                s.push_str(rng.pick(&EXTRAS).copied().unwrap_or(""));
            }
            s
        })
        .collect()
}

/// Listening queries as workspaces write them: mostly brand and product
/// names (words, phrases, prefixes, hashtags, mentions, with NOT and OR),
/// some on common words.
pub fn sample_queries(n: usize, seed: u64) -> Vec<String> {
    const COMMON: [&str; 16] = [
        "taart",
        "service",
        "levering",
        "bestelling",
        "koffie",
        "delivery",
        "order",
        "pizza",
        "fiets",
        "hotel",
        "app",
        "brood",
        "staff",
        "refund",
        "klacht",
        "croissants",
    ];
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let brand = format!("merk{i}");
            match rng.below(10) {
                0 => format!(
                    "{} AND NOT vacature",
                    rng.pick(&COMMON).copied().unwrap_or("taart")
                ),
                1 => format!("\"{brand} winkel\" OR #{brand}"),
                2 => format!("@{brand} OR {brand}*"),
                3 => format!("({brand} OR {brand}nl) lang:nl"),
                4 => format!("{brand} {}", rng.pick(&COMMON).copied().unwrap_or("app")),
                _ => format!("{brand} OR \"{brand} shop\" OR #{brand}"),
            }
        })
        .collect()
}
