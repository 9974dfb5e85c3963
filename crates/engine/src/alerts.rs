//! Listening alerts: the pipeline tells [`Signals`] which queries of which
//! workspaces got new mentions and which watched words it saw; the alert
//! loop then judges each affected rule against its baseline (the same
//! window on each of the last seven days) and fires it at most once per
//! window, with the notifications and the webhook delivery in the same
//! transaction. The webhook loop delivers those, signed, until they arrive
//! or a day has passed.

use dialoog_domain::{Action, Role};
use dialoog_store::{Alert, AlertRule, DeliveryResult, NewAlert, Store, StoreError};
use dialoog_text::query::{Matcher, Post, Scratch};
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::Cipher;
use crate::dispatcher::now_ms;

const DAY_MS: i64 = 24 * 3_600_000;
/// How many past days the baseline looks at.
pub const BASELINE_DAYS: i64 = 7;

/// What the pipeline saw since the alert loop last looked.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Touched {
    /// Per workspace, the queries that found new mentions.
    pub queries: FxHashMap<i64, FxHashSet<i64>>,
    /// Per (rule, word): the workspace and how many new mentions had it.
    pub words: FxHashMap<(i64, String), (i64, i64)>,
}

impl Touched {
    /// Whether nothing was seen.
    pub fn is_empty(&self) -> bool {
        self.queries.is_empty() && self.words.is_empty()
    }

    fn merge(&mut self, other: Touched) {
        for (ws, qs) in other.queries {
            self.queries.entry(ws).or_default().extend(qs);
        }
        for (k, (ws, n)) in other.words {
            self.words.entry(k).or_insert((ws, 0)).1 += n;
        }
    }
}

/// The pipeline's news for the alert loop, shared by both.
#[derive(Debug, Default)]
pub struct Signals {
    touched: Mutex<Touched>,
    wake: tokio::sync::Notify,
}

impl Signals {
    /// Records what a stored batch brought and wakes the alert loop.
    pub fn add(&self, t: Touched) {
        if t.is_empty() {
            return;
        }
        self.touched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .merge(t);
        self.wake.notify_one();
    }

