//! The web suite: the real server on a loopback port with a fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod access;
mod access_inbox;
mod access_listening;
mod access_schedule;
mod alerts;
mod api;
mod approval;
mod approval_client;
mod calendar;
mod channels;
mod composer;
mod edit;
mod email;
mod feeds;
mod full_disk;
mod harness;
mod i18n;
mod import;
mod inbox;
mod inbox_networks;
mod listening;
mod listening_search;
mod mail;
mod mastodon;
mod notifications;
mod notify_mail;
mod overdue;
mod posts;
mod props;
mod safety;
mod safety_email;
mod schedule;
mod ui;
mod voice;
