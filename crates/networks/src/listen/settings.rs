//! The kinds of listening source and the checked settings of each.

use reqwest::Url;
use serde::{Deserialize, Serialize};

/// The kinds of listening source, by their names in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// An RSS, Atom or JSON feed (blogs, news, forums, review sites, search
    /// alerts).
    Rss,
    /// A hashtag's public timeline on a Mastodon instance.
    MastodonTag,
    /// A Mastodon instance's public timeline (all or only its own accounts).
    MastodonPublic,
    /// The Bluesky firehose through a Jetstream server.
    Jetstream,
    /// A wiki's recent changes (Wikipedia or any MediaWiki).
    #[serde(rename = "mediawiki")]
    MediaWiki,
}

impl SourceKind {
    /// Every kind, in the order the UI offers them.
    pub const ALL: [SourceKind; 5] = [
        SourceKind::Rss,
        SourceKind::MastodonTag,
        SourceKind::MastodonPublic,
        SourceKind::Jetstream,
        SourceKind::MediaWiki,
    ];

    /// The stable name used in the API and the store.
    pub const fn as_str(self) -> &'static str {
        match self {
            SourceKind::Rss => "rss",
            SourceKind::MastodonTag => "mastodon_tag",
            SourceKind::MastodonPublic => "mastodon_public",
            SourceKind::Jetstream => "jetstream",
            SourceKind::MediaWiki => "mediawiki",
        }
    }

    /// The kind with this name, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name.trim())
    }

    /// Whether the source runs as a stream (a task with a channel) rather
    /// than being polled. Mastodon streams where the instance lets it, and
    /// polls otherwise.
    pub const fn streams(self) -> bool {
        matches!(
            self,
            SourceKind::Jetstream | SourceKind::MastodonTag | SourceKind::MastodonPublic
        )
    }
}

/// What a person typed for a new source, before it is checked. Which
/// fields count depends on the kind.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SourceInput {
    /// The feed's, instance's, Jetstream server's or wiki's address.
    #[serde(default)]
    pub url: String,
    /// The hashtag (Mastodon hashtag sources), with or without `#`.
    #[serde(default)]
    pub tag: String,
    /// Only the instance's own accounts (Mastodon public sources).
    #[serde(default)]
    pub local: bool,
    /// Jetstream's wanted collections, separated by commas or spaces
    /// (empty: posts).
    #[serde(default)]
    pub collections: String,
}

/// A source's checked settings, stored as JSON (`{"kind": "...", ...}`).
/// Credentials are not part of them: a Mastodon token is passed to the
/// source beside them, sealed like a channel's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceSettings {
    /// A feed.
    Rss {
        /// Its address.
        url: String,
    },
    /// A hashtag on an instance.
    MastodonTag {
        /// The instance's address (`https://host/`).
        instance: String,
        /// The tag, without `#`.
        tag: String,
    },
    /// An instance's public timeline.
    MastodonPublic {
        /// The instance's address (`https://host/`).
        instance: String,
        /// Only its own accounts.
        local: bool,
    },
    /// A Jetstream server.
    Jetstream {
        /// Its subscribe address (`wss://host/subscribe`), without query.
        url: String,
        /// The collections asked for (NSIDs, or prefixes ending in `.*`).
        collections: Vec<String>,
    },
    /// A wiki.
    #[serde(rename = "mediawiki")]
    MediaWiki {
        /// Its `api.php` address.
        api: String,
    },
}

/// Why settings were refused. The web layer translates by [`SettingsError::code`];
/// the English text is the fallback.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// Nothing was given where an address is needed.
    #[error("fill in an address")]
    MissingUrl,
    /// Not a web address at all.
    #[error("this is not a web address (start with {expected})")]
    NotAnAddress {
        /// The schemes that fit, in words.
        expected: &'static str,
    },
    /// A web address, but with a scheme that does not fit the kind.
    #[error("this address must start with {expected}")]
    WrongScheme {
        /// The schemes that fit, in words.
        expected: &'static str,
    },
    /// A user name or password in the address.
    #[error("leave the user name and password out of the address")]
    CredentialsInUrl,
    /// No hashtag.
    #[error("fill in a hashtag")]
    MissingTag,
    /// A hashtag with characters a hashtag cannot have.
    #[error("a hashtag has only letters, digits and _ (at most 100), and not only digits")]
    BadTag,
    /// A collection that is not an NSID.
    #[error("“{0}” is not a collection name (like app.bsky.feed.post)")]
    BadCollection(String),
    /// More collections than Jetstream takes.
    #[error("at most 100 collections")]
    TooManyCollections,
    /// Collections that leave out posts, which is what listening reads.
    #[error("the collections must include posts (app.bsky.feed.post)")]
    NoPosts,
}

