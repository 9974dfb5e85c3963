//! The interface languages and how dates are written in each.

use serde::{Deserialize, Serialize};

/// A language the interface speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    /// Dutch (the Netherlands and Flanders), the default.
    #[default]
    Nl,
    /// English.
    En,
}

impl Locale {
    /// Every supported locale.
    pub const ALL: [Locale; 2] = [Locale::Nl, Locale::En];

    /// The ISO 639-1 code, also the `<html lang>` value.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Locale::Nl => "nl",
            Locale::En => "en",
        }
    }

    /// Parses an exact code (`nl`, `en`).
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code() == code.trim())
    }

    /// Picks the best locale from an HTTP `Accept-Language` header, honouring
    /// quality values; Dutch when nothing matches.
    #[must_use]
    pub fn negotiate(accept_language: &str) -> Self {
        let mut best: Option<(f32, Locale)> = None;
        for part in accept_language.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(loc) = Self::from_code(primary)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, loc));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }

    /// Like [`Locale::negotiate`], but English when the header names neither
    /// language (the API's default: scripts rarely ask for Dutch by accident).
    #[must_use]
    pub fn negotiate_or_english(accept_language: &str) -> Self {
        let asks_dutch = accept_language
            .split(',')
            .any(|p| p.trim().to_ascii_lowercase().starts_with("nl"));
        if asks_dutch {
            Self::negotiate(accept_language)
        } else {
            Locale::En
        }
    }

    /// Formats a zoned time the way people in this locale write it:
    /// `25 nov. 2026 14:03` in Dutch, `25 Nov 2026, 14:03` in English.
    #[must_use]
    pub fn format_datetime(self, t: &jiff::Zoned) -> String {
        let month = usize::from(t.month().unsigned_abs()).saturating_sub(1);
        match self {
            Locale::Nl => {
                const M: [&str; 12] = [
                    "jan.", "feb.", "mrt.", "apr.", "mei", "jun.", "jul.", "aug.", "sep.", "okt.",
                    "nov.", "dec.",
                ];
                format!(
                    "{} {} {} {:02}:{:02}",
                    t.day(),
                    M.get(month).unwrap_or(&""),
                    t.year(),
                    t.hour(),
                    t.minute()
                )
            }
            Locale::En => {
                const M: [&str; 12] = [
                    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                    "Dec",
                ];
                format!(
                    "{} {} {}, {:02}:{:02}",
                    t.day(),
                    M.get(month).unwrap_or(&""),
                    t.year(),
                    t.hour(),
                    t.minute()
                )
            }
        }
    }

    /// Formats a whole number with the locale's thousands separator
    /// (`1.234.567` in Dutch, `1,234,567` in English).
    #[must_use]
    pub fn format_int(self, n: i64) -> String {
        let sep = match self {
            Locale::Nl => '.',
            Locale::En => ',',
        };
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(c);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_with_quality() {
        assert_eq!(Locale::negotiate("en-GB,en;q=0.9,nl;q=0.8"), Locale::En);
        assert_eq!(Locale::negotiate("nl-BE,en;q=0.5"), Locale::Nl);
        assert_eq!(Locale::negotiate("fr-FR,en;q=0.3,nl;q=0.7"), Locale::Nl);
        assert_eq!(Locale::negotiate("de"), Locale::Nl);
        assert_eq!(Locale::negotiate(""), Locale::Nl);
        assert_eq!(Locale::negotiate(";;;q=abc,,"), Locale::Nl);
    }

    #[test]
    fn formats_dates_and_numbers_per_locale() {
        let t: jiff::Zoned = "2026-03-29T03:04:00+02:00[Europe/Amsterdam]"
            .parse()
            .unwrap_or_default();
        assert_eq!(Locale::Nl.format_datetime(&t), "29 mrt. 2026 03:04");
        assert_eq!(Locale::En.format_datetime(&t), "29 Mar 2026, 03:04");
        assert_eq!(Locale::Nl.format_int(1_234_567), "1.234.567");
        assert_eq!(Locale::En.format_int(-1234), "-1,234");
        assert_eq!(Locale::En.format_int(999), "999");
    }
}
