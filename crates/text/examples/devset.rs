//! Prints sentiment figures on the development sets and the review sets
//! (for BENCHMARKS.md):
//! `cargo run --release -p dialoog-text --example devset`
#![allow(clippy::print_stdout)]

use dialoog_text::eval::{
    DEVSET_EN, DEVSET_NL, REVIEWS_EN, REVIEWS_NL, evaluate, read_tsv, split,
};

fn main() {
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