impl SettingsError {
    /// A stable code for translations and the API's problem documents.
    pub const fn code(&self) -> &'static str {
        match self {
            SettingsError::MissingUrl => "missing_url",
            SettingsError::NotAnAddress { .. } => "not_an_address",
            SettingsError::WrongScheme { .. } => "wrong_scheme",
            SettingsError::CredentialsInUrl => "credentials_in_url",
            SettingsError::MissingTag => "missing_tag",
            SettingsError::BadTag => "bad_tag",
            SettingsError::BadCollection(_) => "bad_collection",
            SettingsError::TooManyCollections => "too_many_collections",
            SettingsError::NoPosts => "no_posts",
        }
    }

    /// The input field it is about.
    pub const fn field(&self) -> &'static str {
        match self {
            SettingsError::MissingTag | SettingsError::BadTag => "tag",
            SettingsError::BadCollection(_)
            | SettingsError::TooManyCollections
            | SettingsError::NoPosts => "collections",
            _ => "url",
        }
    }
}

const WEB: &str = "https:// or http://";
const SOCKET: &str = "wss:// or ws://";

/// A parsed address with one of `schemes`, no credentials, and a host.
fn address(raw: &str, schemes: &[&str], expected: &'static str) -> Result<Url, SettingsError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(SettingsError::MissingUrl);
    }
    let url = Url::parse(raw).map_err(|_| SettingsError::NotAnAddress { expected })?;
    if !schemes.contains(&url.scheme()) {
        return Err(SettingsError::WrongScheme { expected });
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(SettingsError::NotAnAddress { expected });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(SettingsError::CredentialsInUrl);
    }
    Ok(url)
}

/// A hashtag without `#`: letters, digits and `_`, not only digits.
pub(crate) fn tag(raw: &str) -> Result<String, SettingsError> {
    let t = raw.trim().trim_start_matches('#');
    if t.is_empty() {
        return Err(SettingsError::MissingTag);
    }
    let ok = t.chars().count() <= 100
        && t.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !t.chars().all(|c| c.is_ascii_digit());
    if !ok {
        return Err(SettingsError::BadTag);
    }
    Ok(t.to_owned())
}

/// An NSID (`app.bsky.feed.post`), or a prefix of one ending in `.*`.
fn collection(raw: &str) -> Result<String, SettingsError> {
    let bad = || SettingsError::BadCollection(raw.chars().take(80).collect());
    let body = raw.strip_suffix(".*").unwrap_or(raw);
    let parts: Vec<&str> = body.split('.').collect();
    let min = if raw.ends_with(".*") { 2 } else { 3 };
    let ok = raw.len() <= 317
        && parts.len() >= min
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 63
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && parts
            .first()
            .is_some_and(|p| p.bytes().next().is_some_and(|b| b.is_ascii_alphabetic()));
    if ok { Ok(raw.to_owned()) } else { Err(bad()) }
}

/// The collection Jetstream's posts come in.
pub(crate) const POSTS: &str = "app.bsky.feed.post";

impl SourceSettings {
    /// Checks what a person typed for a source of `kind`.
    pub fn parse(kind: SourceKind, input: &SourceInput) -> Result<Self, SettingsError> {
        match kind {
            SourceKind::Rss => Ok(SourceSettings::Rss {
                url: address(&input.url, &["https", "http"], WEB)?.to_string(),
            }),
            SourceKind::MastodonTag => Ok(SourceSettings::MastodonTag {
                instance: instance(&input.url)?,
                tag: tag(&input.tag)?,
            }),
            SourceKind::MastodonPublic => Ok(SourceSettings::MastodonPublic {
                instance: instance(&input.url)?,
                local: input.local,
            }),
            SourceKind::Jetstream => {
                let mut url = address(&input.url, &["wss", "ws"], SOCKET)?;
                url.set_query(None);
                url.set_fragment(None);
                if url.path().is_empty() || url.path() == "/" {
                    url.set_path("/subscribe");
                }
                let mut collections = Vec::new();
                for c in input
                    .collections
                    .split([',', ' ', '\n', '\t'])
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                {
                    let c = collection(c)?;
                    if !collections.contains(&c) {
                        collections.push(c);
                    }
                }
                if collections.len() > 100 {
                    return Err(SettingsError::TooManyCollections);
                }
                if collections.is_empty() {
                    collections.push(POSTS.to_owned());
                }
                let covers = |c: &String| {
                    c == POSTS
                        || c.strip_suffix('*')
                            .is_some_and(|prefix| POSTS.starts_with(prefix))
                };
                if !collections.iter().any(covers) {
                    return Err(SettingsError::NoPosts);
                }
                Ok(SourceSettings::Jetstream {
                    url: url.to_string(),
                    collections,
                })
            }
            SourceKind::MediaWiki => {
                let mut url = address(&input.url, &["https", "http"], WEB)?;
                url.set_query(None);
                url.set_fragment(None);
                // Wikimedia's wikis keep the API at /w/api.php; other wikis
                // are given by their api.php address.
                if !url.path().ends_with("/api.php") {
                    url.set_path("/w/api.php");
                }
                Ok(SourceSettings::MediaWiki {
                    api: url.to_string(),
                })
            }
        }
    }

