//! Mailing notifications: a post that failed or needs a look is told to
//! its author by e-mail once, in their language, with the reason and a link
//! to the post. Runs in `dialoog serve` when SMTP is set up; several
//! processes may run it, each notification is claimed by one.

use crate::AppState;
use crate::i18n::Tr;
use dialoog_domain::Locale;
use dialoog_store::MailNotice;
use std::time::Duration;

/// How the mail loop runs.
#[derive(Debug, Clone, Copy)]
pub struct MailLoopConfig {
    /// Time between looks for new notifications.
    pub tick: Duration,
    /// Notifications claimed per look.
    pub batch: i64,
    /// After the SMTP server failed, the wait before trying again.
    pub backoff: Duration,
    /// Notifications older than this are not mailed any more (the app
    /// still shows them).
    pub max_age: Duration,
}

impl Default for MailLoopConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(2),
            batch: 20,
            backoff: Duration::from_secs(60),
            max_age: Duration::from_secs(24 * 3600),
        }
    }
}

fn now_ms() -> i64 {
    dialoog_engine::dispatcher::now_ms()
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The subject and body of the e-mail for `n`, in the person's language,
/// worded as the app words it ([`crate::notifications`]).
pub fn message(n: &MailNotice, public_url: &str) -> (String, String) {
    use crate::notifications::{headline, is_failure, network_said, post_path, reason};
    let t = Tr(Locale::from_code(&n.locale).unwrap_or(Locale::Nl));
    let kind = n.notification.kind.as_str();
    let detail = n.notification.detail.as_str();
    let mut text: String = n.post_text.chars().take(280).collect();
    if text.len() < n.post_text.len() {
        text.push('…');
    }
    let url = format!(
        "{public_url}{}",
        post_path(n.notification.workspace_id, n.notification.subject_id)
    );
    let subject = headline(t, kind, detail);
    if !is_failure(kind) {
        let body = t.fmt(
            "mail.post.other.body",
            &[
                ("name", &n.name),
                ("what", &subject),
                ("text", &text),
                ("url", &url),
            ],
        );
        return (subject, body);
    }
    let mut why = reason(t, &n.error_code).to_owned();
    let said = network_said(t, &n.error);
    if !said.is_empty() {
        why.push('\n');
        why.push_str(&said);
    }
    let key = if kind == "post_unconfirmed" {
        "mail.post.unconfirmed.body"
    } else {
        "mail.post.failed.body"
    };
    let body = t.fmt(
        key,
        &[
            ("name", &n.name),
            ("channel", detail),
            ("text", &text),
            ("reason", &why),
            ("url", &url),
        ],
    );
    (subject, body)
}

/// One look: claims what is to be mailed and sends it. Returns how many
/// were sent and whether the SMTP server failed.
pub async fn mail_once(state: &AppState, config: &MailLoopConfig, now: i64) -> (usize, bool) {
    let Some(mailer) = &state.config.mailer else {
        return (0, false);
    };
    let claimed = match state.store.claim_mail(now, config.batch).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read notifications to mail");
            return (0, true);
        }
    };
    let oldest = now.saturating_sub(ms(config.max_age));
    let mut sent = 0;
    let mut left = claimed.into_iter();
    while let Some(n) = left.next() {
        if n.notification.created_at < oldest {
            continue;
        }
        let (subject, body) = if n.notification.kind == crate::notifications::ALERT {
            match state.store.alert(n.notification.subject_id).await {
                Ok(a) => {
                    let t = Tr(Locale::from_code(&n.locale).unwrap_or(Locale::Nl));
                    crate::alerts::mail(t, &a, &n.name, &state.config.public_url)
                }
                // The alert is gone (its workspace was removed): nothing to say.
                Err(_) => continue,
            }
        } else if n.notification.kind == crate::notifications::OVERDUE {
            let t = Tr(Locale::from_code(&n.locale).unwrap_or(Locale::Nl));
            let x = &n.notification;
            let subject = crate::notifications::headline(t, &x.kind, &x.detail);
            let url = format!(
                "{}{}",
                state.config.public_url,
                crate::notifications::path(&x.kind, x.workspace_id, x.subject_id)
            );
            let body = t.fmt(
                "mail.overdue.body",
                &[("name", &n.name), ("what", &subject), ("url", &url)],
            );
            (subject, body)
        } else {
            message(&n, &state.config.public_url)
        };
        if let Err(e) = mailer.send(&n.email, &subject, body).await {
            tracing::warn!(notification = n.notification.id, error = %e, "notification e-mail not sent; trying again later");
            // Give this one and the rest of the batch back.
            for m in std::iter::once(n).chain(left) {
                let _ = state.store.unclaim_mail(m.notification.id, oldest).await;
            }
            return (sent, true);
        }
        sent += 1;
    }
    (sent, false)
}

/// Mails notifications until `stop` resolves.
pub async fn run(
    state: AppState,
    config: MailLoopConfig,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        let (sent, failed) = mail_once(&state, &config, now_ms()).await;
        let wait = if failed {
            config.backoff
        } else if sent as i64 >= config.batch {
            Duration::ZERO
        } else {
            config.tick
        };
        tokio::select! {
            () = &mut stop => break,
            () = tokio::time::sleep(wait) => {}
        }
    }
}
