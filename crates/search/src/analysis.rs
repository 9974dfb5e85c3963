//! How text becomes terms: words split on anything not a letter or digit,
//! overlong ones dropped, lower-cased, diacritics folded (`café` = `cafe`),
//! then per language field a Snowball stemmer; Dutch compounds made only of
//! parts in [`DUTCH_PARTS`] are split into those parts first (`fietspad`
//! is found by `fiets`).
//!
//! Dutch Snowball takes one suffix off, so `fietsen` becomes `fiets` but
//! `fiets` becomes `fiet`; [`DutchS`] then takes a last `s` after a
//! consonant off every stem too (Snowball's own s-rule, applied once more),
//! so both meet at `fiet`.

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer,
    SplitCompoundWords, Stemmer, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
    TokenizerManager,
};

/// No stemming: the author, and text in other or unknown languages.
pub const PLAIN: &str = "dlg_plain";
/// Dutch: compounds split, Dutch Snowball stems.
pub const DUTCH: &str = "dlg_nl";
/// English Snowball stems.
pub const ENGLISH: &str = "dlg_en";

/// Parts of Dutch compounds that social posts about products and services
/// use often. A word is split only when it is made entirely of these, so a
/// short list splits rarely and never wrongly into nonsense.
pub const DUTCH_PARTS: &[&str] = &[
    "fiets",
    "pad",
    "winkel",
    "klant",
    "klanten",
    "service",
    "dienst",
    "bank",
    "rekening",
    "trein",
    "kaart",
    "kaartje",
    "station",
    "bus",
    "auto",
    "weg",
    "werk",
    "werken",
    "huis",
    "thuis",
    "bezorg",
    "bezorging",
    "pakket",
    "post",
    "bestel",
    "bestelling",
    "retour",
    "prijs",
    "korting",
    "actie",
    "app",
    "site",
    "web",
    "telefoon",
    "mobiel",
    "internet",
    "storing",
    "verbinding",
    "energie",
    "stroom",
    "gas",
    "water",
    "rekening",
    "factuur",
    "zorg",
    "verzekering",
    "premie",
    "school",
    "boek",
    "koffie",
    "thee",
    "bier",
    "brood",
    "pizza",
    "restaurant",
    "hotel",
    "vakantie",
    "reis",
    "vlucht",
    "vlieg",
    "veld",
    "tijd",
    "dag",
    "week",
    "jaar",
    "nieuws",
    "brief",
    "mail",
    "lijn",
    "centrum",
    "stad",
    "markt",
];

fn base() -> tantivy::tokenizer::TextAnalyzerBuilder<impl Tokenizer> {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
}

/// Registers the three analyzers with an index's tokenizer manager.
pub fn register(manager: &TokenizerManager) -> tantivy::Result<()> {
    manager.register(PLAIN, base().build());
    manager.register(
        ENGLISH,
        base().filter(Stemmer::new(Language::English)).build(),
    );
    manager.register(
        DUTCH,
        base()
            .filter(SplitCompoundWords::from_dictionary(DUTCH_PARTS)?)
            .filter(Stemmer::new(Language::Dutch))
            .filter(DutchS)
            .build(),
    );
    Ok(())
}

/// Takes a final `s` off a Dutch stem of four letters or more when a
/// consonant other than `j` or `s` comes before it.
#[derive(Clone, Copy, Debug)]
pub struct DutchS;

/// [`DutchS`] over a tokenizer.
#[derive(Clone, Debug)]
pub struct DutchSTokenizer<T>(T);

/// [`DutchS`] over a token stream.
#[derive(Debug)]
pub struct DutchSStream<S>(S);

impl TokenFilter for DutchS {
    type Tokenizer<T: Tokenizer> = DutchSTokenizer<T>;
    fn transform<T: Tokenizer>(self, tokenizer: T) -> DutchSTokenizer<T> {
        DutchSTokenizer(tokenizer)
    }
}

impl<T: Tokenizer> Tokenizer for DutchSTokenizer<T> {
    type TokenStream<'a> = DutchSStream<T::TokenStream<'a>>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        DutchSStream(self.0.token_stream(text))
    }
}

fn trim_s(word: &mut String) {
    let b = word.as_bytes();
    let n = b.len();
    if n >= 4
        && b[n - 1] == b's'
        && !matches!(
            b[n - 2],
            b'a' | b'e' | b'i' | b'o' | b'u' | b'y' | b'j' | b's'
        )
        && b[n - 2].is_ascii_alphabetic()
    {
        word.truncate(n - 1);
    }
}

impl<S: TokenStream> TokenStream for DutchSStream<S> {
    fn advance(&mut self) -> bool {
        if !self.0.advance() {
            return false;
        }
        trim_s(&mut self.0.token_mut().text);
        true
    }
    fn token(&self) -> &Token {
        self.0.token()
    }
    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(name: &str, text: &str) -> Vec<String> {
        let m = TokenizerManager::default();
        let Ok(()) = register(&m) else {
            return vec![];
        };
        let Some(mut a) = m.get(name) else {
            return vec![];
        };
        let mut out = vec![];
        let mut s = a.token_stream(text);
        while let Some(t) = TokenStream::next(&mut s) {
            out.push(t.text.clone());
        }
        out
    }

    #[test]
    fn stems_and_splits() {
        assert_eq!(terms(ENGLISH, "Running runs"), terms(ENGLISH, "run run"));
        assert_eq!(terms(PLAIN, "Café #Fiets"), vec!["cafe", "fiets"]);
        let fiets = terms(DUTCH, "fiets");
        assert_eq!(
            terms(DUTCH, "fietsen"),
            fiets,
            "{:?}",
            terms(DUTCH, "fietsen fietsje fietsers")
        );
        assert_eq!(terms(DUTCH, "fietspad")[0], fiets[0]);
    }
}