    /// Takes what was recorded.
    pub fn take(&self) -> Touched {
        std::mem::take(&mut *self.touched.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// One watched word of one rule.
#[derive(Debug, Clone)]
struct Watched {
    rule: i64,
    workspace: i64,
    query: Option<i64>,
    word: String,
}

/// Every workspace's watched words, matched in one pass like the queries.
#[derive(Debug)]
pub struct Watch {
    matcher: Matcher,
    words: Vec<Watched>,
    version: Option<(i64, i64)>,
}

impl Default for Watch {
    fn default() -> Self {
        Self {
            matcher: Matcher::new([]),
            words: vec![],
            version: None,
        }
    }
}

/// The query that finds `word` (as a phrase, case and accents aside);
/// `None` when nothing of it can be searched for.
pub fn word_query(word: &str) -> Option<dialoog_text::query::Query> {
    let clean: String = word.chars().filter(|c| *c != '"').collect();
    let clean = clean.trim();
    if clean.is_empty() {
        return None;
    }
    dialoog_text::query::parse(&format!("\"{clean}\"")).ok()
}

impl Watch {
    /// Compiles the watched words again when a rule was added or removed.
    pub async fn refresh(&mut self, store: &Store) -> Result<(), StoreError> {
        let v = store.alert_rules_version().await?;
        if self.version == Some(v) {
            return Ok(());
        }
        let mut words = vec![];
        let mut compiled = vec![];
        for rule in store.all_word_rules().await? {
            for w in rule.word_list() {
                if let Some(q) = word_query(w) {
                    compiled.push((words.len() as u64, q));
                    words.push(Watched {
                        rule: rule.id,
                        workspace: rule.workspace_id,
                        query: rule.query_id,
                        word: w.to_owned(),
                    });
                }
            }
        }
        self.matcher = Matcher::new(compiled);
        self.words = words;
        self.version = Some(v);
        Ok(())
    }

    /// The watched words of `workspace` in a post its `queries` found, as
    /// `(rule, word)`; `scratch` and `found` are the caller's working
    /// memory (one per thread).
    pub fn find(
        &self,
        post: &Post<'_>,
        workspace: i64,
        queries: &[i64],
        scratch: &mut Scratch,
        found: &mut Vec<u64>,
    ) -> Vec<(i64, String)> {
        if self.words.is_empty() {
            return vec![];
        }
        found.clear();
        self.matcher.matches_into(post, scratch, found);
        found
            .iter()
            .filter_map(|i| self.words.get(usize::try_from(*i).ok()?))
            .filter(|w| w.workspace == workspace && w.query.is_none_or(|q| queries.contains(&q)))
            .map(|w| (w.rule, w.word.clone()))
            .collect()
    }
}

/// What a rule saw, when it fires: `(observed, total, baseline)`.
pub type Verdict = (i64, i64, f64);

/// Judges a volume or negative-share rule: `now` is `(all, negative)` in
/// the current window, `past` the same on each earlier day.
///
/// - volume fires when at least `min_count` mentions came and that is at
///   least `factor` times the mean of the past days;
/// - negative fires when at least `min_count` negative mentions came, they
///   are at least `share` of all, and more than the past days' share.
pub fn judge(rule: &AlertRule, now: (i64, i64), past: &[(i64, i64)]) -> Option<Verdict> {
    let (all, neg) = now;
    let days = past.len().max(1) as f64;
    let past_all: i64 = past.iter().map(|p| p.0).sum();
    let past_neg: i64 = past.iter().map(|p| p.1).sum();
    match rule.kind.as_str() {
        "volume" => {
            let mean = past_all as f64 / days;
            (all >= rule.min_count && all as f64 >= rule.factor * mean).then_some((all, all, mean))
        }
        "negative" => {
            let share = if all == 0 {
                0.0
            } else {
                neg as f64 / all as f64
            };
            let base = if past_all == 0 {
                0.0
            } else {
                past_neg as f64 / past_all as f64
            };
            (neg >= rule.min_count && share >= rule.share && share > base)
                .then_some((neg, all, base))
        }
        _ => None,
    }
}

/// How alerts go out beyond the app: the webhook body for an alert.
pub type BodyFn = Arc<dyn Fn(&Alert) -> String + Send + Sync>;

fn told(role: &str) -> bool {
    Role::parse(role).is_ok_and(|r| r.can(Action::ManageListening))
}

fn window_ms(rule: &AlertRule) -> i64 {
    rule.window_minutes.clamp(5, 24 * 60) * 60_000
}

async fn fire(
    store: &Store,
    a: NewAlert,
    quiet_since: i64,
    now: i64,
    body: &BodyFn,
) -> Result<Option<i64>, StoreError> {
    let shown = |id: i64| body(&a.fired(id, now));
    let id = store.fire_alert(&a, quiet_since, now, told, shown).await?;
    if let Some(id) = id {
        tracing::info!(alert = id, workspace = a.workspace_id, kind = %a.kind, "alert raised");
    }
    Ok(id)
}

/// Judges every rule that what was seen touches and raises the alerts
/// that are due. Returns the alerts raised.
pub async fn evaluate(
    store: &Store,
    seen: &Touched,
    now: i64,
    body: &BodyFn,
) -> Result<Vec<i64>, StoreError> {
    let mut raised = vec![];
    let mut workspaces: Vec<i64> = seen.queries.keys().copied().collect();
    workspaces.extend(seen.words.values().map(|(ws, _)| *ws));
    workspaces.sort_unstable();
    workspaces.dedup();
    for ws in workspaces {
        let rules = store.alert_rules(ws).await?;
        if rules.is_empty() {
            continue;
        }
        let names: FxHashMap<i64, String> = store
            .listening_queries(ws)
            .await?
            .into_iter()
            .map(|q| (q.id, q.name))
            .collect();
        let touched = seen.queries.get(&ws);
        for rule in &rules {
            let w = window_ms(rule);
            let quiet_since = now - w;
            if rule.last_fired_at.is_some_and(|t| t >= quiet_since) {
                continue;
            }
            let subject = rule
                .query_id
                .and_then(|q| names.get(&q).cloned())
                .unwrap_or_default();
            let base = NewAlert {
                rule_id: rule.id,
                workspace_id: ws,
                kind: rule.kind.clone(),
                query_id: rule.query_id,
                subject,
                word: String::new(),
                observed: 0,
                total: 0,
                baseline: 0.0,
                window_start: now - w,
                window_end: now,
            };
            if rule.kind == "words" {
                let hit = seen
                    .words
                    .iter()
                    .filter(|((r, _), _)| *r == rule.id)
                    .max_by_key(|(_, (_, n))| *n);
                if let Some(((_, word), (_, n))) = hit
                    && *n >= rule.min_count.max(1)
                {
                    let a = NewAlert {
                        word: word.clone(),
                        observed: *n,
                        total: *n,
                        ..base
                    };
                    raised.extend(fire(store, a, quiet_since, now, body).await?);
                }
                continue;
            }
            let relevant = touched.is_some_and(|qs| rule.query_id.is_none_or(|q| qs.contains(&q)));
            if !relevant {
                continue;
            }
            let current = store.window_counts(ws, rule.query_id, now - w, now).await?;
            let mut past = Vec::with_capacity(BASELINE_DAYS as usize);
            for d in 1..=BASELINE_DAYS {
                let end = now - d * DAY_MS;
                past.push(store.window_counts(ws, rule.query_id, end - w, end).await?);
            }
            if let Some((observed, total, baseline)) = judge(rule, current, &past) {
                let a = NewAlert {
                    observed,
                    total,
                    baseline,
                    ..base
                };
                raised.extend(fire(store, a, quiet_since, now, body).await?);
            }
        }
    }
    Ok(raised)
}

/// Raises alerts as the pipeline signals news, until `stop` resolves.
pub async fn run(
    store: Store,
    signals: Arc<Signals>,
    body: BodyFn,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            () = signals.wake.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
        // Let a burst of batches settle into one look.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let seen = signals.take();
        if seen.is_empty() {
            continue;
        }
        if let Err(e) = evaluate(&store, &seen, now_ms(), &body).await {
            tracing::warn!(error = %e, "alerts cannot be judged now; trying again");
            signals.add(seen);
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    }
}

/// The wait before the next try of a delivery that failed `attempts` times.
fn delivery_backoff(attempts: i64) -> i64 {
    match attempts {
        ..=1 => 60_000,
        2 => 5 * 60_000,
        3 => 30 * 60_000,
        _ => 2 * 3_600_000,
    }
}

/// One round of webhook deliveries; returns how many were tried.
pub async fn deliver_once(
    store: &Store,
    cipher: &Cipher,
    client: &reqwest::Client,
    now: i64,
) -> Result<usize, StoreError> {
    let due = store.claim_deliveries(now, now + 60_000, 16).await?;
    let n = due.len();
    for (d, secret) in due {
        let secret = secret.and_then(|s| cipher.open(&s).ok());
        let result = match secret {
            None => DeliveryResult::GaveUp {
                error: "the webhook was removed or its secret cannot be read".into(),
            },
            Some(secret) => {
                match dialoog_networks::webhook::deliver(
                    client, &d.url, &secret, &d.body, d.id, now,
                )
                .await
                {
                    Ok(()) => DeliveryResult::Sent,
                    Err(r) if r.retry && now - d.created_at < DAY_MS => DeliveryResult::Retry {
                        error: r.reason,
                        next_at: now_ms() + delivery_backoff(d.attempts),
                    },
                    Err(r) => DeliveryResult::GaveUp { error: r.reason },
                }
            }
        };
        if !matches!(result, DeliveryResult::Sent) {
            tracing::warn!(delivery = d.id, result = ?result, "webhook delivery failed");
        }
        store.record_delivery(d.id, &result, now_ms()).await?;
    }
    Ok(n)
}

/// Delivers webhooks until `stop` resolves.
pub async fn run_webhooks(
    store: Store,
    cipher: Cipher,
    tick: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    let client = dialoog_networks::webhook::client();
    tokio::pin!(stop);
    loop {
        let n = match deliver_once(&store, &cipher, &client, now_ms()).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "webhook deliveries cannot be read");
                0
            }
        };
        let wait = if n >= 16 { Duration::ZERO } else { tick };
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: &str) -> AlertRule {
        AlertRule {
            id: 1,
            workspace_id: 1,
            kind: kind.into(),
            query_id: None,
            factor: 3.0,
            min_count: 10,
            share: 0.4,
            words: String::new(),
            window_minutes: 60,
            last_fired_at: None,
            created_at: 0,
        }
    }

