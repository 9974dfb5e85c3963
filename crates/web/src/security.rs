//! Secrets: random tokens, their hashes, password hashing and sign-in throttling.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A new random secret: 32 bytes, URL-safe base64 (43 characters).
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    // getrandom only fails when the OS has no entropy source at all; a
    // token of zeros would be unsafe, so refuse loudly via the hash check
    // below instead of panicking: the caller stores only hashes anyway.
    if getrandom::fill(&mut b).is_err() {
        tracing::error!("the operating system gave no random bytes");
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The hex SHA-256 of a token: what the database keeps instead of the token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| argon2::password_hash::Error::Crypto)?;
    let salt = SaltString::encode_b64(&salt)?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Checks a password against a stored PHC string; false on any mismatch or
/// malformed hash.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash to verify against when the account does not exist, so a wrong
/// address takes as long as a wrong password.
pub fn dummy_hash() -> &'static str {
    static H: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| hash_password("not-a-real-password").unwrap_or_default());
    &H
}

/// Counts failed sign-ins per account: after [`Throttle::MAX_FAILURES`] within
/// [`Throttle::WINDOW`], further attempts are refused until the oldest
/// failure leaves the window.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl Throttle {
    /// Failures allowed within the window.
    pub const MAX_FAILURES: usize = 5;
    /// The window.
    pub const WINDOW: Duration = Duration::from_secs(15 * 60);

    /// `Some(wait)` when `key` is blocked right now.
    pub fn blocked(&self, key: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let list = map.get_mut(key)?;
        list.retain(|t| now.duration_since(*t) < Self::WINDOW);
        if list.len() >= Self::MAX_FAILURES {
            let oldest = list.iter().min().copied().unwrap_or(now);
            Some(Self::WINDOW.saturating_sub(now.duration_since(oldest)))
        } else {
            None
        }
    }

    /// Records a failure for `key`.
    pub fn fail(&self, key: &str) {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > 100_000 {
            map.clear();
        }
        map.entry(key.to_owned()).or_default().push(Instant::now());
    }

    /// Forgets `key`'s failures after a success.
    pub fn clear(&self, key: &str) {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip() {
        let h = hash_password("paars-fietsje-42").unwrap_or_default();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("paars-fietsje-42", &h));
        assert!(!verify_password("paars-fietsje-43", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn throttle_blocks_after_five() {
        let t = Throttle::default();
        for _ in 0..4 {
            t.fail("a");
        }
        assert!(t.blocked("a").is_none());
        t.fail("a");
        assert!(t.blocked("a").is_some());
        assert!(t.blocked("b").is_none());
        t.clear("a");
        assert!(t.blocked("a").is_none());
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
    }
}
