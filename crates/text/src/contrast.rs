//! Contrast and concession inside a sentence: which part of a mixed text
//! carries its verdict ("lovely room, but the staff were rude";
//! "al was de bediening wat traag").

use crate::doc::{Token, TokenKind};
use crate::sentiment::Role;

/// Words that turn a sentence: what follows them counts more.
pub(crate) const CONTRAST: &[&str] = &["maar", "echter", "but", "however", "toch", "alleen"];
/// Words that open a concession: the clause they belong to counts less
/// ("although the service was slow", "hoewel het wat duur was").
pub(crate) const CONCESSIVE: &[&str] = &[
    "although",
    "though",
    "despite",
    "albeit",
    "hoewel",
    "ofschoon",
    "ondanks",
    "weliswaar",
];
fn is_contrast(tokens: &[Token], roles: &[Role], i: usize) -> bool {
    roles[i].contrast && tokens[i].folded() != "toch" && !(i > 0 && roles[i - 1].negator)
}

fn is_concessive(tokens: &[Token], roles: &[Role], i: usize) -> bool {
    let t = &tokens[i];
    t.kind == TokenKind::Word
        && (roles[i].concessive
            // Dutch "al was de bediening traag"
            || (t.folded() == "al"
                && tokens.get(i + 1).is_some_and(|n| {
                    matches!(
                        n.folded(),
                        "was" | "is" | "waren" | "zijn" | "had" | "heeft" | "hadden"
                    )
                })))
}

/// Contrast, per sentence: the part after "maar"/"but" weighs more than the
/// part before ("nothing but …" is no contrast); a sentence that opens with
/// "But" outweighs the sentence before it. A concession ("although …",
/// "hoewel …", a closing "… though") counts half.
pub(crate) fn weigh(tokens: &[Token], roles: &[Role], values: &mut [f32]) {
    let n = tokens.len();
    let mut start = 0;
    let mut previous: Option<usize> = None;
    for end in 0..n {
        if !(tokens[end].sentence_end || end + 1 == n) {
            continue;
        }
        if let Some(c) = (start..=end).find(|&i| is_contrast(tokens, roles, i)) {
            let from = if c == start {
                previous.unwrap_or(start)
            } else {
                start
            };
            for v in &mut values[from..c] {
                *v *= 0.5;
            }
            for v in &mut values[c..=end] {
                *v *= 1.5;
            }
        }
        for i in start..=end {
            if !is_concessive(tokens, roles, i) {
                continue;
            }
            if tokens[i].clause_end || i == end {
                // "… though": the clause it closes.
                let mut j = i;
                loop {
                    values[j] *= 0.5;
                    if j == start || tokens[j - 1].clause_end {
                        break;
                    }
                    j -= 1;
                }
            } else {
                for j in i..=end {
                    values[j] *= 0.5;
                    if tokens[j].clause_end {
                        break;
                    }
                }
            }
        }
        previous = Some(start);
        start = end + 1;
    }
}
