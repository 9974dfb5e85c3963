//! Dialoog's work that runs on its own: syncing a channel (fetch through its
//! connector, store new items once, record its health) and polling every
//! channel on its schedule, publishing every post to every channel once
//! (the dispatcher), with credentials kept encrypted at rest; and the
//! listening pipeline with the sources that feed it.

pub mod alerts;
pub mod cleanup;
pub mod dispatcher;
pub mod listen_sources;
pub mod listen_streams;
pub mod listening;
pub mod mention_index;
pub mod poller;
pub mod reply;
pub mod secrets;
pub mod series;
pub mod sync;

pub use secrets::{Cipher, SecretError};
pub use sync::{Credentials, SyncError, SyncOutcome, channel_rules, connector_check, sync_channel};
