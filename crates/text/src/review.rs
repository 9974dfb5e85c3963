//! Review language: the patterns in product, hotel, restaurant, film and app
//! reviews that single word polarities miss. Written by the Dialoog team.
//!
//! - star ratings written in text: `1/5`, `8 out of 10`, `2 sterren`,
//!   `vijf sterren`, `zero stars`;
//! - return and buying intent: `will be back`, `would stay again`, `komen
//!   zeker terug` against `won't be back`, `niet meer heen`, and the product
//!   sent back (`sent it back`, `returned it`);
//! - verdicts with a negation: `would not recommend`, `can't recommend
//!   enough`, `not worth it`, `het geld niet waard`, `don't bother`,
//!   `begin er niet aan`, `niet te vreten`;
//! - what a customer was owed and did not get: `no reply`, `never arrived`,
//!   `doesn't work`, `not as described`, `nooit antwoord gekregen`;
//! - disappointed hopes: `I wanted to love this`, `had high hopes`, `expected
//!   better`, `ik had meer verwacht`;
//! - excess: `too expensive`, `veel te lang`, `still waiting`.
//!
//! [`mark`] returns, per token, whether a rule set its value; the scorer in
//! [`crate::sentiment`] does the rest.

use crate::doc::{Token, TokenKind};
use rustc_hash::FxHashMap;
use std::sync::LazyLock;

/// What a rule decided about one token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Mark {
    /// No rule touched it.
    None,
    /// Part of a pattern whose value sits on another token: ignore it.
    Skip,
    /// This value replaces the lexicon's; negation and modifiers still apply.
    Set(f32),
    /// This value is final: the pattern already read its negation.
    Final(f32),
}

#[derive(Clone, Copy)]
enum Trigger {
    Number(u32),
    Intent,
    Verdict,
    Worth,
    Bother,
    Owed,
    Hope,
    Too,
    Waiting,
    Begin,
    Stay,
    Meer,
    Rip,
    Separable,
    Waste,
    Imperative,
}

/// Words that carry a negation for these rules (wider than the scorer's:
/// modal contractions included).
const NEGATES: &[&str] = &[
    "barely",
    "hardly",
    "nauwelijks",
    "amper",
    "weinig",
    "not",
    "no",
    "never",
    "nobody",
    "nothing",
    "none",
    "cannot",
    "dont",
    "cant",
    "wont",
    "wouldnt",
    "didnt",
    "doesnt",
    "without",
    "niet",
    "geen",
    "nooit",
    "niets",
    "niks",
    "niemand",
    "zonder",
];

fn negates(t: &Token) -> bool {
    t.kind == TokenKind::Word && (t.folded().ends_with("n't") || NEGATES.contains(&t.folded()))
}

/// Word classes of `data/lexicon/review-rules.tsv`, as bits.
const INTENT: u16 = 1;
const VERDICT: u16 = 1 << 1;
const OWED: u16 = 1 << 2;
const HOPE: u16 = 1 << 3;
const EXCESS: u16 = 1 << 4;
const NOT_TO: u16 = 1 << 5;
const PATRONAGE: u16 = 1 << 6;
const SENT_BACK: u16 = 1 << 7;
const MODAL: u16 = 1 << 8;
const NUMBER: u16 = 1 << 9;
const PHRASE: u16 = 1 << 10;
const SPECIAL: u16 = 1 << 11;
const IMPERATIVE: u16 = 1 << 12;
/// Words with a rule of their own (see [`trigger`]).
const SPECIALS: &[&str] = &[
    "worth", "waard", "bother", "too", "te", "waiting", "wachten", "begin", "stay", "blijf",
    "meer", "rip", "ripped", "tegen", "mee", "waste",
];

/// Phrases starting with one word, longest first, with their values.
type Phrases = FxHashMap<&'static str, Vec<(Vec<&'static str>, f32)>>;

/// The rules' words: each word's classes (and value as a number word), and
/// the fixed phrases by their first word.
struct Words {
    classes: FxHashMap<&'static str, (u16, u32)>,
    phrases: Phrases,
}

