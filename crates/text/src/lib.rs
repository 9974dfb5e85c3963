//! Dialoog's text intelligence, with no I/O (the ripgrep habit): everything
//! here is a pure function of its input, fast, and safe on any input.
//!
//! A text is normalised and tokenised once into a [`Doc`]; language
//! detection ([`lang`]), sentiment ([`sentiment`]) and the listening matcher
//! ([`query`]) all read that one `Doc`.

pub mod analyze;
mod contrast;
pub mod doc;
pub mod eval;
pub mod lang;
pub mod query;
mod review;
pub mod rising;
pub mod sentiment;
pub mod simhash;

pub use doc::{Doc, Token, TokenKind};
pub use lang::Lang;
pub use sentiment::{Label, Sentiment};
