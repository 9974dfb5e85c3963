//! Language detection for Dutch, English, French and German, with the
//! languages they are most often confused with (Afrikaans, Spanish, Italian).
//!
//! Each word votes for the languages whose most frequent words it is among,
//! and spelling cues (ij, -heid, ß, ç, -ing, …) add smaller votes. The answer
//! is `None` when there is too little evidence or no clear winner, which is
//! better than a confident guess.

use crate::doc::{Doc, TokenKind};
use rustc_hash::FxHashMap;
use std::sync::LazyLock;

/// A language Dialoog can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Dutch (including Flemish).
    Nl,
    /// English.
    En,
    /// French.
    Fr,
    /// German.
    De,
    /// Afrikaans (often confused with Dutch).
    Af,
    /// Spanish.
    Es,
    /// Italian.
    It,
}

const ALL: [Lang; 7] = [
    Lang::Nl,
    Lang::En,
    Lang::Fr,
    Lang::De,
    Lang::Af,
    Lang::Es,
    Lang::It,
];

impl Lang {
    /// The ISO 639-1 code.
    pub const fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::De => "de",
            Lang::Af => "af",
            Lang::Es => "es",
            Lang::It => "it",
        }
    }

    /// Parses an ISO 639-1 code.
    pub fn from_code(code: &str) -> Option<Self> {
        ALL.into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code))
    }

    const fn index(self) -> usize {
        self as usize
    }
}

// Frequent function words per language, written by the Dialoog team. Words
// shared by several languages vote for each of them.
const NL: &str = "de het een en van ik je jij u is dat die niet op te in zijn met voor er maar om aan ook als dan bij nog wel geen wat naar mijn me hoe al heb heeft hebben was waren wordt worden kan kunnen zal zou moet moeten uit door over tot dit deze ze zij wij we ons onze jullie hun hem haar mij nu toch echt heel erg zeer weer waar want omdat dus alleen gewoon even beetje ga gaat gaan doe doet doen kom komt nooit altijd iets niets niks iemand niemand veel meer minder zo zoals bent ben hier daar wie waarom wanneer welke zonder tijdens na alles allemaal graag bedankt dank hallo hoi goed goede slecht slechte mooi leuk besteld bestelling levering klantenservice";
const EN: &str = "the a an and of to in is it that this for on with as was were be been are i you he she we they my your our their me him her us them not no but or if so do does did have has had will would can could should what which who when where why how all just very really there here from at by about out up get got one more some any than then too also only like love good bad great thanks thank please order service delivery customer never always";
const FR: &str = "le la les un une des du de et est pas que qui je tu il elle nous vous ils elles ce cette ces mon ma mes ton ta son sa ses en dans sur pour avec par mais ou donc ne plus très bien merci bonjour au aux se sont était être avoir fait tout tous comme si oui non leur votre notre lui moi toi";
const DE: &str = "der die das und ist nicht ein eine einen dem den des zu mit sich auf für von im ich du er sie wir ihr es mein dein sein unser auch noch nur aber oder wenn dann wie was wer wo warum sehr gut schlecht danke bitte hallo kein keine haben hat hatte war sind wird werden kann können muss ist bei nach aus über schon mal doch";
const AF: &str = "die en van is nie ek jy hy sy ons hulle het wat vir met op te in dit baie maar nog was sal kan moet hierdie daardie geen goed sleg dankie asseblief";
const ES: &str = "el la los las un una unos y es no que de en por para con se su sus mi mis lo le al del muy pero como más está están gracias hola bueno malo también yo tú él ella nosotros";
const IT: &str = "il lo la gli le un una e è non che di da in per con su mi ti si ci del della dei molto ma come più sono grazie ciao buono cattivo anche io tu lui lei noi voi";

type Votes = [f32; ALL.len()];

static WORDS: LazyLock<FxHashMap<&'static str, Votes>> = LazyLock::new(|| {
    let mut m: FxHashMap<&'static str, Votes> = FxHashMap::default();
    for (lang, list) in [
        (Lang::Nl, NL),
        (Lang::En, EN),
        (Lang::Fr, FR),
        (Lang::De, DE),
        (Lang::Af, AF),
        (Lang::Es, ES),
        (Lang::It, IT),
    ] {
        for w in list.split_whitespace() {
            if let Some(v) = m.entry(w).or_default().get_mut(lang.index()) {
                *v = 1.0;
            }
        }
    }
    // A word several languages share says less about each.
    for v in m.values_mut() {
        let n = v.iter().filter(|x| **x > 0.0).count() as f32;
        for x in v.iter_mut() {
            *x /= n;
        }
    }
    m
});

/// Whether `word` (folded) is one of the frequent function words of a
/// language Dialoog knows: a hint that it occurs in many texts.
pub(crate) fn is_function_word(word: &str) -> bool {
    WORDS.contains_key(word)
}

/// The letter groups the spelling cues look for, found in one pass over the
/// word's bytes (a substring search per cue costs more than the whole pass).
/// The accented letters are matched on their UTF-8 bytes, which is the same
/// as matching the characters.
#[derive(Default)]
struct Letters {
    ij: bool,
    oe: bool,
    aa: bool,
    uu: bool,
    sch: bool,
    ei: bool,
    eid: bool,
    qu: bool,
    w: bool,
    ww: bool,
    /// ß, ä or ö.
    german: bool,
    /// ç, è or ê.
    french: bool,
    /// é.
    e_acute: bool,
    /// ñ.
    n_tilde: bool,
}

