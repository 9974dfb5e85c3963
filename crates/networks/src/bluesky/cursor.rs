//! Where a notifications fetch resumes, and the window it reads again.

use serde::{Deserialize, Serialize};

/// Where the next fetch resumes. Bluesky lists notifications newest first
/// and pages back in time, sorted by the earlier of a post's own date and
/// when the AppView indexed it; so a post indexed late can sort before what
/// the last sync saw. Each sync therefore reads back to [`REREAD`] before
/// the newest time it saw (`seen_at`), and skips what it delivered in that
/// window (`recent`, by address). When a sync stops at its page budget
/// first, it keeps the page it got to (`resume`) and the newest it saw
/// (`pending`), and the next sync reads on from there before moving
/// `seen_at` up: nothing in between is skipped.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(super) struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) seen_at: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) recent: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) resume: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) pending: Option<(String, Vec<(String, String)>)>,
}

/// How far back before the newest notification seen each sync reads again.
pub(super) const REREAD: jiff::SignedDuration = jiff::SignedDuration::from_mins(10);
/// The most addresses a cursor remembers from that window.
pub(super) const MAX_RECENT: usize = 1000;

/// `t` minus [`REREAD`], in the same form; `t` itself when it is no time.
pub(super) fn window_start(t: &str) -> String {
    t.parse::<jiff::Timestamp>()
        .ok()
        .and_then(|x| x.checked_sub(REREAD).ok())
        .map_or_else(
            || t.to_owned(),
            |x| x.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        )
}

/// Keeps the entries inside the window before `newest`, each address once,
/// the newest first, at most [`MAX_RECENT`].
pub(super) fn trim_recent(
    mut recent: Vec<(String, String)>,
    newest: &str,
) -> Vec<(String, String)> {
    let from = window_start(newest);
    recent.retain(|(at, _)| at.as_str() >= from.as_str());
    recent.sort_by(|a, b| b.cmp(a));
    let mut seen = std::collections::HashSet::new();
    recent.retain(|(_, uri)| seen.insert(uri.clone()));
    recent.truncate(MAX_RECENT);
    recent
}
