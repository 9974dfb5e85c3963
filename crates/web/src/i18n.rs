//! The interface's words in Dutch and English.
//!
//! `locales/<code>.txt` holds `key = value` lines; both files must have the
//! same keys (a test checks it, and that every key the code and templates use
//! exists). `{name}` in a value is replaced by [`Tr::fmt`].

use dialoog_domain::Locale;
use std::collections::HashMap;
use std::sync::LazyLock;

fn parse(src: &'static str) -> HashMap<&'static str, String> {
    src.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim().replace("\\n", "\n")))
        .collect()
}

static NL: LazyLock<HashMap<&'static str, String>> =
    LazyLock::new(|| parse(include_str!("../locales/nl.txt")));
static EN: LazyLock<HashMap<&'static str, String>> =
    LazyLock::new(|| parse(include_str!("../locales/en.txt")));

/// A translator for one locale.
#[derive(Clone, Copy, Debug)]
pub struct Tr(pub Locale);

impl Tr {
    fn map(self) -> &'static HashMap<&'static str, String> {
        match self.0 {
            Locale::Nl => &NL,
            Locale::En => &EN,
        }
    }

    /// The text for `key`; the key itself when missing (and a log line), so
    /// a gap shows instead of breaking the page.
    pub fn s(&self, key: &str) -> &'static str {
        if let Some(v) = self.get(key) {
            return v;
        }
        tracing::warn!(key, locale = self.0.code(), "missing translation");
        EN.get(key).map_or("?", String::as_str)
    }

    /// The text for `key`, if the catalogue has it.
    pub fn get(&self, key: &str) -> Option<&'static str> {
        self.map().get(key).map(String::as_str)
    }

    /// The text for `key` with `{name}` placeholders filled in.
    pub fn fmt(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.s(key).to_owned();
        for (k, v) in args {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    }

    /// The `<html lang>` code.
    pub fn lang(&self) -> &'static str {
        self.0.code()
    }

    /// Every key of a locale, for tests.
    pub fn keys(locale: Locale) -> Vec<&'static str> {
        Tr(locale).map().keys().copied().collect()
    }
}
