//! Sentiment for Dutch and English: Dialoog's own scorer over open lexicons.
//!
//! Word polarities come from Pattern's Dutch and English adjective lexicons
//! (PDDL), VADER's English lexicon (MIT) and Dialoog's own Dutch list of
//! social-media and customer-service words (`data/lexicon/`). The scorer adds
//! what a lexicon cannot: negation with a scope (`niet goed`, `not bad`,
//! and Dutch's trailing `werkt niet`), intensifiers and dampeners (`heel`,
//! `wreed`, `een beetje`, `slightly`), Dutch compound intensifiers
//! (`supertevreden`, `keigoed`), contrast (`maar`, `but`: the clause after
//! counts more), capitals, exclamation marks, emoji and emoticons, and the
//! irony markers `#not` and `/s`.

use crate::doc::{Doc, Token, TokenKind};
use crate::lang::Lang;
use crate::review::{self, Mark};
use rustc_hash::FxHashMap;
use std::sync::LazyLock;

/// Positive, negative or neutral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// Score at least 0.05.
    Positive,
    /// Score at most -0.05.
    Negative,
    /// In between.
    Neutral,
}

impl Label {
    /// The label's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Label::Positive => "positive",
            Label::Negative => "negative",
            Label::Neutral => "neutral",
        }
    }
}

/// The sentiment of one text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sentiment {
    /// -1.0 (very negative) to 1.0 (very positive).
    pub score: f32,
    /// The label the score falls in.
    pub label: Label,
}

/// A word's polarity in the Dutch and in the English lexicon: both come
/// from one look-up.
#[derive(Debug, Clone, Copy, Default)]
struct Polarity {
    nl: Option<f32>,
    en: Option<f32>,
}

impl Polarity {
    fn nl_mut(&mut self) -> &mut Option<f32> {
        &mut self.nl
    }

    fn en_mut(&mut self) -> &mut Option<f32> {
        &mut self.en
    }
}

fn load(
    src: &'static str,
    weight: f32,
    into: &mut FxHashMap<&'static str, Polarity>,
    lexicon: fn(&mut Polarity) -> &mut Option<f32>,
) {
    for (w, p) in src
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .filter_map(|(w, p)| Some((w, p.trim().parse::<f32>().ok()?)))
    {
        // Earlier sources win: load the most trusted first.
        lexicon(into.entry(w).or_default()).get_or_insert(p * weight);
    }
}

/// Dutch: Dialoog's own words first, then Pattern's adjectives. English:
/// Dialoog's own words, then VADER, then Pattern's adjectives at half weight
/// (many are participles that rarely judge: "experienced").
static LEXICON: LazyLock<FxHashMap<&'static str, Polarity>> = LazyLock::new(|| {
    let mut m = FxHashMap::default();
    let (nl, en) = (Polarity::nl_mut, Polarity::en_mut);
    load(
        include_str!("../data/lexicon/nl-dialoog.tsv"),
        1.0,
        &mut m,
        nl,
    );
    load(
        include_str!("../data/lexicon/nl-pattern.tsv"),
        1.0,
        &mut m,
        nl,
    );
    load(
        include_str!("../data/lexicon/en-dialoog.tsv"),
        1.0,
        &mut m,
        en,
    );
    load(
        include_str!("../data/lexicon/en-vader.tsv"),
        1.0,
        &mut m,
        en,
    );
    load(
        include_str!("../data/lexicon/en-pattern.tsv"),
        0.5,
        &mut m,
        en,
    );
    m
});

/// The Dutch lexicon's polarity of a word.
fn dutch(word: &str) -> Option<f32> {
    LEXICON.get(word).and_then(|p| p.nl)
}

