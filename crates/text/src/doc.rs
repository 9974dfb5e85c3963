//! Normalisation and tokens: done once per text, read by every later step.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A word (letters and digits, with inner apostrophes).
    Word,
    /// `#hashtag` (the text keeps the `#`).
    Hashtag,
    /// `@mention` or `@user@instance` (the text keeps the `@`).
    Mention,
    /// `https://…`, `http://…` or `www.…`.
    Url,
    /// `name@example.nl`.
    Email,
    /// One emoji, with its modifiers and joined parts.
    Emoji,
    /// A text emoticon such as `:-)` or `<3`.
    Emoticon,
}

/// One token of a [`Doc`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// The lower-cased form, then the folded one where the two differ: one
    /// allocation per token, none for the folded form of a plain word.
    forms: String,
    /// Where the lower-cased form ends in `forms`.
    lower_end: usize,
    /// Where the folded form starts in `forms`: 0 when it is the lower-cased
    /// form itself.
    folded_start: usize,
    /// Written in capitals (two or more letters, all upper case).
    pub caps: bool,
    /// A clause ends right after this token (`.`, `,`, `!`, `?`, `;`, `:`).
    pub clause_end: bool,
    /// A sentence ends right after this token (`.`, `!`, `?`, a line break).
    pub sentence_end: bool,
}

/// A normalised, tokenised text.
#[derive(Debug, Clone, Default)]
pub struct Doc {
    /// The text after NFKC normalisation.
    pub text: String,
    /// Its tokens, in order.
    pub tokens: Vec<Token>,
    /// How many `!` it has.
    pub exclamations: u32,
    /// Whether all its letters are capitals (then capitals mean nothing).
    pub all_caps: bool,
}

/// The longest text analysed; beyond this (1 MiB) the rest is ignored, so
/// time and memory stay bounded whatever arrives.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

const EMOTICONS: [&str; 32] = [
    ":-)", ":)", ":-d", ":d", "=)", ":]", ";-)", ";)", ":-p", ":p", "xd", "<3", "^^", "^_^", ":-(",
    ":(", ":'(", ":-/", ":/", ":-|", ":|", "</3", ":[", "=(", ":-s", ":s", ":o", ":-o", ">:(",
    ":@", "-_-", "d:",
];

/// Whether `c` starts an emoji.
pub fn is_emoji(c: char) -> bool {
    // Everything below U+203C (all of ASCII and the Latin letters) is no emoji.
    c >= '\u{203C}'
        && matches!(c as u32,
        0x1F300..=0x1F5FF | 0x1F600..=0x1F64F | 0x1F680..=0x1F6FF | 0x1F900..=0x1F9FF | 0x1FA70..=0x1FAFF |
        0x2600..=0x26FF | 0x2700..=0x27BF | 0x1F1E6..=0x1F1FF | 0x2B50 | 0x2B55 | 0x203C | 0x2049)
}

fn is_emoji_continuation(c: char) -> bool {
    matches!(c as u32, 0xFE0F | 0x200D | 0x1F3FB..=0x1F3FF | 0x20E3 | 0xE0020..=0xE007F)
}

/// Lower-cases and removes diacritics: `Geïrriteerd` → `geirriteerd`.
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Two or more letters and no lower-case one: `NIET`, `OK`.
fn written_in_capitals(raw: &str) -> bool {
    let mut letters = 0;
    for c in raw.chars() {
        if c.is_lowercase() {
            return false;
        }
        letters += usize::from(c.is_alphabetic());
    }
    letters >= 2
}

fn push(tokens: &mut Vec<Token>, kind: TokenKind, raw: &str) {
    let caps = written_in_capitals(raw);
    let (forms, lower_end, folded_start) = if raw.is_ascii() {
        (raw.to_ascii_lowercase(), raw.len(), 0)
    } else {
        let mut forms = raw.to_lowercase();
        // Phones write `don’t`: one apostrophe, so `n't` and `'ll` read the same.
        if kind == TokenKind::Word && forms.contains('\u{2019}') {
            forms = forms.replace('\u{2019}', "'");
        }
        let lower_end = forms.len();
        if forms.is_ascii() {
            (forms, lower_end, 0)
        } else {
            let folded = fold(&forms);
            forms.push_str(&folded);
            (forms, lower_end, lower_end)
        }
    };
    tokens.push(Token {
        kind,
        forms,
        lower_end,
        folded_start,
        caps,
        clause_end: false,
        sentence_end: false,
    });
}

fn word_char(c: char) -> bool {
    c.is_alphanumeric() || (!c.is_ascii() && is_combining_mark(c))
}

impl Token {
    /// Lower-cased, diacritics kept (`geïrriteerd`).
    pub fn lower(&self) -> &str {
        self.forms.get(..self.lower_end).unwrap_or_default()
    }

