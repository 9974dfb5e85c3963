//! The listening query language (L1) and its matcher.
//!
//! ```text
//! query   := or
//! or      := and ( ("OR" | "OF") and )*
//! and     := unary ( ("AND" | "EN")? unary )*        adjacent terms mean AND
//! unary   := ("NOT" | "NIET") unary | primary
//! primary := "(" or ")" | "phrase words" | word | prefix* | #hashtag
//!          | @mention | lang:xx | source:name
//! ```
//!
//! Operators are written in capitals (English or Dutch); everything else is a
//! term, matched without regard to case or diacritics. [`parse`] gives a
//! [`Query`] or a [`ParseError`] with the position and a message in Dutch or
//! English; [`Matcher`] compiles every query of every workspace into one
//! pass over a post.

mod matcher;
mod parse;
mod plan;
mod terms;
#[cfg(test)]
mod tests;

pub use matcher::{Matcher, Post, Scratch};
pub use parse::{ParseError, ParseErrorKind, parse};

use crate::lang::Lang;

/// The most terms one query may have.
pub const MAX_TERMS: usize = 20_000;
/// The deepest nesting of parentheses and NOTs.
pub const MAX_DEPTH: usize = 64;

/// Something a post must contain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Term {
    /// A whole word (also found as a hashtag: `brand` matches `#brand`).
    Word(String),
    /// Any word that starts with this.
    Prefix(String),
    /// These words, one after the other.
    Phrase(Vec<String>),
    /// This hashtag (without `#`).
    Hashtag(String),
    /// This account (without `@`); `@anna` also matches `@anna@instance`.
    Mention(String),
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// A term.
    Term(Term),
    /// The post's language.
    Lang(Lang),
    /// The post's source (folded).
    Source(String),
    /// Not this.
    Not(Box<Query>),
    /// All of these.
    And(Vec<Query>),
    /// Any of these.
    Or(Vec<Query>),
}

impl Query {
    /// Evaluates against a post, given a test for terms.
    pub fn eval(
        &self,
        post_lang: Option<Lang>,
        source: &str,
        has: &mut impl FnMut(&Term) -> bool,
    ) -> bool {
        match self {
            Query::Term(t) => has(t),
            Query::Lang(l) => post_lang == Some(*l),
            Query::Source(s) => crate::doc::fold(source) == *s,
            Query::Not(q) => !q.eval(post_lang, source, has),
            Query::And(qs) => qs.iter().all(|q| q.eval(post_lang, source, has)),
            Query::Or(qs) => qs.iter().any(|q| q.eval(post_lang, source, has)),
        }
    }

    /// Every term in the query.
    pub fn terms(&self, out: &mut Vec<Term>) {
        match self {
            Query::Term(t) => out.push(t.clone()),
            Query::Lang(_) | Query::Source(_) => {}
            Query::Not(q) => q.terms(out),
            Query::And(qs) | Query::Or(qs) => qs.iter().for_each(|q| q.terms(out)),
        }
    }

    /// Whether the query can match a post that contains none of its terms
    /// (for example `NOT spam`, `lang:nl`): such queries are checked on
    /// every post.
    pub fn matches_without_terms(&self) -> bool {
        match self {
            Query::Term(_) => false,
            Query::Lang(_) | Query::Source(_) | Query::Not(_) => true,
            Query::And(qs) => qs.iter().all(Query::matches_without_terms),
            Query::Or(qs) => qs.iter().any(Query::matches_without_terms),
        }
    }
}