    #[test]
    fn volume_fires_at_the_factor_over_the_mean_of_past_days_and_not_below_the_minimum() {
        let r = rule("volume");
        let past = [(4, 0), (6, 0), (5, 0), (5, 0), (5, 0), (5, 0), (5, 0)];
        assert_eq!(judge(&r, (15, 0), &past), Some((15, 15, 5.0)));
        assert_eq!(judge(&r, (14, 0), &past), None, "under three times 5");
        assert_eq!(judge(&r, (9, 0), &[(0, 0); 7]), None, "under the minimum");
        assert_eq!(judge(&r, (10, 0), &[(0, 0); 7]), Some((10, 10, 0.0)));
    }

    #[test]
    fn negative_share_fires_above_the_share_and_the_past_share() {
        let r = rule("negative");
        let calm = [(100, 10); 7];
        assert_eq!(judge(&r, (20, 10), &calm), Some((10, 20, 0.1)));
        assert_eq!(judge(&r, (30, 10), &calm), None, "a third is under 40%");
        assert_eq!(judge(&r, (12, 9), &calm), None, "fewer than ten negative");
        let grim = [(100, 80); 7];
        assert_eq!(judge(&r, (20, 12), &grim), None, "no worse than usual");
    }

    #[test]
    fn a_word_becomes_a_phrase_query_and_quotes_do_not_break_it() {
        assert!(word_query("terugroepactie").is_some());
        assert!(word_query("\"voedsel vergiftiging\"").is_some());
        assert!(word_query("  \"\" ").is_none());
    }
}
