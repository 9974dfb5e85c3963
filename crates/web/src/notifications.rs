//! Notifications in the app: what a person should know (a post that did
//! not go out, a review decision, a comment), in their language, and the
//! words for each kind, which the e-mail in [`crate::notify_mail`] uses too.
//!
//! A person sees only their own notifications, and only those of the
//! workspaces they still belong to.

use dialoog_store::{Alert, ShownNotification, User};

use crate::AppState;
use crate::i18n::Tr;
use crate::service::{Result, now_ms};

/// How many notifications the page shows, and the API by default.
pub const SHOWN: i64 = 50;
/// The most the API gives at once.
pub const MAX_SHOWN: i64 = 200;

/// Whether a kind is about a post that did not go out (and has a reason).
pub fn is_failure(kind: &str) -> bool {
    matches!(kind, "post_failed" | "post_unconfirmed")
}

/// What happened, in one line: "Not published on @bakkerij", "Eva approved
/// your post". `detail` is the channel's name or the person's name.
pub fn headline(t: Tr, kind: &str, detail: &str) -> String {
    match kind {
        "post_failed" => t.fmt("mail.post.failed.subject", &[("channel", detail)]),
        "post_unconfirmed" => t.fmt("mail.post.unconfirmed.subject", &[("channel", detail)]),
        "post_approved" | "post_rejected" | "post_commented" | "inbox_overdue" => {
            t.fmt(&format!("notifications.kind.{kind}"), &[("name", detail)])
        }
        _ => t.s("notifications.kind.other").to_owned(),
    }
}

/// Why a post did not go out, in plain words (from its stable code).
pub fn reason(t: Tr, error_code: &str) -> &'static str {
    t.get(&format!("posts.reason.{error_code}"))
        .unwrap_or_else(|| t.s("mail.post.reason_unknown"))
}

/// The network's own words, introduced ("The network said: …"); empty
/// when the network said nothing.
pub fn network_said(t: Tr, error: &str) -> String {
    if error.is_empty() {
        String::new()
    } else {
        t.fmt("mail.post.network_said", &[("error", error)])
    }
}

/// The kind of a notification that a customer waits past the answer
/// target (its subject is the conversation).
pub const OVERDUE: &str = "inbox_overdue";

/// Where a notification leads: its post, or its conversation.
pub fn path(kind: &str, workspace_id: i64, subject_id: i64) -> String {
    if kind == OVERDUE {
        format!("/w/{workspace_id}/inbox/{subject_id}")
    } else {
        post_path(workspace_id, subject_id)
    }
}

/// The path of the post a notification is about.
pub fn post_path(workspace_id: i64, post_id: i64) -> String {
    format!("/w/{workspace_id}/posts#post-{post_id}")
}

/// The kind of a listening alert's notification (its subject is the alert).
pub const ALERT: &str = "listening_alert";

/// A person's newest notifications (at most `limit`, at least one), each
/// with the alert it is about, if it is about one.
pub async fn list(
    state: &AppState,
    user: &User,
    limit: i64,
) -> Result<Vec<(ShownNotification, Option<Alert>)>> {
    let shown = state
        .store
        .shown_notifications(user.id, limit.clamp(1, MAX_SHOWN))
        .await?;
    let mut out = Vec::with_capacity(shown.len());
    for x in shown {
        let alert = if x.kind == ALERT {
            state.store.alert(x.subject_id).await.ok()
        } else {
            None
        };
        out.push((x, alert));
    }
    Ok(out)
}

/// A notification in words, as the page, the API and the e-mail say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    /// What happened, in one line.
    pub headline: String,
    /// Why (a post that did not go out, an alert), or empty.
    pub reason: String,
    /// The network's own words, introduced, or empty.
    pub said: String,
    /// Where it leads in the app (a path).
    pub path: String,
}

/// The words for a notification (with its alert, for an alert).
pub fn words(t: Tr, x: &ShownNotification, alert: Option<&Alert>) -> Words {
    if let Some(a) = alert {
        return Words {
            headline: crate::alerts::headline(t, a),
            reason: crate::alerts::reason(t, a),
            said: String::new(),
            path: crate::alerts::alert_path(a),
        };
    }
    let failure = is_failure(&x.kind);
    Words {
        headline: headline(t, &x.kind, &x.detail),
        reason: if failure {
            reason(t, &x.error_code).to_owned()
        } else {
            String::new()
        },
        said: if failure {
            network_said(t, &x.error)
        } else {
            String::new()
        },
        path: path(&x.kind, x.workspace_id, x.subject_id),
    }
}

/// How many of a person's notifications are unread.
pub async fn unread(state: &AppState, user: &User) -> Result<i64> {
    Ok(state.store.unread_notifications(user.id).await?)
}

/// Marks all of a person's notifications read.
pub async fn mark_read(state: &AppState, user: &User) -> Result<()> {
    Ok(state.store.read_notifications(user.id, now_ms()).await?)
}
