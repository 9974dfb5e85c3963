//! Measuring sentiment on a labelled set: accuracy, macro-F1, and binary
//! accuracy from the sign of the score.

use crate::{Doc, Label, lang, sentiment};

/// Figures for one labelled set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    /// Texts scored.
    pub n: usize,
    /// Share with the right label (positive, negative, neutral).
    pub accuracy: f64,
    /// Mean F1 over the three labels.
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
        macro_f1: f1s.iter().sum::<f64>() / 3.0,
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
