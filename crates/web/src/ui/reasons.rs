//! A stored reason (a channel's or a listening source's) shown in two
//! parts: a sentence in the user's language, chosen by the reason's class
//! (the connector's error kind, which leads the stored words), and the
//! network's own words after it.

/// What kind of failure a stored reason records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The network had a passing problem: it is tried again by itself.
    Temporary,
    /// The network no longer accepts the access it was given.
    Access,
    /// The network did not say whether it worked.
    Unknown,
    /// The network refuses, and will until something changes there.
    Refused,
}

/// The words that lead a stored reason, by class (as the connector's
/// error writes them).
const LEADS: [(&str, Class); 3] = [
    ("temporary problem: ", Class::Temporary),
    ("not authorised: ", Class::Access),
    ("outcome unknown: ", Class::Unknown),
];

/// The class of a stored reason.
pub fn class(reason: &str) -> Class {
    LEADS
        .iter()
        .find(|(lead, _)| reason.starts_with(lead))
        .map_or(Class::Refused, |(_, c)| *c)
}

/// The network's words without the class that leads them.
pub fn detail(reason: &str) -> &str {
    LEADS
        .iter()
        .find_map(|(lead, _)| reason.strip_prefix(lead))
        .unwrap_or(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_class_is_read_from_the_lead_and_taken_off_the_words() {
        for (stored, want, words) in [
            (
                "temporary problem: the server answered 503",
                Class::Temporary,
                "the server answered 503",
            ),
            (
                "not authorised: token revoked",
                Class::Access,
                "token revoked",
            ),
            ("outcome unknown: timed out", Class::Unknown, "timed out"),
            (
                "the feed is not RSS or Atom",
                Class::Refused,
                "the feed is not RSS or Atom",
            ),
        ] {
            assert_eq!((class(stored), detail(stored)), (want, words));
        }
    }
}
