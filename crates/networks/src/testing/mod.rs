//! Test support (feature `testing`): real peers started on loopback for the
//! connectors' tests. Each test starts its own, on a free port, and it is
//! stopped when the handle is dropped. A peer that cannot be had is skipped
//! only outside CI, and only when the test command says so
//! (`DIALOOG_TEST_<NAME>_SKIP=1`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bluesky;
mod bluesky_network;
mod dovecot;
mod faults;
mod images;
mod mastodon;
mod smtp;
mod wordpress;

pub use bluesky::{BlueskyAccount, BlueskyPds, BlueskyPeer};
pub use bluesky_network::{BlueskyNetwork, INDEXING};
pub use dovecot::DovecotPeer;
pub use faults::{Fault, FaultProxy};
pub use images::{TINY_PNG, image_server};
pub use mastodon::MastodonPeer;
pub use smtp::{Received, SmtpOptions, SmtpPeer};
pub use wordpress::WordPressPeer;

/// Whether a peer may be skipped: only outside CI, and only when the test
/// command said it could not be had (`DIALOOG_TEST_<NAME>_SKIP=1`).
pub(crate) fn skipped(name: &str) -> bool {
    let var = format!("DIALOOG_TEST_{name}_SKIP");
    if std::env::var(&var).is_ok_and(|v| v == "1") {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{name} tests may not be skipped in CI"
        );
        eprintln!("SKIPPED: {name} tests ({var}=1)");
        return true;
    }
    false
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