static WORDS: LazyLock<Words> = LazyLock::new(|| {
    let mut w = Words {
        classes: FxHashMap::default(),
        phrases: Phrases::default(),
    };
    for line in include_str!("../data/lexicon/review-rules.tsv").lines() {
        let mut parts = line.split('\t');
        let (Some(class), Some(text)) = (parts.next(), parts.next()) else {
            continue;
        };
        let value = parts.next().and_then(|v| v.trim().parse::<f32>().ok());
        let bit = match class {
            "intent" => INTENT,
            "verdict" => VERDICT,
            "owed" => OWED,
            "hope" => HOPE,
            "excess" => EXCESS,
            "not-to" => NOT_TO,
            "patronage" => PATRONAGE,
            "sent-back" => SENT_BACK,
            "modal" => MODAL,
            "imperative" => IMPERATIVE,
            "number" => NUMBER,
            "phrase" => {
                let words: Vec<&'static str> = text.split(' ').collect();
                if let (Some(first), Some(v)) = (words.first(), value) {
                    w.classes.entry(*first).or_insert((0, 0)).0 |= PHRASE;
                    w.phrases.entry(*first).or_default().push((words, v));
                }
                continue;
            }
            _ => continue,
        };
        let e = w.classes.entry(text).or_insert((0, 0));
        e.0 |= bit;
        if bit == NUMBER {
            e.1 = value.unwrap_or(0.0) as u32;
        }
    }
    for s in SPECIALS {
        w.classes.entry(s).or_insert((0, 0)).0 |= SPECIAL;
    }
    for v in w.phrases.values_mut() {
        v.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    }
    w
});

fn is(word: &str, class: u16) -> bool {
    WORDS
        .classes
        .get(word)
        .is_some_and(|(bits, _)| bits & class != 0)
}

fn digits(t: &Token) -> Option<u32> {
    if !t.folded().is_empty()
        && t.folded().len() <= 2
        && t.folded().bytes().all(|b| b.is_ascii_digit())
    {
        t.folded().parse().ok()
    } else {
        None
    }
}

/// What a word with these classes sets off, if anything.
fn trigger(w: &str, bits: u16, n: u32) -> Option<Trigger> {
    let by_class = [
        (NUMBER, Trigger::Number(n)),
        (INTENT, Trigger::Intent),
        (VERDICT, Trigger::Verdict),
        (OWED, Trigger::Owed),
        (HOPE, Trigger::Hope),
        (IMPERATIVE, Trigger::Imperative),
    ];
    if let Some((_, t)) = by_class.into_iter().find(|(b, _)| bits & b != 0) {
        return Some(t);
    }
    if bits & SPECIAL == 0 {
        return None;
    }
    Some(match w {
        "worth" | "waard" => Trigger::Worth,
        "bother" => Trigger::Bother,
        "too" | "te" => Trigger::Too,
        "waiting" | "wachten" => Trigger::Waiting,
        "begin" => Trigger::Begin,
        "stay" | "blijf" => Trigger::Stay,
        "meer" => Trigger::Meer,
        "rip" | "ripped" => Trigger::Rip,
        "tegen" | "mee" => Trigger::Separable,
        "waste" => Trigger::Waste,
        _ => return None,
    })
}

fn number(t: &Token) -> Option<u32> {
    if t.kind != TokenKind::Word {
        return None;
    }
    digits(t).or_else(|| match WORDS.classes.get(t.folded()) {
        Some((bits, n)) if bits & NUMBER != 0 => Some(*n),
        _ => None,
    })
}

fn word(tokens: &[Token], i: usize) -> &str {
    tokens.get(i).map_or("", |t| t.folded())
}

/// Indices before `i` in the same clause, nearest first, at most `k`.
fn before(tokens: &[Token], i: usize, k: usize) -> impl Iterator<Item = usize> + '_ {
    (i.saturating_sub(k)..i)
        .rev()
        .take_while(move |&j| !tokens[j].clause_end)
}

/// Indices after `i` in the same clause, at most `k`.
fn after(tokens: &[Token], i: usize, k: usize) -> impl Iterator<Item = usize> + '_ {
    let end = (i + 1 + k).min(tokens.len());
    let stop = tokens.get(i).is_none_or(|t| t.clause_end);
    (i + 1..end).scan(stop, move |done, j| {
        if *done {
            return None;
        }
        *done = tokens[j].clause_end;
        Some(j)
    })
}

