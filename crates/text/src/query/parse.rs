//! Parsing the query language, with errors a marketer understands.

use super::{MAX_DEPTH, MAX_TERMS, Query, Term};
use crate::doc::fold;
use crate::lang::Lang;

/// What is wrong with a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// Nothing to search for.
    Empty,
    /// A `"` without its closing `"`.
    UnclosedQuote,
    /// A `(` without its closing `)`.
    UnclosedParen,
    /// A `)` without an opening `(`.
    UnexpectedCloseParen,
    /// An operator with nothing on one side (`AND` at the end, `OR OR`).
    MissingTerm(String),
    /// `""` or `#` or `@` with nothing after it.
    EmptyTerm,
    /// `lang:` with a language Dialoog does not know.
    UnknownLanguage(String),
    /// `something:` that is not `lang:` or `source:`.
    UnknownField(String),
    /// `a*`: a prefix needs at least two letters.
    PrefixTooShort,
    /// More than [`MAX_TERMS`] terms.
    TooManyTerms,
    /// Parentheses or NOTs nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

/// A query that could not be read, and where (a character position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Character position (0-based) where the problem is.
    pub position: usize,
    /// What the problem is.
    pub kind: ParseErrorKind,
}

impl ParseError {
    /// The message for a person, in Dutch (`nl`) or English (anything else).
    pub fn message(&self, lang: &str) -> String {
        let p = self.position + 1;
        let nl = lang == "nl";
        use ParseErrorKind as K;
        match (&self.kind, nl) {
            (K::Empty, true) => "De zoekvraag is leeg: vul minstens één woord in.".into(),
            (K::Empty, false) => "The query is empty: enter at least one word.".into(),
            (K::UnclosedQuote, true) => format!(
                "Het aanhalingsteken op positie {p} wordt niet afgesloten. Zet er een \" achter de woordgroep."
            ),
            (K::UnclosedQuote, false) => {
                format!("The quote at position {p} is never closed. Add a \" after the phrase.")
            }
            (K::UnclosedParen, true) => {
                format!("Het haakje op positie {p} wordt niet gesloten. Voeg een ) toe.")
            }
            (K::UnclosedParen, false) => {
                format!("The parenthesis at position {p} is never closed. Add a ).")
            }
            (K::UnexpectedCloseParen, true) => {
                format!("Op positie {p} staat een ) zonder ( ervoor.")
            }
            (K::UnexpectedCloseParen, false) => {
                format!("There is a ) at position {p} without a ( before it.")
            }
            (K::MissingTerm(op), true) => {
                format!("Na of voor {op} op positie {p} ontbreekt een zoekwoord.")
            }
            (K::MissingTerm(op), false) => {
                format!("{op} at position {p} needs a search word on both sides.")
            }
            (K::EmptyTerm, true) => format!("Op positie {p} staat een lege zoekterm."),
            (K::EmptyTerm, false) => format!("There is an empty search term at position {p}."),
            (K::UnknownLanguage(l), true) => format!(
                "Onbekende taal \"{l}\" op positie {p}. Gebruik bijvoorbeeld lang:nl of lang:en."
            ),
            (K::UnknownLanguage(l), false) => format!(
                "Unknown language \"{l}\" at position {p}. Use for example lang:nl or lang:en."
            ),
            (K::UnknownField(f), true) => {
                format!("Onbekend veld \"{f}:\" op positie {p}. Alleen lang: en source: bestaan.")
            }
            (K::UnknownField(f), false) => {
                format!("Unknown field \"{f}:\" at position {p}. Only lang: and source: exist.")
            }
            (K::PrefixTooShort, true) => format!(
                "Het woorddeel voor de * op positie {p} is te kort: gebruik minstens twee letters."
            ),
            (K::PrefixTooShort, false) => format!(
                "The word part before the * at position {p} is too short: use at least two letters."
            ),
            (K::TooManyTerms, true) => {
                format!("De zoekvraag heeft meer dan {MAX_TERMS} zoektermen.")
            }
            (K::TooManyTerms, false) => {
                format!("The query has more than {MAX_TERMS} search terms.")
            }
            (K::TooDeep, true) => format!(
                "Te veel haakjes of NIETs in elkaar (op positie {p}); maak de zoekvraag eenvoudiger."
            ),
            (K::TooDeep, false) => format!(
                "Too many nested parentheses or NOTs (at position {p}); simplify the query."
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    And,
    Or,
    Not,
    Phrase(Vec<String>),
    Word(String),
}

fn lex(input: &str) -> Result<Vec<(usize, Tok)>, ParseError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = vec![];
    let mut i = 0;
    let err = |position, kind| Err(ParseError { position, kind });
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push((i, Tok::Open));
            i += 1;
        } else if c == ')' {
            out.push((i, Tok::Close));
            i += 1;
        } else if c == '"' || c == '“' || c == '”' {
            let start = i;
            i += 1;
            let body_start = i;
            while i < chars.len() && !matches!(chars[i], '"' | '“' | '”') {
                i += 1;
            }
            if i >= chars.len() {
                return err(start, ParseErrorKind::UnclosedQuote);
            }
            let body: String = chars[body_start..i].iter().collect();
            let doc = crate::Doc::new(&body);
            let words: Vec<String> = doc
                .tokens
                .iter()
                .map(|t| t.folded().trim_start_matches(['#', '@']).to_owned())
                .collect();
            if words.is_empty() {
                return err(start, ParseErrorKind::EmptyTerm);
            }
            out.push((start, Tok::Phrase(words)));
            i += 1;
        } else {
            let start = i;
            while i < chars.len()
                && !chars[i].is_whitespace()
                && !matches!(chars[i], '(' | ')' | '"' | '“' | '”')
            {
                i += 1;
            }
            let w: String = chars[start..i].iter().collect();
            let tok = match w.as_str() {
                "AND" | "EN" => Tok::And,
                "OR" | "OF" => Tok::Or,
                "NOT" | "NIET" => Tok::Not,
                _ => Tok::Word(w),
            };
            out.push((start, tok));
        }
    }
    Ok(out)
}