    /// The kind of these settings.
    pub const fn kind(&self) -> SourceKind {
        match self {
            SourceSettings::Rss { .. } => SourceKind::Rss,
            SourceSettings::MastodonTag { .. } => SourceKind::MastodonTag,
            SourceSettings::MastodonPublic { .. } => SourceKind::MastodonPublic,
            SourceSettings::Jetstream { .. } => SourceKind::Jetstream,
            SourceSettings::MediaWiki { .. } => SourceKind::MediaWiki,
        }
    }
}

/// An instance's base address, `https://host/`: Mastodon lives at the
/// root of its host, so a pasted profile or post address means the
/// instance.
fn instance(raw: &str) -> Result<String, SettingsError> {
    let mut url = address(raw, &["https", "http"], WEB)?;
    url.set_query(None);
    url.set_fragment(None);
    url.set_path("/");
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(url: &str, tag: &str, collections: &str) -> SourceInput {
        SourceInput {
            url: url.into(),
            tag: tag.into(),
            local: false,
            collections: collections.into(),
        }
    }

    proptest::proptest! {
        #[test]
        fn any_input_is_checked_without_panicking(url: String, tag: String, collections: String) {
            for kind in SourceKind::ALL {
                let i = SourceInput { url: url.clone(), tag: tag.clone(), local: false, collections: collections.clone() };
                if let Ok(s) = SourceSettings::parse(kind, &i) {
                    proptest::prop_assert_eq!(s.kind(), kind);
                }
            }
        }
    }

    #[test]
    fn kinds_by_name() {
        for k in SourceKind::ALL {
            assert_eq!(SourceKind::parse(k.as_str()), Some(k));
            let json = serde_json::to_string(&k).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
        assert_eq!(SourceKind::parse("twitter"), None);
    }

    #[test]
    fn settings_are_checked() {
        let p = |k, i: SourceInput| SourceSettings::parse(k, &i);
        assert_eq!(
            p(
                SourceKind::MastodonTag,
                input("https://mastodon.nl", "#Bakkerij", "")
            ),
            Ok(SourceSettings::MastodonTag {
                instance: "https://mastodon.nl/".into(),
                tag: "Bakkerij".into()
            })
        );
        assert_eq!(
            p(
                SourceKind::MastodonTag,
                input("https://m.nl", "bak kerij", "")
            ),
            Err(SettingsError::BadTag)
        );
        assert_eq!(
            p(SourceKind::MastodonTag, input("https://m.nl", "#", "")).map_err(|e| e.field()),
            Err("tag")
        );
        assert_eq!(
            p(SourceKind::MastodonTag, input("https://m.nl", "2026", "")),
            Err(SettingsError::BadTag)
        );
        assert_eq!(
            p(SourceKind::Rss, input("javascript:alert(1)", "", "")),
            Err(SettingsError::WrongScheme { expected: WEB })
        );
        assert_eq!(
            p(SourceKind::Rss, input("", "", "")).map_err(|e| e.code()),
            Err("missing_url")
        );
        assert_eq!(
            p(SourceKind::Rss, input("https://a:b@x.nl/feed", "", "")),
            Err(SettingsError::CredentialsInUrl)
        );
        assert_eq!(
            p(
                SourceKind::Jetstream,
                input("wss://jetstream2.us-east.bsky.network", "", "")
            ),
            Ok(SourceSettings::Jetstream {
                url: "wss://jetstream2.us-east.bsky.network/subscribe".into(),
                collections: vec![POSTS.into()]
            })
        );
        assert_eq!(
            p(SourceKind::Jetstream, input("https://x.nl", "", "")),
            Err(SettingsError::WrongScheme { expected: SOCKET })
        );
        assert!(
            p(
                SourceKind::Jetstream,
                input(
                    "ws://x.nl/subscribe?a=1",
                    "",
                    "app.bsky.feed.*, app.bsky.graph.follow"
                )
            )
            .is_ok()
        );
        assert_eq!(
            p(
                SourceKind::Jetstream,
                input("ws://x.nl", "", "app.bsky.graph.follow")
            ),
            Err(SettingsError::NoPosts)
        );
        assert_eq!(
            p(SourceKind::Jetstream, input("ws://x.nl", "", "app..post")).map_err(|e| e.code()),
            Err("bad_collection")
        );
        assert_eq!(
            p(
                SourceKind::MediaWiki,
                input("https://nl.wikipedia.org/wiki/Hoofdpagina", "", "")
            ),
            Ok(SourceSettings::MediaWiki {
                api: "https://nl.wikipedia.org/w/api.php".into()
            })
        );
        assert_eq!(
            p(
                SourceKind::MediaWiki,
                input("http://wiki.example/api.php?x=1", "", "")
            ),
            Ok(SourceSettings::MediaWiki {
                api: "http://wiki.example/api.php".into()
            })
        );
        let s = p(
            SourceKind::MastodonPublic,
            SourceInput {
                local: true,
                ..input("http://127.0.0.1:3000/@anna", "", "")
            },
        );
        let json = s.map(|s| serde_json::to_string(&s).unwrap_or_default());
        assert_eq!(
            json.as_deref(),
            Ok(r#"{"kind":"mastodon_public","instance":"http://127.0.0.1:3000/","local":true}"#)
        );
    }
}
