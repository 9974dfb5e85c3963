//! Credentials at rest: ChaCha20-Poly1305 with a 256-bit key and a random
//! nonce per value. A sealed value is `0x01 ‖ nonce (12) ‖ ciphertext+tag`.
//! Plaintext never reaches the database or a log.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

/// Why a secret could not be sealed or opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    /// The key is not 32 bytes of base64 or hex.
    #[error("the secret key must be 32 bytes, written as 64 hex digits or base64")]
    BadKey,
    /// The value was sealed with another key, or altered.
    #[error("the stored credentials cannot be decrypted with this key")]
    CannotOpen,
    /// The operating system gave no random bytes.
    #[error("no random bytes available")]
    NoRandom,
}

/// Seals and opens credentials with one key.
#[derive(Clone)]
pub struct Cipher {
    aead: ChaCha20Poly1305,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(***)")
    }
}

const VERSION: u8 = 1;

impl Cipher {
    /// From 32 raw key bytes.
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            aead: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    /// From a key written as 64 hex digits or as base64 (standard or URL-safe).
    pub fn from_text(text: &str) -> Result<Self, SecretError> {
        use base64::Engine;
        let t = text.trim();
        let bytes = hex::decode(t)
            .ok()
            .or_else(|| base64::engine::general_purpose::STANDARD.decode(t).ok())
            .or_else(|| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(t)
                    .ok()
            })
            .ok_or(SecretError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SecretError::BadKey)?;
        Ok(Self::new(key))
    }

    /// A new random key, as 64 hex digits (what a key file holds).
    pub fn generate_key_text() -> Result<String, SecretError> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).map_err(|_| SecretError::NoRandom)?;
        Ok(hex::encode(k))
    }

    /// Seals a value.
    pub fn seal(&self, plaintext: &[u8]) -> Result<Vec<u8>, SecretError> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|_| SecretError::NoRandom)?;
        let ct = self
            .aead
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .map_err(|_| SecretError::CannotOpen)?;
        let mut out = Vec::with_capacity(1 + 12 + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens a sealed value.
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, SecretError> {
        match sealed {
            [VERSION, rest @ ..] if rest.len() > 12 => {
                let (nonce, ct) = rest.split_at(12);
                self.aead
                    .decrypt(Nonce::from_slice(nonce), ct)
                    .map_err(|_| SecretError::CannotOpen)
            }
            _ => Err(SecretError::CannotOpen),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_refuse_tampering() {
        let c = Cipher::new([7; 32]);
        let sealed = c.seal(b"{\"app_password\":\"geheim\"}").unwrap_or_default();
        assert!(
            !sealed.windows(6).any(|w| w == b"geheim"),
            "no plaintext in the sealed value"
        );
        assert_eq!(
            c.open(&sealed).as_deref(),
            Ok(&b"{\"app_password\":\"geheim\"}"[..])
        );
        let mut bad = sealed.clone();
        if let Some(b) = bad.last_mut() {
            *b ^= 1;
        }
        assert_eq!(c.open(&bad), Err(SecretError::CannotOpen));
        assert_eq!(
            Cipher::new([8; 32]).open(&sealed),
            Err(SecretError::CannotOpen)
        );
        assert_eq!(c.open(b""), Err(SecretError::CannotOpen));
        assert!(Cipher::from_text("abc").is_err());
        let key = Cipher::generate_key_text().unwrap_or_default();
        assert_eq!(key.len(), 64);
        assert!(Cipher::from_text(&key).is_ok());
    }
}