fn term(pos: usize, w: &str) -> Result<Query, ParseError> {
    let err = |kind| {
        Err(ParseError {
            position: pos,
            kind,
        })
    };
    if let Some((field, value)) = w.split_once(':')
        && !field.is_empty()
        && field.chars().all(|c| c.is_ascii_alphabetic())
        && !value.starts_with("//")
    {
        return match field.to_ascii_lowercase().as_str() {
            "lang" | "taal" => Lang::from_code(value).map(Query::Lang).map_or_else(
                || err(ParseErrorKind::UnknownLanguage(value.to_owned())),
                Ok,
            ),
            "source" | "bron" if !value.is_empty() => Ok(Query::Source(fold(value))),
            "source" | "bron" => err(ParseErrorKind::EmptyTerm),
            _ => err(ParseErrorKind::UnknownField(field.to_owned())),
        };
    }
    let folded = fold(w);
    if let Some(tag) = folded.strip_prefix('#') {
        return if tag.is_empty() {
            err(ParseErrorKind::EmptyTerm)
        } else {
            Ok(Query::Term(Term::Hashtag(tag.to_owned())))
        };
    }
    if let Some(who) = folded.strip_prefix('@') {
        return if who.is_empty() {
            err(ParseErrorKind::EmptyTerm)
        } else {
            Ok(Query::Term(Term::Mention(who.to_owned())))
        };
    }
    if let Some(prefix) = folded.strip_suffix('*') {
        let prefix = prefix.trim_end_matches('*');
        return if prefix.chars().count() < 2 {
            err(ParseErrorKind::PrefixTooShort)
        } else {
            Ok(Query::Term(Term::Prefix(prefix.to_owned())))
        };
    }
    // A word as the tokenizer sees it ("e-mail" → e, mail as a phrase).
    let doc = crate::Doc::new(w);
    let words: Vec<String> = doc.tokens.iter().map(|t| t.folded().to_owned()).collect();
    match words.len() {
        0 => err(ParseErrorKind::EmptyTerm),
        1 => Ok(Query::Term(Term::Word(
            words.into_iter().next().unwrap_or_default(),
        ))),
        _ => Ok(Query::Term(Term::Phrase(words))),
    }
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    i: usize,
    end: usize,
    terms: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.1)
    }

    fn pos(&self) -> usize {
        self.toks.get(self.i).map_or(self.end, |t| t.0)
    }

    fn or(&mut self, depth: usize) -> Result<Query, ParseError> {
        let mut items = vec![self.and(depth)?];
        while self.peek() == Some(&Tok::Or) {
            let pos = self.pos();
            self.i += 1;
            if matches!(self.peek(), None | Some(Tok::Or | Tok::And | Tok::Close)) {
                return Err(ParseError {
                    position: pos,
                    kind: ParseErrorKind::MissingTerm("OR".into()),
                });
            }
            items.push(self.and(depth)?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Query::And(vec![]))
        } else {
            Query::Or(items)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Query, ParseError> {
        let mut items = vec![self.unary(depth)?];
        loop {
            match self.peek() {
                Some(Tok::And) => {
                    let pos = self.pos();
                    self.i += 1;
                    if matches!(self.peek(), None | Some(Tok::Or | Tok::And | Tok::Close)) {
                        return Err(ParseError {
                            position: pos,
                            kind: ParseErrorKind::MissingTerm("AND".into()),
                        });
                    }
                    items.push(self.unary(depth)?);
                }
                Some(Tok::Open | Tok::Not | Tok::Phrase(_) | Tok::Word(_)) => {
                    items.push(self.unary(depth)?)
                }
                _ => break,
            }
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Query::And(vec![]))
        } else {
            Query::And(items)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Query, ParseError> {
        if depth > MAX_DEPTH {
            return Err(ParseError {
                position: self.pos(),
                kind: ParseErrorKind::TooDeep,
            });
        }
        let pos = self.pos();
        let Some((_, tok)) = self.toks.get(self.i).cloned() else {
            return Err(ParseError {
                position: pos,
                kind: ParseErrorKind::Empty,
            });
        };
        self.i += 1;
        match tok {
            Tok::Not => {
                if matches!(self.peek(), None | Some(Tok::Or | Tok::And | Tok::Close)) {
                    return Err(ParseError {
                        position: pos,
                        kind: ParseErrorKind::MissingTerm("NOT".into()),
                    });
                }
                Ok(Query::Not(Box::new(self.unary(depth + 1)?)))
            }
            Tok::Open => {
                if self.peek() == Some(&Tok::Close) {
                    return Err(ParseError {
                        position: pos,
                        kind: ParseErrorKind::EmptyTerm,
                    });
                }
                let q = self.or(depth + 1)?;
                if self.peek() != Some(&Tok::Close) {
                    return Err(ParseError {
                        position: pos,
                        kind: ParseErrorKind::UnclosedParen,
                    });
                }
                self.i += 1;
                Ok(q)
            }
            Tok::Close => Err(ParseError {
                position: pos,
                kind: ParseErrorKind::UnexpectedCloseParen,
            }),
            Tok::And | Tok::Or => Err(ParseError {
                position: pos,
                kind: ParseErrorKind::MissingTerm(
                    if tok == Tok::And { "AND" } else { "OR" }.into(),
                ),
            }),
            Tok::Phrase(words) => {
                self.count(pos)?;
                Ok(Query::Term(if words.len() == 1 {
                    Term::Word(words.into_iter().next().unwrap_or_default())
                } else {
                    Term::Phrase(words)
                }))
            }
            Tok::Word(w) => {
                self.count(pos)?;
                term(pos, &w)
            }
        }
    }

    fn count(&mut self, pos: usize) -> Result<(), ParseError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(ParseError {
                position: pos,
                kind: ParseErrorKind::TooManyTerms,
            });
        }
        Ok(())
    }
}

