//! Listening alerts: a workspace's rules, the counts they are judged on
//! (mentions in a window, and how many of them are negative), firing an
//! alert once per window (with the notifications and the webhook delivery
//! in the same transaction), the signed webhook and its deliveries.

use crate::BeginWrite;
use crate::{Backend, Result, Store, StoreError, on};

/// A rule that watches a workspace's mentions.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AlertRule {
    /// Stable id.
    pub id: i64,
    /// Its workspace.
    pub workspace_id: i64,
    /// `volume`, `negative` or `words`.
    pub kind: String,
    /// The query it watches; `None`: every mention of the workspace.
    pub query_id: Option<i64>,
    /// `volume`: fires at this many times the baseline.
    pub factor: f64,
    /// The fewest mentions (volume, words) or negative mentions (negative)
    /// in a window that can fire.
    pub min_count: i64,
    /// `negative`: the share (0 to 1) of negative mentions that fires.
    pub share: f64,
    /// `words`: the watched words, one per line.
    pub words: String,
    /// The window it counts over, in minutes (it fires once per window).
    pub window_minutes: i64,
    /// When it last fired.
    pub last_fired_at: Option<i64>,
    /// When it was made.
    pub created_at: i64,
}

impl AlertRule {
    /// The watched words, trimmed, without empty lines.
    pub fn word_list(&self) -> impl Iterator<Item = &str> {
        self.words.lines().map(str::trim).filter(|w| !w.is_empty())
    }
}

/// A rule as the team sets it up.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlertRule {
    /// `volume`, `negative` or `words`.
    pub kind: String,
    /// The query it watches, or every mention.
    pub query_id: Option<i64>,
    /// See [`AlertRule::factor`].
    pub factor: f64,
    /// See [`AlertRule::min_count`].
    pub min_count: i64,
    /// See [`AlertRule::share`].
    pub share: f64,
    /// See [`AlertRule::words`].
    pub words: String,
    /// See [`AlertRule::window_minutes`].
    pub window_minutes: i64,
}

/// An alert a rule raised, with the numbers behind it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Alert {
    /// Stable id.
    pub id: i64,
    /// Its workspace.
    pub workspace_id: i64,
    /// The rule that raised it (`None` once the rule is removed).
    pub rule_id: Option<i64>,
    /// `volume`, `negative` or `words`.
    pub kind: String,
    /// The query it is about (`None`: every mention, or the query is gone).
    pub query_id: Option<i64>,
    /// The query's name (or empty for every mention) when it fired.
    pub subject: String,
    /// The watched word that fired (`words`).
    pub word: String,
    /// Mentions in the window (volume, words) or negative ones (negative).
    pub observed: i64,
    /// All mentions in the window.
    pub total: i64,
    /// Over the last seven days, the same window's mean count (volume) or
    /// share of negative mentions (negative).
    pub baseline: f64,
    /// The window's start (ms).
    pub window_start: i64,
    /// The window's end (ms).
    pub window_end: i64,
    /// When it fired.
    pub fired_at: i64,
}

/// An alert about to be raised (see [`Store::fire_alert`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    /// The rule raising it.
    pub rule_id: i64,
    /// Its workspace.
    pub workspace_id: i64,
    /// See [`Alert::kind`].
    pub kind: String,
    /// See [`Alert::query_id`].
    pub query_id: Option<i64>,
    /// See [`Alert::subject`].
    pub subject: String,
    /// See [`Alert::word`].
    pub word: String,
    /// See [`Alert::observed`].
    pub observed: i64,
    /// See [`Alert::total`].
    pub total: i64,
    /// See [`Alert::baseline`].
    pub baseline: f64,
    /// See [`Alert::window_start`].
    pub window_start: i64,
    /// See [`Alert::window_end`].
    pub window_end: i64,
}

impl NewAlert {
    /// The alert as stored once fired as `id` at `at`.
    pub fn fired(&self, id: i64, at: i64) -> Alert {
        Alert {
            id,
            workspace_id: self.workspace_id,
            rule_id: Some(self.rule_id),
            kind: self.kind.clone(),
            query_id: self.query_id,
            subject: self.subject.clone(),
            word: self.word.clone(),
            observed: self.observed,
            total: self.total,
            baseline: self.baseline,
            window_start: self.window_start,
            window_end: self.window_end,
            fired_at: at,
        }
    }
}

