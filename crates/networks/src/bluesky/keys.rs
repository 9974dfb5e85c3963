//! Addresses and record keys: the parts of an `at://` address, and the
//! timestamp identifiers (TIDs) that publishing derives from its
//! idempotency key.

/// The parts of an `at://did/collection/rkey` address.
pub(super) fn at_parts(uri: &str) -> Option<(&str, &str, &str)> {
    let rest = uri.strip_prefix("at://")?;
    let mut it = rest.splitn(3, '/');
    let (repo, collection, rkey) = (it.next()?, it.next()?, it.next()?);
    let ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 512
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".:-_~".contains(&b))
    };
    (ok(repo) && ok(collection) && ok(rkey)).then_some((repo, collection, rkey))
}

/// The base32-sortable alphabet of record keys (TIDs).
const TID_ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// A timestamp identifier: 53 bits of microseconds since 1970 and a 10-bit
/// clock id, in 13 characters.
fn tid(micros: u64, clock: u64) -> String {
    let v = ((micros & ((1 << 53) - 1)) << 10) | (clock & 0x3ff);
    (0..13)
        .map(|i| TID_ALPHABET[((v >> (60 - 5 * i)) & 31) as usize] as char)
        .collect()
}

/// The record key of a publish: the same for every attempt with the same
/// key and first due time.
pub(super) fn record_key(idempotency_key: &str, created_at_ms: i64) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(idempotency_key.as_bytes());
    let n = u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
    let micros = u64::try_from(created_at_ms).unwrap_or(0) * 1000 + n % 1000;
    tid(micros, n >> 54)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_keys_are_valid_and_stable() {
        let a = record_key("post-1-ch-2", 1_790_000_000_000);
        assert_eq!(a, record_key("post-1-ch-2", 1_790_000_000_000));
        assert_ne!(a, record_key("post-1-ch-3", 1_790_000_000_000));
        assert_eq!(a.len(), 13);
        assert!(b"234567abcdefghij".contains(&a.as_bytes()[0]));
        assert!(a.bytes().all(|b| TID_ALPHABET.contains(&b)));
        // Later times sort later.
        assert!(record_key("x", 1_790_000_000_000) < record_key("x", 1_790_000_100_000));
    }

    #[test]
    fn at_addresses() {
        assert_eq!(
            at_parts("at://did:plc:abc/app.bsky.feed.post/3kabc"),
            Some(("did:plc:abc", "app.bsky.feed.post", "3kabc"))
        );
        assert_eq!(at_parts("https://x"), None);
        assert_eq!(at_parts("at://did:plc:abc/app.bsky.feed.post/../x"), None);
    }
}