/// Parses a query.
pub fn parse(input: &str) -> Result<Query, ParseError> {
    let toks = lex(input)?;
    if toks.is_empty() {
        return Err(ParseError {
            position: 0,
            kind: ParseErrorKind::Empty,
        });
    }
    let mut p = Parser {
        toks,
        i: 0,
        end: input.chars().count(),
        terms: 0,
    };
    let q = p.or(0)?;
    if p.i < p.toks.len() {
        return Err(ParseError {
            position: p.pos(),
            kind: ParseErrorKind::UnexpectedCloseParen,
        });
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Query {
        Query::Term(Term::Word(s.into()))
    }

    #[test]
    fn grammar() {
        assert_eq!(parse("bakkerij"), Ok(w("bakkerij")));
        assert_eq!(
            parse("taart brood"),
            Ok(Query::And(vec![w("taart"), w("brood")]))
        );
        assert_eq!(
            parse("taart OR brood"),
            Ok(Query::Or(vec![w("taart"), w("brood")]))
        );
        assert_eq!(
            parse("a AND b OR c"),
            Ok(Query::Or(vec![Query::And(vec![w("a"), w("b")]), w("c")]))
        );
        assert_eq!(
            parse("(Vries OF Jansen) NIET vacature"),
            Ok(Query::And(vec![
                Query::Or(vec![w("vries"), w("jansen")]),
                Query::Not(Box::new(w("vacature")))
            ]))
        );
        assert_eq!(
            parse("\"Bakkerij De Vries\""),
            Ok(Query::Term(Term::Phrase(vec![
                "bakkerij".into(),
                "de".into(),
                "vries".into()
            ])))
        );
        assert_eq!(parse("bak*"), Ok(Query::Term(Term::Prefix("bak".into()))));
        assert_eq!(
            parse("#Croissant"),
            Ok(Query::Term(Term::Hashtag("croissant".into())))
        );
        assert_eq!(
            parse("@BakkerijDV"),
            Ok(Query::Term(Term::Mention("bakkerijdv".into())))
        );
        assert_eq!(
            parse("lang:nl source:Mastodon"),
            Ok(Query::And(vec![
                Query::Lang(Lang::Nl),
                Query::Source("mastodon".into())
            ]))
        );
        assert_eq!(parse("Café"), Ok(w("cafe")));
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = |s: &str| parse(s).err().map(|e| (e.position, e.kind));
        assert_eq!(e(""), Some((0, ParseErrorKind::Empty)));
        assert_eq!(
            e("taart \"De Vries"),
            Some((6, ParseErrorKind::UnclosedQuote))
        );
        assert_eq!(
            e("(taart OR brood"),
            Some((0, ParseErrorKind::UnclosedParen))
        );
        assert_eq!(e("taart)"), Some((5, ParseErrorKind::UnexpectedCloseParen)));
        assert_eq!(
            e("taart AND"),
            Some((6, ParseErrorKind::MissingTerm("AND".into())))
        );
        assert_eq!(
            e("OR taart"),
            Some((0, ParseErrorKind::MissingTerm("OR".into())))
        );
        assert_eq!(
            e("lang:xx"),
            Some((0, ParseErrorKind::UnknownLanguage("xx".into())))
        );
        assert_eq!(
            e("foo:bar"),
            Some((0, ParseErrorKind::UnknownField("foo".into())))
        );
        assert_eq!(e("a*"), Some((0, ParseErrorKind::PrefixTooShort)));
        assert_eq!(e("#"), Some((0, ParseErrorKind::EmptyTerm)));
        let err = parse("taart \"De Vries").err().unwrap_or(ParseError {
            position: 0,
            kind: ParseErrorKind::Empty,
        });
        assert_eq!(
            err.message("nl"),
            "Het aanhalingsteken op positie 7 wordt niet afgesloten. Zet er een \" achter de woordgroep."
        );
        assert_eq!(
            err.message("en"),
            "The quote at position 7 is never closed. Add a \" after the phrase."
        );
    }

    #[test]
    fn bounded() {
        let deep = format!("{}x{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(
            parse(&deep).err().map(|e| e.kind),
            Some(ParseErrorKind::TooDeep)
        );
        let nots = format!("{}x", "NOT ".repeat(10_000));
        assert_eq!(
            parse(&nots).err().map(|e| e.kind),
            Some(ParseErrorKind::TooDeep)
        );
        let many: Vec<String> = (0..10_000).map(|i| format!("woord{i}")).collect();
        assert!(parse(&many.join(" OR ")).is_ok());
        let too_many: Vec<String> = (0..MAX_TERMS + 1).map(|i| format!("w{i}")).collect();
        assert_eq!(
            parse(&too_many.join(" ")).err().map(|e| e.kind),
            Some(ParseErrorKind::TooManyTerms)
        );
    }
}