    /// Lower-cased with diacritics removed, for matching (`geirriteerd`).
    pub fn folded(&self) -> &str {
        if self.folded_start == 0 {
            self.lower()
        } else {
            self.forms.get(self.folded_start..).unwrap_or_default()
        }
    }

    /// The bytes of [`Token::folded`], without checking where characters
    /// start (the bounds are always at one), for the matcher's inner loop.
    pub(crate) fn folded_bytes(&self) -> &[u8] {
        let b = self.forms.as_bytes();
        if self.folded_start == 0 {
            b.get(..self.lower_end).unwrap_or_default()
        } else {
            b.get(self.folded_start..).unwrap_or_default()
        }
    }
}

impl Doc {
    /// Normalises (NFKC) and tokenises `input`.
    pub fn new(input: &str) -> Self {
        let input = if input.len() > MAX_TEXT_BYTES {
            let mut end = MAX_TEXT_BYTES;
            while !input.is_char_boundary(end) {
                end -= 1;
            }
            &input[..end]
        } else {
            input
        };
        // Most texts are already in NFKC; the quick check says so without
        // building the normalised copy.
        let text: String = if input.is_ascii() || is_nfkc_quick(input.chars()) == IsNormalized::Yes
        {
            input.to_owned()
        } else {
            input.nfkc().collect()
        };
        let mut doc = Doc {
            tokens: Vec::with_capacity(text.len() / 5 + 1),
            ..Doc::default()
        };
        let mut i = 0;
        while i < text.len() {
            let Some(c) = text[i..].chars().next() else {
                break;
            };
            let clen = c.len_utf8();
            // URLs
            let rest = &text[i..];
            if (rest.starts_with("http://")
                || rest.starts_with("https://")
                || rest.starts_with("www."))
                && (i == 0 || !word_char(text[..i].chars().next_back().unwrap_or(' ')))
            {
                let end = rest.find(char::is_whitespace).map_or(text.len(), |e| i + e);
                let url =
                    text[i..end].trim_end_matches(['.', ',', ')', '!', '?', ';', ':', '"', '\'']);
                push(&mut doc.tokens, TokenKind::Url, url);
                i += url.len().max(1);
                continue;
            }
            // Emoticons (before punctuation handling).
            if matches!(
                c,
                ':' | ';' | '=' | '<' | '^' | 'x' | 'X' | '>' | '-' | 'd' | 'D'
            ) {
                let at_start = i == 0 || !word_char(text[..i].chars().next_back().unwrap_or(' '));
                if at_start
                    && let Some(e) = EMOTICONS
                        .iter()
                        .filter(|e| {
                            e.as_bytes()
                                .first()
                                .is_some_and(|f| f.eq_ignore_ascii_case(&(c as u8)))
                                && rest.len() >= e.len()
                                && rest.is_char_boundary(e.len())
                                && rest[..e.len()].eq_ignore_ascii_case(e)
                                && rest[e.len()..].chars().next().is_none_or(|n| !word_char(n))
                        })
                        .max_by_key(|e| e.len())
                {
                    push(&mut doc.tokens, TokenKind::Emoticon, &rest[..e.len()]);
                    i += e.len();
                    continue;
                }
            }
            if is_emoji(c) {
                let mut end = i + clen;
                let mut chars = text[end..].chars().peekable();
                while let Some(&n) = chars.peek() {
                    if is_emoji_continuation(n)
                        || (text[..end].ends_with('\u{200D}') && is_emoji(n))
                        || (matches!(c as u32, 0x1F1E6..=0x1F1FF)
                            && matches!(n as u32, 0x1F1E6..=0x1F1FF)
                            && end == i + clen)
                    {
                        end += n.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                push(&mut doc.tokens, TokenKind::Emoji, &text[i..end]);
                i = end;
                continue;
            }
            if (c == '#' || c == '@') && text[i + 1..].chars().next().is_some_and(word_char) {
                let mut end = i + 1;
                for n in text[i + 1..].chars() {
                    let inner_at = c == '@' && n == '@' && !text[i + 1..end].contains('@');
                    let inner_dot = c == '@'
                        && n == '.'
                        && text[end + 1..].chars().next().is_some_and(word_char);
                    if word_char(n) || n == '_' || inner_at || inner_dot {
                        end += n.len_utf8();
                    } else {
                        break;
                    }
                }
                let kind = if c == '#' {
                    TokenKind::Hashtag
                } else {
                    TokenKind::Mention
                };
                push(&mut doc.tokens, kind, &text[i..end]);
                i = end;
                continue;
            }
            if word_char(c) {
                // ASCII letters, digits and `_` first, a byte at a time; the
                // loop below goes on from there.
                let plain = text.as_bytes()[i..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                let mut end = i + plain;
                let mut email = false;
                for (off, n) in text[end..].char_indices() {
                    let pos = i + plain + off;
                    if word_char(n) || n == '_' {
                        end = pos + n.len_utf8();
                        continue;
                    }
                    let next_is_word = text[pos + n.len_utf8()..]
                        .chars()
                        .next()
                        .is_some_and(word_char);
                    if (n == '\'' || n == '\u{2019}') && next_is_word {
                        end = pos + n.len_utf8();
                    } else if n == '@' && next_is_word && !email {
                        email = true;
                        end = pos + 1;
                    } else if (n == '.' || n == '-') && email && next_is_word {
                        end = pos + 1;
                    } else {
                        break;
                    }
                }
                let raw = &text[i..end];
                let kind = if email && raw.rsplit('@').next().is_some_and(|d| d.contains('.')) {
                    TokenKind::Email
                } else {
                    TokenKind::Word
                };
                push(&mut doc.tokens, kind, raw);
                i = end.max(i + clen);
                continue;
            }
            if matches!(c, '.' | ',' | '!' | '?' | ';' | ':' | '\n') {
                if c == '!' {
                    doc.exclamations += 1;
                }
                if let Some(t) = doc.tokens.last_mut() {
                    t.clause_end = true;
                    t.sentence_end |= matches!(c, '.' | '!' | '?' | '\n');
                }
            }
            i += clen;
        }
        doc.all_caps = !text.chars().any(char::is_lowercase)
            && text.chars().filter(|c| c.is_uppercase()).nth(2).is_some();
        doc.text = text;
        doc
    }

    /// The words (not hashtags, URLs, …) of the text.
    pub fn words(&self) -> impl Iterator<Item = &Token> {
        self.tokens.iter().filter(|t| t.kind == TokenKind::Word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(TokenKind, String)> {
        Doc::new(s)
            .tokens
            .into_iter()
            .map(|t| (t.kind, t.lower().to_owned()))
            .collect()
    }

    #[test]
    fn tokens_of_every_kind() {
        use TokenKind::*;
        assert_eq!(
            kinds(
                "Top service @BakkerijDV! #lekker zie https://x.nl/a?b=1. Mail info@bakker.nl :-) 👍🏽 <3"
            ),
            vec![
                (Word, "top".into()),
                (Word, "service".into()),
                (Mention, "@bakkerijdv".into()),
                (Hashtag, "#lekker".into()),
                (Word, "zie".into()),
                (Url, "https://x.nl/a?b=1".into()),
                (Word, "mail".into()),
                (Email, "info@bakker.nl".into()),
                (Emoticon, ":-)".into()),
                (Emoji, "👍🏽".into()),
                (Emoticon, "<3".into()),
            ]
        );
        assert_eq!(
            kinds("@anna@mastodon.social hoi")[0],
            (Mention, "@anna@mastodon.social".into())
        );
        assert_eq!(kinds("don't z'n")[0].1, "don't");
        assert_eq!(kinds("👨‍👩‍👧 ok").len(), 2);
    }

    #[test]
    fn dutch_folding() {
        let d = Doc::new("IJsselmeer ĳs Geïrriteerd café");
        let f: Vec<&str> = d.tokens.iter().map(|t| t.folded()).collect();
        assert_eq!(f, ["ijsselmeer", "ijs", "geirriteerd", "cafe"]);
        assert_eq!(d.tokens[2].lower(), "geïrriteerd");
        assert!(Doc::new("NIET GOED").all_caps);
        assert!(Doc::new("Dit is NIET goed").tokens[2].caps);
    }

    #[test]
    fn clauses_and_exclamations() {
        let d = Doc::new("Goed, maar duur!!!");
        assert!(d.tokens[0].clause_end && !d.tokens[1].clause_end && d.tokens[2].clause_end);
        assert_eq!(d.exclamations, 3);
        let d = Doc::new("Goed, maar duur. Don\u{2019}t!");
        assert!(!d.tokens[0].sentence_end && d.tokens[2].sentence_end);
        assert_eq!(d.tokens[3].folded(), "don't");
    }

    #[test]
    fn odd_input_is_fine() {
        for s in [
            "",
            " ",
            "#",
            "@",
            "@@",
            "http://",
            ":",
            "\u{200D}",
            "🇳🇱🇧🇪",
            "a\u{301}",
            "'",
            "x@",
            "www.",
            "::::)",
        ] {
            let _ = Doc::new(s);
        }
        let big = "woord ".repeat(300_000);
        assert!(Doc::new(&big).tokens.len() <= MAX_TEXT_BYTES / 6 + 1);
    }
}
