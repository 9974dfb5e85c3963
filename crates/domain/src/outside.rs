//! Text from outside (names, handles, messages) made safe to show: the
//! characters that reorder or hide what is around them are taken out.
//!
//! Escaping is the templates' job; this is about what escaping cannot
//! catch. A right-to-left override in a name ("Anna\u{202E}gnp.exe")
//! turns the text after it around, and invisible characters make two
//! names that look the same differ (or a name look empty). In names and
//! handles every bidirectional control and invisible character is
//! removed; zero-width joiner and non-joiner stay, since emoji sequences
//! and Persian and Indic names need them. In message text only the
//! embeddings, overrides and isolates go (the marks, U+200E and U+200F,
//! are ordinary in Arabic and Hebrew text); the pages also show every
//! outside text in an element of its own direction, so what is left
//! cannot reach beyond it.

/// Embeddings, overrides and isolates: they change the order of the text
/// around them.
fn reorders(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing (or a blank) where a name is expected.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' // zero-width space
            | '\u{200E}' | '\u{200F}' | '\u{061C}' // direction marks
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{FEFF}' // zero-width no-break space
            | '\u{180E}' // Mongolian vowel separator
            | '\u{00AD}' // soft hyphen
            | '\u{034F}' // combining grapheme joiner
            | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
    ) || c.is_control()
}

/// A name or handle from outside: no bidirectional controls, no invisible
/// characters, white space folded; `fallback` when nothing visible is left.
#[must_use]
pub fn clean_name(name: &str, fallback: &str) -> String {
    let kept: String = name
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| !reorders(*c) && !invisible(*c))
        .collect();
    let folded = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.is_empty() {
        fallback.to_owned()
    } else {
        folded
    }
}

/// A message's text from outside: embeddings, overrides and isolates
/// taken out, everything else kept.
#[must_use]
pub fn clean_text(text: &str) -> String {
    if text.chars().any(reorders) {
        text.chars().filter(|c| !reorders(*c)).collect()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_what_reorders_or_hides() {
        assert_eq!(clean_name("Anna\u{202E}gnp.exe", "?"), "Annagnp.exe");
        assert_eq!(
            clean_name("\u{2067}Piet\u{2069} de\u{200B} Vries", "?"),
            "Piet de Vries"
        );
        assert_eq!(clean_name("\u{200B}\u{FEFF}\u{3164}", "?"), "?");
        assert_eq!(clean_name("  Jan\t\n Jansen ", "?"), "Jan Jansen");
        assert_eq!(clean_name("a\u{0}b\u{7}c", "?"), "abc");
        // Joiners stay: emoji sequences and Persian names need them.
        assert_eq!(clean_name("👩\u{200D}💻 Sara", "?"), "👩\u{200D}💻 Sara");
        assert_eq!(clean_name("می\u{200C}خواهم", "?"), "می\u{200C}خواهم");
        assert_eq!(clean_name("שלום", "?"), "שלום");
    }

    #[test]
    fn texts_lose_only_what_reorders() {
        assert_eq!(clean_text("abc\u{202E}fed"), "abcfed");
        assert_eq!(clean_text("שלום\u{200F} hi"), "שלום\u{200F} hi");
        assert_eq!(clean_text("regel\nregel"), "regel\nregel");
    }
}