const NEGATORS: &[&str] = &[
    "niet",
    "geen",
    "nooit",
    "niets",
    "niks",
    "niemand",
    "nergens",
    "zonder",
    "allerminst",
    "not",
    "no",
    "never",
    "nothing",
    "nobody",
    "none",
    "neither",
    "nor",
    "without",
    "cannot",
    "dont",
    "cant",
    "wont",
    "isnt",
    "wasnt",
    "doesnt",
    "didnt",
    "aint",
    "hardly",
    "barely",
];
const INTENSIFIERS: &[(&str, f32)] = &[
    ("heel", 1.3),
    ("erg", 1.3),
    ("zeer", 1.3),
    ("echt", 1.2),
    ("super", 1.3),
    ("enorm", 1.4),
    ("ontzettend", 1.4),
    ("hartstikke", 1.4),
    ("mega", 1.3),
    ("waanzinnig", 1.4),
    ("vreselijk", 1.3),
    ("verschrikkelijk", 1.3),
    ("extreem", 1.4),
    ("totaal", 1.3),
    ("helemaal", 1.2),
    ("zo", 1.2),
    ("wreed", 1.4),
    ("bijzonder", 1.2),
    ("uiterst", 1.4),
    ("absoluut", 1.3),
    ("onwijs", 1.4),
    ("very", 1.3),
    ("really", 1.25),
    ("so", 1.2),
    ("extremely", 1.4),
    ("totally", 1.3),
    ("absolutely", 1.3),
    ("incredibly", 1.4),
    ("too", 1.2),
    ("such", 1.2),
    ("most", 1.2),
    ("utterly", 1.4),
    ("truly", 1.2),
    ("highly", 1.3),
    ("seriously", 1.2),
    ("definitely", 1.2),
    ("beetje", 0.6),
    ("redelijk", 0.7),
    ("vrij", 0.75),
    ("nogal", 0.8),
    ("enigszins", 0.6),
    ("tamelijk", 0.7),
    ("slightly", 0.6),
    ("somewhat", 0.7),
    ("fairly", 0.75),
    ("kinda", 0.7),
    ("bit", 0.6),
    ("pretty", 1.1),
    ("quite", 0.9),
];
const COMPOUND_PREFIXES: &[&str] = &[
    "super", "kei", "mega", "hyper", "ultra", "reuze", "bere", "loei", "oer", "top",
];
/// English words that mean something else in Dutch: never looked up in the
/// English lexicon for a Dutch text.
const FALSE_FRIENDS: &[&str] = &[
    "bad", "hoe", "die", "arm", "lag", "slim", "stout", "mist", "brand", "kill", "door", "rot",
    "boot", "hell", "wet", "hard", "fit", "prima",
];

fn emoji_score(t: &Token) -> Option<f32> {
    let s = t.lower();
    let first = s.chars().next()?;
    let v = match t.kind {
        TokenKind::Emoticon => match s {
            ":-)" | ":)" | "=)" | ":]" | ";-)" | ";)" | "^^" | "^_^" => 0.45,
            ":-d" | ":d" | "xd" | ":-p" | ":p" => 0.5,
            "<3" => 0.6,
            ":-(" | ":(" | "=(" | ":[" | ">:(" | ":@" | "d:" => -0.5,
            ":'(" | "</3" => -0.6,
            ":-/" | ":/" | ":-s" | ":s" | "-_-" => -0.3,
            _ => return None,
        },
        TokenKind::Emoji => match first {
            '😀' | '😃' | '😄' | '😁' | '😊' | '🙂' | '😌' | '😎' | '🤗' | '🥳' | '😇' | '🤩' => {
                0.55
            }
            '😍' | '🥰' | '😘' | '😻' | '💕' | '💖' | '💗' | '💯' | '🏆' | '🥇' => {
                0.65
            }
            '❤' | '♥' | '💙' | '💚' | '💛' | '🧡' | '💜' => 0.6,
            '👍' | '👏' | '🙌' | '🎉' | '🎊' | '✨' | '💪' | '🔥' | '⭐' | '🌟' | '👌' | '✅'
            | '🙏' => 0.45,
            '😂' | '🤣' | '😆' | '😅' | '😉' | '😋' => 0.35,
            '😢' | '😭' | '😞' | '😔' | '😟' | '😿' | '💔' | '🥺' => -0.55,
            '😠' | '😡' | '🤬' | '👎' | '💩' | '😤' | '🤮' | '🤢' | '😖' | '😫' | '😩' => {
                -0.65
            }
            '🙄' | '😒' | '😑' | '😬' | '😕' | '🙁' | '☹' | '😣' | '😱' | '😨' | '😰' | '❌'
            | '⚠' => -0.4,
            _ => return None,
        },
        _ => return None,
    };
    Some(v)
}