/// A webhook delivery to make (claimed) or made.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Delivery {
    /// Stable id.
    pub id: i64,
    /// Its workspace.
    pub workspace_id: i64,
    /// The alert it carries.
    pub alert_id: i64,
    /// Where it goes.
    pub url: String,
    /// The JSON body.
    pub body: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// Tries so far.
    pub attempts: i64,
    /// Why the last try failed.
    pub last_error: String,
    /// When it was made.
    pub created_at: i64,
    /// When it arrived.
    pub sent_at: Option<i64>,
}

/// How a delivery went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryResult {
    /// The receiver said yes.
    Sent,
    /// Failed; try again at `next_at`.
    Retry {
        /// Why.
        error: String,
        /// When.
        next_at: i64,
    },
    /// Failed for good.
    GaveUp {
        /// Why.
        error: String,
    },
}

const RULE_COLS: &str = "id, workspace_id, kind, query_id, factor, min_count, share, words, \
    window_minutes, last_fired_at, created_at";
const ALERT_COLS: &str = "id, workspace_id, rule_id, kind, query_id, subject, word, observed, \
    total, baseline, window_start, window_end, fired_at";
const DELIVERY_COLS: &str = "id, workspace_id, alert_id, url, body, status, attempts, \
    last_error, created_at, sent_at";

impl Store {
    /// Adds a rule to a workspace (the query, when given, must be one of
    /// the workspace's: else [`StoreError::NotFound`]).
    pub async fn create_alert_rule(
        &self,
        workspace_id: i64,
        r: &NewAlertRule,
        now: i64,
    ) -> Result<AlertRule> {
        if let Some(q) = r.query_id {
            let found: Option<i64> = on!(self, p => sqlx::query_scalar(
                "SELECT id FROM listening_queries WHERE id = $1 AND workspace_id = $2")
                .bind(q).bind(workspace_id).fetch_optional(p).await)?;
            found.ok_or(StoreError::NotFound)?;
        }
        let sql = format!(
            "INSERT INTO alert_rules (workspace_id, kind, query_id, factor, min_count, share, words, \
             window_minutes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {RULE_COLS}"
        );
        Ok(
            on!(self, p => sqlx::query_as(&sql).bind(workspace_id).bind(&r.kind).bind(r.query_id)
            .bind(r.factor).bind(r.min_count).bind(r.share).bind(&r.words).bind(r.window_minutes)
            .bind(now).fetch_one(p).await)?,
        )
    }

    /// A workspace's rules, oldest first.
    pub async fn alert_rules(&self, workspace_id: i64) -> Result<Vec<AlertRule>> {
        let sql =
            format!("SELECT {RULE_COLS} FROM alert_rules WHERE workspace_id = $1 ORDER BY id");
        Ok(on!(self, p => sqlx::query_as(&sql).bind(workspace_id).fetch_all(p).await)?)
    }

    /// Every workspace's watched-word rules (what the pipeline looks for).
    pub async fn all_word_rules(&self) -> Result<Vec<AlertRule>> {
        let sql = format!("SELECT {RULE_COLS} FROM alert_rules WHERE kind = 'words' ORDER BY id");
        Ok(on!(self, p => sqlx::query_as(&sql).fetch_all(p).await)?)
    }

    /// Changes whenever a rule is added or removed.
    pub async fn alert_rules_version(&self) -> Result<(i64, i64)> {
        let v: (i64, Option<i64>) = on!(self, p => sqlx::query_as(
            "SELECT COUNT(*), CAST(SUM(id) AS BIGINT) FROM alert_rules").fetch_one(p).await)?;
        Ok((v.0, v.1.unwrap_or(0)))
    }

