//! The text crate's suite: quality on the development sets must not slip.
#![allow(clippy::unwrap_used, missing_docs)]

mod matcher;
mod outputs;

use dialoog_text::eval::{DEVSET_EN, DEVSET_NL, REVIEWS_EN, REVIEWS_NL, evaluate, read_tsv, split};

/// Floors a little under what the scorer measures today (BENCHMARKS.md), so
/// a change that makes sentiment worse fails here.
#[test]
fn development_set_quality_holds() {
    for (lang, src, floor_acc, floor_binary) in
        [("nl", DEVSET_NL, 0.88, 0.92), ("en", DEVSET_EN, 0.83, 0.94)]
    {
        let all = read_tsv(src);
        assert!(all.len() >= 500, "{lang}: only {} texts", all.len());
        let f = evaluate(&all);
        assert!(
            f.accuracy >= floor_acc,
            "{lang}: accuracy {:.3}",
            f.accuracy
        );
        assert!(
            f.binary_accuracy >= floor_binary,
            "{lang}: binary accuracy {:.3}",
            f.binary_accuracy
        );
        let (_, held) = split(&all);
        assert!(
            evaluate(&held).binary_accuracy >= 0.85,
            "{lang}: held-out binary accuracy"
        );
    }
}

/// The review sets (several sentences, mixed praise and complaint) are held
/// out from tuning; the floors sit a little under what the scorer measures
/// (BENCHMARKS.md), so a change that loses review accuracy fails here.
#[test]
fn review_set_quality_holds() {
    for (lang, src, floor) in [("nl", REVIEWS_NL, 0.88), ("en", REVIEWS_EN, 0.93)] {
        let all = read_tsv(src);
        let lines = src
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count();
        assert_eq!(all.len(), lines, "{lang}: every line has a known label");
        assert!(all.len() >= 200, "{lang}: only {} reviews", all.len());
        let positive = src.lines().filter(|l| l.starts_with("positive")).count();
        assert_eq!(positive * 2, all.len(), "{lang}: balanced");
        let f = evaluate(&all);
        assert!(
            f.binary_accuracy >= floor,
            "{lang}: review binary accuracy {:.3}",
            f.binary_accuracy
        );
    }
}

#[test]
fn every_label_is_used_in_each_set() {
    for src in [DEVSET_NL, DEVSET_EN] {
        let all = read_tsv(src);
        let lines = src.lines().filter(|l| !l.trim().is_empty()).count();
        assert_eq!(all.len(), lines, "every line has a known label");
        for l in ["positive", "negative", "neutral"] {
            assert!(
                src.lines().filter(|x| x.starts_with(l)).count() >= 100,
                "{l}"
            );
        }
    }
}