fn lookup(word: &str, lang: Option<Lang>) -> Option<f32> {
    if matches!(lang, Some(Lang::Fr | Lang::De | Lang::Es | Lang::It)) {
        // No lexicon for these yet: only emoji and emoticons count.
        return None;
    }
    let p = LEXICON.get(word).copied().unwrap_or_default();
    match lang {
        Some(Lang::En) => p.en,
        Some(Lang::Nl | Lang::Af) => {
            p.nl.or_else(|| p.en.filter(|_| !FALSE_FRIENDS.contains(&word)))
        }
        _ => p.nl.or(p.en),
    }
}

/// A word's polarity, trying Dutch inflections (`goede`, `mooiste`) and
/// compound intensifiers (`supertevreden`) when the form itself is unknown.
/// Returns the polarity and a multiplier from a compound prefix.
fn polarity(word: &str, lang: Option<Lang>) -> Option<(f32, f32)> {
    if word.len() < 2 {
        return None;
    }
    if let Some(p) = lookup(word, lang) {
        return Some((p, 1.0));
    }
    if lang != Some(Lang::En) {
        for suffix in ["ste", "st", "er", "e"] {
            if let Some(stem) = word.strip_suffix(suffix).filter(|s| s.len() >= 3) {
                if let Some(p) = dutch(stem) {
                    return Some((p, 1.0));
                }
                // goede → goed, but also "slechtte"-style doubled consonants.
                let mut chars = stem.chars();
                if let (Some(a), Some(b)) = (chars.next_back(), chars.next_back())
                    && a == b
                    && let Some(p) = dutch(&stem[..stem.len() - a.len_utf8()])
                {
                    return Some((p, 1.0));
                }
            }
        }
        let first = word.as_bytes().first();
        for prefix in COMPOUND_PREFIXES {
            // Comparing first letters skips most prefixes cheaply.
            if prefix.as_bytes().first() != first {
                continue;
            }
            if let Some(rest) = word.strip_prefix(prefix).filter(|r| r.len() >= 3)
                && let Some((p, _)) = polarity(rest, lang)
            {
                return Some((p, 1.35));
            }
        }
    }
    None
}

/// Words after a negator that turn "never … such a" into a superlative:
/// "nog nooit zo'n lekkere taart", "never had such a good meal".
const SUPERLATIVE_AFTER_NEGATOR: &[&str] = &[
    "zo'n", "zo", "zulke", "zulk", "such", "so", "had", "heb", "gehad",
];

/// Words that end a negation's reach: "can't believe how bad", "niet weten wat".
const SCOPE_BREAKERS: &[&str] = &[
    "how", "what", "why", "that", "which", "who", "hoe", "wat", "waarom", "dat", "welke", "wie",
    "but", "maar", "dan",
];

/// "nooit meer", "never again": strongly negative on their own.
fn never_again(tokens: &[Token], i: usize) -> bool {
    let (Some(a), Some(b)) = (tokens.get(i), tokens.get(i + 1)) else {
        return false;
    };
    (a.folded() == "nooit" && b.folded() == "meer")
        || (a.folded() == "never" && b.folded() == "again")
}

/// What a word does to its neighbours, looked up once per token.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Role {
    /// `niet`, `never`, `don't`.
    pub negator: bool,
    /// A multiplier for the next words (`heel`, `slightly`), or 0.
    pub intensity: f32,
    /// `maar`, `but`: the rest of the sentence counts more.
    pub contrast: bool,
    /// `although`, `hoewel`: its clause counts less.
    pub concessive: bool,
}

static ROLES: LazyLock<FxHashMap<&'static str, Role>> = LazyLock::new(|| {
    let mut m: FxHashMap<&'static str, Role> = FxHashMap::default();
    for w in NEGATORS {
        m.entry(w).or_default().negator = true;
    }
    for (w, f) in INTENSIFIERS {
        m.entry(w).or_default().intensity = *f;
    }
    for w in crate::contrast::CONTRAST {
        m.entry(w).or_default().contrast = true;
    }
    for w in crate::contrast::CONCESSIVE {
        m.entry(w).or_default().concessive = true;
    }
    m
});

/// A token's role.
pub(crate) fn role(t: &Token) -> Role {
    if t.kind != TokenKind::Word {
        return Role::default();
    }
    let mut r = ROLES.get(t.folded()).copied().unwrap_or_default();
    r.negator |= t.folded().ends_with("n't");
    r
}