    /// Removes a rule (its alerts stay).
    pub async fn delete_alert_rule(&self, workspace_id: i64, id: i64) -> Result<()> {
        let n = on!(self, p => sqlx::query("DELETE FROM alert_rules WHERE id = $1 AND workspace_id = $2")
            .bind(id).bind(workspace_id).execute(p).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Mentions published in `[start, end)`, all and negative ones: of one
    /// query, or of the whole workspace. Copies are not counted (a repost
    /// counts once, on its original).
    pub async fn window_counts(
        &self,
        workspace_id: i64,
        query_id: Option<i64>,
        start: i64,
        end: i64,
    ) -> Result<(i64, i64)> {
        let sql = match query_id {
            Some(_) => {
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN m.sentiment = 'negative' THEN 1 ELSE 0 END), 0) \
                 FROM mention_queries mq JOIN mentions m ON m.id = mq.mention_id \
                 WHERE mq.query_id = $1 AND mq.workspace_id = $2 AND mq.published_at >= $3 AND mq.published_at < $4"
            }
            None => {
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN sentiment = 'negative' THEN 1 ELSE 0 END), 0) \
                 FROM mentions WHERE $1 = $1 AND workspace_id = $2 AND published_at >= $3 \
                 AND published_at < $4 AND copy_of IS NULL"
            }
        };
        let q = query_id.unwrap_or(0);
        let (all, neg): (i64, i64) = on!(self, p => sqlx::query_as(sql).bind(q).bind(workspace_id)
            .bind(start).bind(end).fetch_one(p).await)?;
        Ok((all, neg))
    }

    /// Raises an alert, unless its rule fired at or after `quiet_since`
    /// (then `None`): in one transaction the rule is marked, the alert
    /// stored, each member for whom `told(role)` holds is notified, and
    /// when the workspace has a webhook a delivery with `body(alert id)`
    /// is queued. Several processes may try at once; one raises it.
    pub async fn fire_alert(
        &self,
        a: &NewAlert,
        quiet_since: i64,
        now: i64,
        told: impl Fn(&str) -> bool,
        body: impl Fn(i64) -> String,
    ) -> Result<Option<i64>> {
        let sql = "INSERT INTO alerts (workspace_id, rule_id, kind, query_id, subject, word, observed, \
             total, baseline, window_start, window_end, fired_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id";
        let id = on!(self, p => {
            let mut tx = p.begin_write().await?;
            let claimed = sqlx::query(
                "UPDATE alert_rules SET last_fired_at = $1 WHERE id = $2 AND workspace_id = $3 \
                 AND (last_fired_at IS NULL OR last_fired_at < $4)")
                .bind(now).bind(a.rule_id).bind(a.workspace_id).bind(quiet_since)
                .execute(&mut *tx).await?.rows_affected();
            if claimed == 0 {
                return Ok(None);
            }
            let id: i64 = sqlx::query_scalar(sql)
                .bind(a.workspace_id).bind(a.rule_id).bind(&a.kind).bind(a.query_id).bind(&a.subject)
                .bind(&a.word).bind(a.observed).bind(a.total).bind(a.baseline).bind(a.window_start)
                .bind(a.window_end).bind(now).fetch_one(&mut *tx).await?;
            let members: Vec<(i64, String)> = sqlx::query_as(
                "SELECT user_id, role FROM members WHERE workspace_id = $1 ORDER BY user_id")
                .bind(a.workspace_id).fetch_all(&mut *tx).await?;
            for (user, _) in members.iter().filter(|(_, role)| told(role)) {
                sqlx::query(
                    "INSERT INTO notifications (user_id, workspace_id, kind, subject_id, detail, created_at) \
                     VALUES ($1, $2, 'listening_alert', $3, $4, $5)")
                    .bind(user).bind(a.workspace_id).bind(id).bind(&a.subject).bind(now)
                    .execute(&mut *tx).await?;
            }
            let hook: Option<String> = sqlx::query_scalar(
                "SELECT url FROM alert_webhooks WHERE workspace_id = $1")
                .bind(a.workspace_id).fetch_optional(&mut *tx).await?;
            if let Some(url) = hook {
                sqlx::query(
                    "INSERT INTO webhook_deliveries (workspace_id, alert_id, url, body, next_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $5)")
                    .bind(a.workspace_id).bind(id).bind(&url).bind(body(id)).bind(now)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            id
        });
        Ok(Some(id))
    }

    /// A workspace's newest alerts.
    pub async fn alerts(&self, workspace_id: i64, limit: i64) -> Result<Vec<Alert>> {
        let sql = format!(
            "SELECT {ALERT_COLS} FROM alerts WHERE workspace_id = $1 ORDER BY fired_at DESC, id DESC LIMIT $2"
        );
        Ok(on!(self, p => sqlx::query_as(&sql).bind(workspace_id).bind(limit).fetch_all(p).await)?)
    }

    /// One alert, by id alone (the notification and the mail know only
    /// the id; they are shown to members of its workspace only).
    pub async fn alert(&self, id: i64) -> Result<Alert> {
        let sql = format!("SELECT {ALERT_COLS} FROM alerts WHERE id = $1");
        on!(self, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await)?
            .ok_or(StoreError::NotFound)
    }

    /// Sets the workspace's webhook (address and sealed signing secret).
    pub async fn set_alert_webhook(
        &self,
        workspace_id: i64,
        url: &str,
        sealed_secret: &[u8],
        now: i64,
    ) -> Result<()> {
        on!(self, p => sqlx::query(
            "INSERT INTO alert_webhooks (workspace_id, url, secret, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (workspace_id) DO UPDATE SET url = excluded.url, secret = excluded.secret, \
             updated_at = excluded.updated_at")
            .bind(workspace_id).bind(url).bind(sealed_secret).bind(now)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The workspace's webhook: its address, sealed secret and when it was set.
    pub async fn alert_webhook(&self, workspace_id: i64) -> Result<Option<(String, Vec<u8>, i64)>> {
        Ok(on!(self, p => sqlx::query_as(
            "SELECT url, secret, updated_at FROM alert_webhooks WHERE workspace_id = $1")
            .bind(workspace_id).fetch_optional(p).await)?)
    }

    /// Removes the workspace's webhook; deliveries not made yet are not made.
    pub async fn delete_alert_webhook(&self, workspace_id: i64, now: i64) -> Result<()> {
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM alert_webhooks WHERE workspace_id = $1")
                .bind(workspace_id).execute(&mut *tx).await?;
            sqlx::query(
                "UPDATE webhook_deliveries SET status = 'failed', last_error = 'removed', next_at = $1 \
                 WHERE workspace_id = $2 AND status = 'pending'")
                .bind(now).bind(workspace_id).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Claims due deliveries until `lease_until`, each with the sealed
    /// secret of its workspace's webhook (`None`: removed since).
    pub async fn claim_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<(Delivery, Option<Vec<u8>>)>> {
        let lock = match self.backend {
            Backend::Postgres(_) => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite(_) => "",
        };
        let sql = format!(
            "WITH c AS MATERIALIZED (SELECT id FROM webhook_deliveries WHERE status = 'pending' \
             AND next_at <= $1 AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_at, id LIMIT $3{lock}) \
             UPDATE webhook_deliveries SET lease_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM c) RETURNING {DELIVERY_COLS}"
        );
        let mut claimed: Vec<Delivery> = on!(self, p => sqlx::query_as(&sql).bind(now)
            .bind(lease_until).bind(limit).fetch_all(p).await)?;
        claimed.sort_by_key(|d| d.id);
        let mut out = Vec::with_capacity(claimed.len());
        for d in claimed {
            let secret: Option<Vec<u8>> = on!(self, p => sqlx::query_scalar(
                "SELECT secret FROM alert_webhooks WHERE workspace_id = $1")
                .bind(d.workspace_id).fetch_optional(p).await)?;
            out.push((d, secret));
        }
        Ok(out)
    }

    /// Records how a claimed delivery went.
    pub async fn record_delivery(&self, id: i64, r: &DeliveryResult, now: i64) -> Result<()> {
        let (status, error, next_at, sent_at) = match r {
            DeliveryResult::Sent => ("sent", "", now, Some(now)),
            DeliveryResult::Retry { error, next_at } => ("pending", error.as_str(), *next_at, None),
            DeliveryResult::GaveUp { error } => ("failed", error.as_str(), now, None),
        };
        on!(self, p => sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, last_error = $2, next_at = $3, sent_at = $4, \
             lease_until = NULL WHERE id = $5")
            .bind(status).bind(error).bind(next_at).bind(sent_at).bind(id)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A workspace's newest deliveries.
    pub async fn deliveries(&self, workspace_id: i64, limit: i64) -> Result<Vec<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2"
        );
        Ok(on!(self, p => sqlx::query_as(&sql).bind(workspace_id).bind(limit).fetch_all(p).await)?)
    }
}