/// A rating written in text at `i`: `(value, tokens it spans)`.
fn rating(tokens: &[Token], i: usize, n: u32) -> Option<(f32, usize)> {
    let t = &tokens[i];
    let digits = t.folded().bytes().all(|b| b.is_ascii_digit());
    let out_of = |n: u32, d: u32| (d == 5 || d == 10) && n <= d;
    let stars = |w: &str| {
        matches!(
            w,
            "star" | "stars" | "ster" | "sterren" | "sterretjes" | "sterretje"
        )
    };
    // 4/5, 8/10 (the slash is not a token; digits right after each other).
    if digits
        && !t.clause_end
        && let Some(d) = tokens.get(i + 1).and_then(number)
        && word(tokens, i + 1).bytes().all(|b| b.is_ascii_digit())
        && out_of(n, d)
    {
        return Some((scale(n, d), 2));
    }
    // 8 out of 10, 2 van de 5, 3 uit 5
    let w1 = word(tokens, i + 1);
    if (matches!((w1, word(tokens, i + 2)), ("out", "of"))
        || (digits && matches!((w1, word(tokens, i + 2)), ("van", "de"))))
        && let Some(d) = tokens.get(i + 3).and_then(number)
        && out_of(n, d)
    {
        return Some((scale(n, d), 4));
    }
    // 2 stars, vijf sterren, one star (not "a five star hotel")
    if stars(w1)
        && !matches!(
            word(tokens, i + 2),
            "hotel"
                | "hotels"
                | "resort"
                | "restaurant"
                | "service"
                | "accommodation"
                | "hotelkamer"
        )
        && n <= 5
    {
        return Some((scale(n, 5), 2));
    }
    None
}

fn scale(n: u32, d: u32) -> f32 {
    let r = n as f32 / d as f32;
    ((r - 0.6) * 3.0).clamp(-1.2, 1.2)
}

/// A fixed expression starting at `i` ("to die for", "valt tegen"); its value
/// may still be negated ("didn't let me down").
fn phrase(tokens: &[Token], i: usize, marks: &mut [Mark]) -> bool {
    let Some(candidates) = WORDS.phrases.get(tokens[i].folded()) else {
        return false;
    };
    for (words, v) in candidates {
        let fits = words.iter().enumerate().skip(1).all(|(k, w)| {
            tokens.get(i + k).is_some_and(|t| t.folded() == *w) && !tokens[i + k - 1].clause_end
        });
        if fits {
            marks[i] = Mark::Set(*v);
            for m in marks.iter_mut().take(i + words.len()).skip(i + 1) {
                *m = Mark::Skip;
            }
            return true;
        }
    }
    false
}