/// Scores a document in the given language (`None`: both lexicons).
pub fn score(doc: &Doc, lang: Option<Lang>) -> Sentiment {
    let tokens = &doc.tokens;
    let n = tokens.len();
    let mut values: Vec<f32> = vec![0.0; n];
    let mut has_value = vec![false; n];
    let roles: Vec<Role> = tokens.iter().map(role).collect();
    let marks = review::mark(tokens);
    let fixed = |j: usize| matches!(marks.get(j), Some(Mark::Final(_)));
    for (i, t) in tokens.iter().enumerate() {
        let set = match marks[i] {
            Mark::Skip => continue,
            Mark::Final(v) => {
                values[i] = v;
                has_value[i] = true;
                continue;
            }
            Mark::Set(v) => Some(v),
            Mark::None => None,
        };
        if never_again(tokens, i) {
            values[i] = -0.6;
            has_value[i] = true;
            continue;
        }
        let v = match t.kind {
            TokenKind::Word if set.is_some() => set.unwrap_or(0.0),
            TokenKind::Word => {
                // An intensifier that ends its clause speaks for itself:
                // "nu zit mijn haar verschrikkelijk".
                let modifies = !t.clause_end && i + 1 < n;
                if roles[i].negator || (roles[i].intensity != 0.0 && modifies) {
                    continue;
                }
                match polarity(t.lower(), lang) {
                    Some((p, m)) => p * m,
                    None => continue,
                }
            }
            TokenKind::Hashtag => match polarity(t.lower().trim_start_matches('#'), lang) {
                Some((p, m)) => p * m,
                None => continue,
            },
            TokenKind::Emoji | TokenKind::Emoticon => match emoji_score(t) {
                Some(v) => v,
                None => continue,
            },
            _ => continue,
        };
        let mut v = v;
        if t.caps && !doc.all_caps {
            v *= 1.4;
        }
        // Modifiers in the two words before (stopping at a clause end).
        for back in 1..=2 {
            let Some(j) = i.checked_sub(back) else { break };
            let Some(m) = tokens.get(j) else { break };
            if m.clause_end {
                break;
            }
            if roles[j].intensity != 0.0 {
                v *= roles[j].intensity;
            }
        }
        values[i] = v;
        has_value[i] = true;
    }
    // Negation: the next three tokens within the clause; a negator at the
    // end of a clause with nothing to negate after it (Dutch "werkt niet",
    // "bevalt me niet") negates what came before it.
    let negatable = |t: &Token| matches!(t.kind, TokenKind::Word | TokenKind::Hashtag);
    for (i, t) in tokens.iter().enumerate() {
        if !roles[i].negator || never_again(tokens, i) || marks[i] == Mark::Skip {
            continue;
        }
        // "nog nooit zo'n lekkere taart": a superlative, not a negation.
        if t.folded() == "nooit" || t.folded() == "never" {
            let next = tokens.get(i + 1).map(|n| n.folded());
            if next.is_some_and(|n| SUPERLATIVE_AFTER_NEGATOR.contains(&n)) {
                continue;
            }
        }
        // "nothing but praise", "niets dan lof": not a negation.
        if tokens
            .get(i + 1)
            .is_some_and(|n| n.folded() == "but" || n.folded() == "dan")
        {
            continue;
        }
        let mut forward = false;
        for j in i + 1..(i + 4).min(n) {
            if SCOPE_BREAKERS.contains(&tokens[j].folded()) {
                forward = true;
                break;
            }
            if has_value[j] && negatable(&tokens[j]) {
                if !fixed(j) {
                    values[j] *= -0.7;
                }
                forward = true;
                break;
            }
            if tokens[j].clause_end {
                break;
            }
        }
        // Only Dutch negates what came before ("werkt niet"); English
        // "annoying that you can't reach anyone" does not.
        if !forward && matches!(t.folded(), "niet" | "nooit" | "niks" | "niets") {
            for j in (i.saturating_sub(3)..i).rev() {
                if tokens[j].clause_end {
                    break;
                }
                if has_value[j] && negatable(&tokens[j]) {
                    if !fixed(j) {
                        values[j] *= -0.7;
                    }
                    break;
                }
            }
        }
    }
    // A positive word right before a negative one intensifies it: "great
    // annoyance", "echte ramp".
    for i in 0..n.saturating_sub(1) {
        if has_value[i]
            && has_value[i + 1]
            && values[i] > 0.0
            && values[i + 1] < 0.0
            && !tokens[i].clause_end
            && !fixed(i)
            && !fixed(i + 1)
        {
            values[i + 1] *= 1.3;
            values[i] = 0.0;
        }
    }
    crate::contrast::weigh(tokens, &roles, &mut values);
    let mut sum: f32 = values.iter().sum();
    // Irony markers flip the whole text: #not, /s, or a closing "Not." on its own.
    let closing_not = n >= 2
        && tokens
            .last()
            .is_some_and(|t| t.folded() == "not" || t.folded() == "niet")
        && tokens.get(n - 2).is_some_and(|t| t.clause_end);
    let ironic_tag = tokens
        .iter()
        .any(|t| matches!(t.lower(), "#not" | "#ironie" | "#sarcasme" | "#sarcasm"));
    if ironic_tag || doc.text.trim_end().ends_with("/s") || closing_not {
        sum = -sum;
    }
    if sum != 0.0 {
        sum += sum.signum() * 0.07 * doc.exclamations.min(4) as f32;
    }
    let score = (sum / (sum * sum + 0.9375).sqrt()).clamp(-1.0, 1.0);
    let label = if score >= 0.05 {
        Label::Positive
    } else if score <= -0.05 {
        Label::Negative
    } else {
        Label::Neutral
    };
    Sentiment { score, label }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Label {
        let d = Doc::new(text);
        score(&d, crate::lang::detect(&d)).label
    }

    #[test]
    fn dutch() {
        assert_eq!(s("Heerlijke taart, echt een aanrader!"), Label::Positive);
        assert_eq!(s("Het brood was niet lekker"), Label::Negative);
        assert_eq!(s("De app werkt niet"), Label::Negative);
        assert_eq!(s("Het werkt weer!"), Label::Positive);
        assert_eq!(
            s("Nog nooit zo'n lekkere tompouce gegeten"),
            Label::Positive
        );
        assert_eq!(s("Nooit meer bij jullie"), Label::Negative);
        assert_eq!(s("Niets dan lof voor deze garage"), Label::Positive);
        assert_eq!(s("Ik ben er niet blij mee"), Label::Negative);
        assert_eq!(s("Supertevreden over de bezorging 👍"), Label::Positive);
        assert_eq!(
            s("Mooie winkel maar de bediening was waardeloos"),
            Label::Negative
        );
        assert_eq!(s("Wreed goed gedaan, merci!"), Label::Positive);
        assert_eq!(s("Geen aanrader"), Label::Negative);
        assert_eq!(s("Mijn pakket is gisteren bezorgd."), Label::Neutral);
    }

    #[test]
    fn english() {
        assert_eq!(s("Great service, thank you so much!"), Label::Positive);
        assert_eq!(s("Not bad at all"), Label::Positive);
        assert_eq!(s("The worst delivery ever 😡"), Label::Negative);
        assert_eq!(
            s("Nice design but it broke after two days"),
            Label::Negative
        );
        assert_eq!(s("Great, another delay #not"), Label::Negative);
        assert_eq!(
            s("Love waiting forty minutes for a coffee. Not."),
            Label::Negative
        );
        assert_eq!(s("Your croissants are simply the best"), Label::Positive);
        assert_eq!(
            s("Customer service unreachable, nobody picks up 😡"),
            Label::Negative
        );
        assert_eq!(s("To my great annoyance it broke"), Label::Negative);
        assert_eq!(s("The parcel arrived on Tuesday."), Label::Neutral);
        // Languages without a lexicon: only emoji speak.
        assert_eq!(s("Pas mal du tout, merci"), Label::Neutral);
        assert_eq!(s("Le gâteau était délicieux 😍"), Label::Positive);
    }

    #[test]
    fn bounded_and_calm_on_odd_input() {
        for t in [
            "",
            "!!!!!!",
            "😀😀😀😀😀😀😀😀😀😀😀😀",
            "http://x.nl",
            "NIET NIET NIET",
            "maar maar but",
        ] {
            let r = score(&Doc::new(t), None);
            assert!((-1.0..=1.0).contains(&r.score), "{t}");
        }
    }
}
