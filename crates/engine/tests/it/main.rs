//! The engine's tests: one binary, a module per subject.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod alerts;
mod bluesky;
mod dispatch;
mod listen_burst;
mod listen_streams;
mod listening;
mod support;