/// Runs the review rules over a document's tokens.
pub(crate) fn mark(tokens: &[Token]) -> Vec<Mark> {
    let n = tokens.len();
    let mut marks = vec![Mark::None; n];
    for i in 0..n {
        if marks[i] != Mark::None {
            continue;
        }
        let t = &tokens[i];
        if t.kind != TokenKind::Word {
            continue;
        }
        // One look-up per word; most words have no rule.
        let (bits, k) = match digits(t) {
            Some(k) => (NUMBER, k),
            None => match WORDS.classes.get(t.folded()) {
                Some(c) => *c,
                None => continue,
            },
        };
        if bits & PHRASE != 0 && phrase(tokens, i, &mut marks) {
            continue;
        }
        let Some(trigger) = trigger(t.folded(), bits, k) else {
            continue;
        };
        match trigger {
            Trigger::Number(k) => {
                if let Some((v, span)) = rating(tokens, i, k) {
                    marks[i] = Mark::Final(v);
                    for m in marks.iter_mut().take((i + span).min(n)).skip(i + 1) {
                        *m = Mark::Skip;
                    }
                }
            }
            Trigger::Intent => intent(tokens, i, &mut marks),
            Trigger::Verdict => {
                let neg = before(tokens, i, 3).find(|&j| negates(&tokens[j]));
                match neg {
                    Some(j) => {
                        // "can't recommend them enough", "kan het niet genoeg aanraden"
                        let enough = after(tokens, i, 4)
                            .chain(before(tokens, i, 3))
                            .any(|k| matches!(word(tokens, k), "enough" | "genoeg" | "highly"));
                        marks[j] = Mark::Skip;
                        marks[i] = Mark::Final(if enough { 0.8 } else { -0.7 });
                    }
                    None => {
                        // "geen aanrader" keeps to the scorer's negation.
                        if !matches!(word(tokens, i.wrapping_sub(1)), "geen" | "no") {
                            marks[i] = Mark::Final(0.6);
                        }
                    }
                }
            }
            Trigger::Worth => {
                let neg = before(tokens, i, 4)
                    .find(|&j| negates(&tokens[j]))
                    .or_else(|| after(tokens, i, 1).find(|&j| negates(&tokens[j])));
                if let Some(j) = neg {
                    marks[j] = Mark::Skip;
                    marks[i] = Mark::Final(-0.6);
                } else if t.folded() == "waard" || after(tokens, i, 3).next().is_some() {
                    // "worth every penny", "worth the wait", "de moeite waard"
                    marks[i] = Mark::Final(0.5);
                }
            }
            Trigger::Bother => {
                // "don't bother": negation makes it worse.
                if t.folded() == "bother"
                    && let Some(j) = before(tokens, i, 2).find(|&j| negates(&tokens[j]))
                {
                    marks[j] = Mark::Skip;
                    marks[i] = Mark::Final(-0.6);
                }
            }
            Trigger::Owed => {
                // "never arrived", "no reply", "doesn't work", "nooit antwoord gekregen"
                let neg = before(tokens, i, 4)
                    .take_while(|&j| {
                        !matches!(word(tokens, j), "and" | "en" | "but" | "maar" | "or" | "of")
                    })
                    .find(|&j| negates(&tokens[j]) && word(tokens, j) != "without");
                // "heard nothing", "werkt niet", "reageert niet meer"
                let trailing = after(tokens, i, 2).find(|&j| {
                    matches!(word(tokens, j), "nothing" | "nobody" | "niks" | "niets")
                        || (matches!(word(tokens, j), "niet" | "nooit")
                            && !matches!(word(tokens, j + 1), "alleen" | "zo" | "te"))
                });
                if let (None, Some(j)) = (neg, trailing) {
                    marks[j] = Mark::Skip;
                    marks[i] = Mark::Final(-0.5);
                } else if let Some(j) = neg
                    && !matches!(marks[j], Mark::Skip)
                {
                    marks[j] = Mark::Skip;
                    marks[i] = Mark::Final(-0.5);
                    for m in marks.iter_mut().take(i).skip(j + 1) {
                        if *m == Mark::None {
                            *m = Mark::Skip;
                        }
                    }
                }
            }
            Trigger::Hope => hope(tokens, i, &mut marks),
            Trigger::Too => {
                let mut j = i + 1;
                if matches!(
                    word(tokens, j),
                    "much" | "far" | "way" | "veel" | "wel" | "erg"
                ) {
                    j += 1;
                }
                if !t.clause_end && is(word(tokens, j), EXCESS) {
                    for m in marks.iter_mut().take(j).skip(i) {
                        *m = Mark::Skip;
                    }
                    marks[j] = Mark::Set(-0.4);
                } else if t.folded() == "te"
                    && word(tokens, i.wrapping_sub(1)) == "niet"
                    && is(word(tokens, i + 1), NOT_TO)
                {
                    marks[i - 1] = Mark::Skip;
                    marks[i] = Mark::Skip;
                    marks[i + 1] = Mark::Final(-0.7);
                }
            }
            Trigger::Waiting => {
                // "still waiting", "wacht nog steeds", "wachten op mijn geld"
                if before(tokens, i, 2).any(|j| matches!(word(tokens, j), "still" | "steeds")) {
                    marks[i] = Mark::Final(-0.6);
                }
            }
            Trigger::Begin => {
                // "begin er niet aan"
                if after(tokens, i, 3).any(|j| word(tokens, j) == "niet")
                    && after(tokens, i, 4).any(|j| word(tokens, j) == "aan")
                {
                    for j in after(tokens, i, 4) {
                        marks[j] = Mark::Skip;
                    }
                    marks[i] = Mark::Final(-0.7);
                }
            }
            Trigger::Stay => {
                // "stay away", "blijf weg"
                if matches!(word(tokens, i + 1), "away" | "weg") {
                    marks[i] = Mark::Final(-0.7);
                    marks[i + 1] = Mark::Skip;
                }
            }
            Trigger::Meer => {
                // "hier kom ik niet meer", "koop ik niet meer", "gaan we niet meer heen"
                let prev = word(tokens, i.wrapping_sub(1));
                if matches!(prev, "niet" | "niets" | "niks" | "nooit" | "geen")
                    && before(tokens, i, 6)
                        .chain(after(tokens, i, 2))
                        .any(|j| is(word(tokens, j), PATRONAGE))
                {
                    marks[i - 1] = Mark::Skip;
                    marks[i] = Mark::Final(-0.6);
                }
            }
            Trigger::Separable => {
                // "valt erg tegen", "viel reuze mee"
                if before(tokens, i, 4)
                    .any(|j| matches!(word(tokens, j), "valt" | "viel" | "vallen" | "vielen"))
                {
                    marks[i] = Mark::Set(if t.folded() == "tegen" { -0.5 } else { 0.4 });
                }
            }
            Trigger::Waste => {
                // "don't waste your money": still a waste
                if let Some(j) = before(tokens, i, 2).find(|&j| negates(&tokens[j])) {
                    marks[j] = Mark::Skip;
                    marks[i] = Mark::Final(-0.6);
                }
            }
            Trigger::Imperative => {
                // "Do not use this company.", "Don't buy.", "Niet kopen!"
                let opens = |j: usize| j == 0 || tokens[j - 1].clause_end;
                let p = i.wrapping_sub(1);
                let en = (matches!(word(tokens, p), "don't" | "dont") && opens(p))
                    || (word(tokens, p) == "not"
                        && word(tokens, p.wrapping_sub(1)) == "do"
                        && opens(p - 1));
                let nl = word(tokens, p) == "niet" && opens(p) && t.clause_end;
                if en || nl {
                    marks[p] = Mark::Skip;
                    marks[i] = Mark::Final(-0.6);
                }
            }
            Trigger::Rip => {
                if word(tokens, i + 1) == "off" {
                    marks[i] = Mark::Final(-0.7);
                    marks[i + 1] = Mark::Skip;
                }
            }
        }
    }
    marks
}

