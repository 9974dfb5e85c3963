//! The storage suite: every test runs against SQLite and against PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod alerts;
mod edit;
mod inbox;
mod inbox_search;
mod inbox_search_walk;
mod inbox_tags;
mod listening;
mod media_cleanup;
mod mention_batch;
mod post_delete_busy;
mod queue_props;
mod retention;
mod schedule;
mod story;
