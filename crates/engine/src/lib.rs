//! Dialoog's work that runs on its own: for now, syncing a channel (fetch
//! through its connector, store new items once, record its health), with
//! credentials kept encrypted at rest. The dispatcher, the pollers and the
//! listening pipeline arrive here with their capabilities.

pub mod secrets;
pub mod sync;

pub use secrets::{Cipher, SecretError};
pub use sync::{Credentials, SyncError, SyncOutcome, connector_check, sync_channel};
