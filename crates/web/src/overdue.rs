//! Telling the team when a customer waits too long: once a minute, the
//! conversations waiting past their workspace's answer target (counted in
//! business hours) are told once per wait — to the assignee, or while
//! nobody is assigned to the owners and managers, who assign the work — in
//! the app and, where SMTP is set up, by e-mail. Several processes may
//! run it; each wait is told once.

use dialoog_domain::{Action, Role};
use std::time::Duration;

use crate::AppState;
use crate::service::now_ms;
use crate::service_levels::{load, timers};

/// The most waits looked at per workspace per round.
const PER_ROUND: i64 = 200;

fn lead(role: &str) -> bool {
    Role::parse(role).is_ok_and(|r| r.can(Action::ManageMembers))
}

/// One round at `now`; returns how many waits were told.
pub async fn check_once(state: &AppState, now: i64) -> usize {
    // No target is shorter than a minute: only waits older than that can
    // be past one.
    let workspaces = match state.store.workspaces_waiting(now - 60_000).await {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read waiting conversations");
            return 0;
        }
    };
    let mut told = 0;
    for (ws, tz) in workspaces {
        let Ok(levels) = load(state, ws).await else {
            continue;
        };
        // A business-time deadline is never earlier than the wall-clock one.
        let before = now - levels.response_minutes * 60_000;
        let waiting = match state.store.waiting_untold(ws, before, now, PER_ROUND).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(workspace = ws, error = %e, "cannot read waiting conversations");
                continue;
            }
        };
        for c in waiting {
            let (answer, _) = timers(&levels, &tz, &c, now);
            // Deadlines grow with the start of the wait: once one is not
            // past, none of the later waits are.
            if !answer.is_some_and(|d| d.overdue) {
                break;
            }
            let Some(since) = c.waiting_since else {
                continue;
            };
            match state.store.tell_overdue(c.id, since, now, lead).await {
                Ok(true) => told += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(conversation = c.id, error = %e, "cannot tell an overdue wait")
                }
            }
        }
    }
    told
}

/// Tells overdue waits every `tick` until `stop` resolves.
pub async fn run(state: AppState, tick: Duration, stop: impl std::future::Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        let n = check_once(&state, now_ms()).await;
        if n > 0 {
            tracing::info!(told = n, "overdue conversations told");
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(tick) => {}
        }
    }
}
