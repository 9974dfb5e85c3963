//! Prints sentiment figures on the development sets and the review sets
//! (for BENCHMARKS.md):
//! `cargo run --release -p dialoog-text --example devset`
//!
//! With a file argument it lists the texts of that set whose sign is wrong
//! instead (for working on the tuning sets, not the held-out ones):
//! `cargo run --release -p dialoog-text --example devset -- data/devset/reviews_tune_en.tsv`
#![allow(clippy::print_stdout)]

use dialoog_text::eval::{DEVSET_EN, DEVSET_NL, REVIEWS_EN, REVIEWS_NL, evaluate, read_tsv, split};
use dialoog_text::{Doc, Label, lang, sentiment};

fn main() {
    if let Some(path) = std::env::args().nth(1) {
        let src = std::fs::read_to_string(&path).unwrap_or_default();
        let items = read_tsv(&src);
        for (gold, text) in &items {
            let doc = Doc::new(text);
            let s = sentiment::score(&doc, lang::detect(&doc));
            let wrong = match gold {
                Label::Positive => s.score <= 0.0,
                Label::Negative => s.score >= 0.0,
                Label::Neutral => s.label != Label::Neutral,
            };
            if wrong {
                println!("{}\t{:+.3}\t{text}", gold.as_str(), s.score);
            }
        }
        let f = evaluate(&items);
        println!(
            "{path}: {} texts, binary accuracy {:.3}",
            f.n, f.binary_accuracy
        );
        return;
    }
    println!(
        "| language | split | texts | accuracy (3 labels) | macro-F1 | binary accuracy (sign) |"
    );
    println!("|---|---|---|---|---|---|");
    for (lang, src, reviews) in [("nl", DEVSET_NL, REVIEWS_NL), ("en", DEVSET_EN, REVIEWS_EN)] {
        let all = read_tsv(src);
        let (tune, held) = split(&all);
        let reviews = read_tsv(reviews);
        for (name, set) in [
            ("tuning (4/5)", &tune),
            ("held out (1/5)", &held),
            ("all", &all),
            ("reviews (held out)", &reviews),
        ] {
            let f = evaluate(set);
            println!(
                "| {lang} | {name} | {} | {:.3} | {:.3} | {:.3} |",
                f.n, f.accuracy, f.macro_f1, f.binary_accuracy
            );
        }
    }
}