impl Letters {
    fn of(word: &[u8]) -> Self {
        let mut l = Letters::default();
        let (mut p2, mut p1) = (0u8, 0u8);
        for &b in word {
            match (p1, b) {
                (b'i', b'j') => l.ij = true,
                (b'o', b'e') => l.oe = true,
                (b'a', b'a') => l.aa = true,
                (b'u', b'u') => l.uu = true,
                (b'c', b'h') if p2 == b's' => l.sch = true,
                (b'e', b'i') => l.ei = true,
                (b'i', b'd') if p2 == b'e' => l.eid = true,
                (b'q', b'u') => l.qu = true,
                (b'w', b'w') => l.ww = true,
                (0xC3, 0x9F | 0xA4 | 0xB6) => l.german = true,
                (0xC3, 0xA7 | 0xA8 | 0xAA) => l.french = true,
                (0xC3, 0xA9) => l.e_acute = true,
                (0xC3, 0xB1) => l.n_tilde = true,
                _ => {}
            }
            l.w |= b == b'w';
            (p2, p1) = (p1, b);
        }
        l
    }
}

fn spelling_votes(word: &str, votes: &mut Votes) {
    let mut add = |l: Lang, w: f32| {
        if let Some(v) = votes.get_mut(l.index()) {
            *v += w;
        }
    };
    let has = Letters::of(word.as_bytes());
    let len = word.len();
    if has.ij
        || word.ends_with("heid")
        || word.ends_with("lijk")
        || word.ends_with("tje")
        || has.oe && len > 3
        || has.aa
        || has.uu
        || word.starts_with("ge") && word.ends_with('d')
    {
        add(Lang::Nl, 0.3);
    }
    if has.sch
        || word.ends_with("ung")
        || word.ends_with("lich")
        || has.german
        || has.ei && !has.eid
    {
        add(Lang::De, 0.3);
    }
    if has.french
        || has.e_acute && len > 2
        || word.ends_with("eux")
        || word.ends_with("tion") && len > 5
        || has.qu
    {
        add(Lang::Fr, 0.25);
    }
    if word.ends_with("ing") && len > 4
        || word.starts_with("th")
        || has.w && !has.ww
        || word.ends_with("ly")
        || word.ends_with("ed") && len > 4
    {
        add(Lang::En, 0.25);
    }
    if has.n_tilde || word.ends_with("ción") {
        add(Lang::Es, 0.5);
    }
}

/// The language of a text, or `None` when it is too short or too mixed to say.
pub fn detect(doc: &Doc) -> Option<Lang> {
    detect_scores(doc).0
}

/// The detected language and how sure the detector is (0.0–1.0).
pub fn detect_scores(doc: &Doc) -> (Option<Lang>, f32) {
    let mut votes: Votes = [0.0; ALL.len()];
    let mut words = 0u32;
    for t in doc.tokens.iter().filter(|t| t.kind == TokenKind::Word) {
        if t.lower().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        words += 1;
        if let Some(v) = WORDS.get(t.lower()) {
            for (a, b) in votes.iter_mut().zip(v) {
                *a += b;
            }
        }
        spelling_votes(t.lower(), &mut votes);
    }
    let total: f32 = votes.iter().sum();
    // The highest score (the first language on a tie) and the next highest.
    let mut best = 0;
    for (i, v) in votes.iter().enumerate() {
        if v.total_cmp(&votes[best]).is_gt() {
            best = i;
        }
    }
    let best_score = votes[best];
    let second = votes
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != best)
        .map(|(_, v)| *v)
        .max_by(f32::total_cmp)
        .unwrap_or(0.0);
    let confidence = if total > 0.0 {
        (best_score - second) / total
    } else {
        0.0
    };
    // Enough evidence, and a clear winner.
    if words < 2 || best_score < 1.0 || best_score < second * 1.4 {
        return (None, confidence);
    }
    (ALL.get(best).copied(), confidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<&'static str> {
        detect(&Doc::new(s)).map(Lang::code)
    }

    #[test]
    fn the_four_languages() {
        assert_eq!(
            d("Ik heb gisteren een taart besteld en hij was heerlijk"),
            Some("nl")
        );
        assert_eq!(
            d("Waarom is mijn bestelling nog niet geleverd?"),
            Some("nl")
        );
        assert_eq!(
            d("I ordered a cake yesterday and it was delicious"),
            Some("en")
        );
        assert_eq!(
            d("J'ai commandé un gâteau hier et il était délicieux"),
            Some("fr")
        );
        assert_eq!(
            d("Ich habe gestern einen Kuchen bestellt und er war sehr lecker"),
            Some("de")
        );
        assert_eq!(
            d("Ek het gister 'n koek bestel en dit was baie lekker"),
            Some("af")
        );
    }

    #[test]
    fn too_short_or_too_mixed_is_none() {
        assert_eq!(d(""), None);
        assert_eq!(d("👍"), None);
        assert_eq!(d("https://x.nl"), None);
        assert_eq!(d("ok"), None);
        assert_eq!(d("Bakkerij"), None);
    }
}
