//! Newtypes for user input that can only hold valid values.

use crate::FieldError;

/// A normalised e-mail address (trimmed, lower-cased, plausible shape).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses an address; the error names the `email` field.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim().to_lowercase();
        let err = FieldError::new("email", "email_invalid");
        if s.is_empty() {
            return Err(FieldError::new("email", "required"));
        }
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(err.clone())?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(err);
        }
        Ok(Self(s))
    }

    /// The address as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that passed the policy: at least 10 characters, at most 256,
/// and not one of the passwords everybody tries first.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Passwords of ten characters or more that lists of leaked passwords put at
/// the top, in Dutch and English. Compared case-insensitively.
const COMMON: &[&str] = &[
    "1234567890",
    "12345678910",
    "123456789a",
    "0123456789",
    "0987654321",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "abcdefghij",
    "abcd123456",
    "aa12345678",
    "password12",
    "password123",
    "password1234",
    "password!1",
    "passw0rd123",
    "qwertyuiop",
    "qwerty1234",
    "qwerty12345",
    "qwerty123456",
    "asdfghjkl1",
    "azertyuiop",
    "iloveyou12",
    "iloveyou123",
    "welcome123",
    "welcome1234",
    "letmein123",
    "changeme123",
    "administrator",
    "football123",
    "superman123",
    "trustno1234",
    "sunshine123",
    "princess123",
    "wachtwoord",
    "wachtwoord1",
    "wachtwoord12",
    "wachtwoord123",
    "wachtwoord!",
    "welkom1234",
    "welkom12345",
    "welkom123!",
    "geheim1234",
    "geheim12345",
    "voetbal123",
    "amsterdam1",
    "amsterdam123",
    "rotterdam1",
    "feyenoord1",
    "feyenoord123",
    "ajax123456",
    "hallo12345",
    "hallo123456",
    "dialoog123",
    "dialoog1234",
];

impl Password {
    /// Checks a new password against the policy. `context` holds words the
    /// password must not simply be (the user's e-mail address, name, organisation).
    pub fn parse(raw: &str, context: &[&str]) -> Result<Self, FieldError> {
        let chars = raw.chars().count();
        if chars < 10 {
            return Err(FieldError::new("password", "password_too_short"));
        }
        if chars > 256 {
            return Err(FieldError::new("password", "password_too_long"));
        }
        let folded = raw.to_lowercase();
        let mut distinct: Vec<char> = folded.chars().collect();
        distinct.sort_unstable();
        distinct.dedup();
        let is_context = context.iter().any(|c| {
            let c = c.trim().to_lowercase();
            !c.is_empty() && (folded == c || c.split('@').next() == Some(folded.as_str()))
        });
        if COMMON.contains(&folded.as_str()) || distinct.len() < 3 || is_context {
            return Err(FieldError::new("password", "password_common"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password itself, for hashing.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Trims, collapses nothing, and bounds a free-text name.
fn bounded_name(raw: &str, field: &'static str, max: usize) -> Result<String, FieldError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    if s.chars().count() > max {
        return Err(FieldError::new(field, "too_long"));
    }
    if s.chars().any(char::is_control) {
        return Err(FieldError::new(field, "invalid_characters"));
    }
    Ok(s.to_owned())
}

/// A person's display name: 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    /// Parses a display name for the `name` field.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded_name(raw, "name", 100).map(Self)
    }

    /// The name as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A workspace's (or organisation's) name: 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceName(String);

impl WorkspaceName {
    /// Parses a name for the given form field (`name` or `organisation`).
    pub fn parse(raw: &str, field: &'static str) -> Result<Self, FieldError> {
        bounded_name(raw, field, 100).map(Self)
    }

    /// The name as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IANA timezone known to the time zone database, such as `Europe/Amsterdam`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timezone(String);

impl Timezone {
    /// The default for new workspaces.
    pub const DEFAULT: &'static str = "Europe/Amsterdam";

    /// Parses an IANA name; an empty value gives the default.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Ok(Self(Self::DEFAULT.to_owned()));
        }
        if s.len() > 64 || !s.contains('/') && s != "UTC" {
            return Err(FieldError::new("timezone", "timezone_invalid"));
        }
        match jiff::tz::TimeZone::get(s) {
            Ok(_) => Ok(Self(s.to_owned())),
            Err(_) => Err(FieldError::new("timezone", "timezone_invalid")),
        }
    }

    /// The IANA name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse("  Anna@Bakkerij.NL ").map(|e| e.0),
            Ok("anna@bakkerij.nl".to_owned())
        );
        for bad in [
            "",
            "anna",
            "anna@",
            "@x.nl",
            "a b@x.nl",
            "anna@localhost",
            "a@@x.nl",
            "a@x..nl",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert_eq!(
            Password::parse("kort", &[]).map(|_| ()),
            Err(FieldError::new("password", "password_too_short"))
        );
        assert_eq!(
            Password::parse("Wachtwoord123", &[]).map(|_| ()),
            Err(FieldError::new("password", "password_common"))
        );
        assert!(Password::parse("aaaaaaaaaaaa", &[]).is_err());
        assert!(Password::parse("anna.devries", &["anna.devries@x.nl"]).is_err());
        assert!(Password::parse("paars-fietsje-42", &["anna@x.nl"]).is_ok());
        assert_eq!(
            format!("{:?}", Password::parse("paars-fietsje-42", &[])),
            "Ok(Password(***))"
        );
    }

    #[test]
    fn timezones() {
        assert_eq!(
            Timezone::parse("").map(|t| t.0),
            Ok("Europe/Amsterdam".to_owned())
        );
        assert!(Timezone::parse("Europe/Brussels").is_ok());
        assert!(Timezone::parse("UTC").is_ok());
        assert!(Timezone::parse("Mars/Olympus").is_err());
        assert!(Timezone::parse("../../etc/passwd").is_err());
    }

    #[test]
    fn names() {
        assert!(PersonName::parse("  ").is_err());
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
        assert!(WorkspaceName::parse("Bakkerij\u{0}", "name").is_err());
        assert_eq!(
            WorkspaceName::parse(" Bakkerij De Vries ", "name").map(|n| n.0),
            Ok("Bakkerij De Vries".to_owned())
        );
    }
}