fn intent(tokens: &[Token], i: usize, marks: &mut [Mark]) {
    let w = word(tokens, i);
    if w == "eens" && word(tokens, i.wrapping_sub(1)) != "nog" {
        return;
    }
    // The product itself goes back: "returned it", "return them".
    if matches!(w, "return" | "returning")
        && matches!(
            word(tokens, i + 1),
            "it" | "them" | "this" | "both" | "everything" | "the"
        )
    {
        marks[i] = Mark::Final(-0.4);
        return;
    }
    let window: Vec<usize> = before(tokens, i, 6).collect();
    if window.iter().any(|&j| is(word(tokens, j), SENT_BACK)) {
        let neg = window.iter().find(|&&j| negates(&tokens[j]));
        if let Some(&j) = neg {
            marks[j] = Mark::Skip;
        }
        marks[i] = Mark::Final(if neg.is_some() { -0.6 } else { -0.25 });
        return;
    }
    let neg = window.iter().copied().find(|&j| negates(&tokens[j]));
    let modal = window.iter().any(|&j| {
        let m = word(tokens, j);
        is(m, MODAL) || m.ends_with("'ll") || m.ends_with("'d")
    });
    let forced = window.iter().any(|&j| {
        matches!(
            word(tokens, j),
            "moest" | "moesten" | "had" | "have" | "has"
        ) && (word(tokens, j + 1) == "to" || word(tokens, j).starts_with("moest"))
    });
    if let Some(j) = neg {
        // "won't be back", "kom hier niet terug"
        marks[j] = Mark::Skip;
        marks[i] = Mark::Final(-0.6);
    } else if forced {
        // "had to go back twice", "moest drie keer terugkomen"
        marks[i] = Mark::Final(-0.3);
    } else if modal {
        marks[i] = Mark::Final(0.6);
    }
}

fn hope(tokens: &[Token], i: usize, marks: &mut [Mark]) {
    let w = word(tokens, i);
    let prev = word(tokens, i.wrapping_sub(1));
    let fires = match w {
        // "had high hopes", "hoge verwachtingen"
        "hopes" | "verwachtingen" => matches!(prev, "high" | "hoge" | "grote"),
        // "I wanted to love this", "ik wilde het zo graag goed vinden"
        "wanted" | "hoped" | "hoping" => after(tokens, i, 3).any(|j| {
            matches!(
                word(tokens, j),
                "like" | "love" | "enjoy" | "be" | "recommend"
            )
        }),
        "wilde" | "wou" | "wilden" | "gehoopt" => {
            after(tokens, i, 7).any(|j| matches!(word(tokens, j), "vinden" | "houden" | "genieten"))
        }
        // "expected better", "ik had meer verwacht"; not "better than expected"
        _ => {
            prev != "than"
                && prev != "dan"
                && prev != "as"
                && prev != "zoals"
                && after(tokens, i, 4).chain(before(tokens, i, 3)).any(|j| {
                    matches!(
                        word(tokens, j),
                        "more" | "better" | "meer" | "beter" | "betere"
                    )
                })
        }
    };
    if !fires {
        return;
    }
    marks[i] = Mark::Final(-0.4);
    for j in after(tokens, i, 8) {
        marks[j] = Mark::Skip;
    }
    for j in before(tokens, i, 3) {
        if matches!(
            word(tokens, j),
            "high" | "hoge" | "grote" | "meer" | "more" | "beter" | "better" | "betere"
        ) {
            marks[j] = Mark::Skip;
        }
    }
}

#[cfg(test)]
mod tests;
