//! Dialoog's work that runs on its own: syncing a channel (fetch through its
//! connector, store new items once, record its health) and polling every
//! channel on its schedule, with credentials kept encrypted at rest. The dispatcher, the pollers and the
//! listening pipeline arrive here with their capabilities.

pub mod dispatcher;
pub mod poller;
pub mod secrets;
pub mod sync;

pub use secrets::{Cipher, SecretError};
pub use sync::{Credentials, SyncError, SyncOutcome, channel_rules, connector_check, sync_channel};
