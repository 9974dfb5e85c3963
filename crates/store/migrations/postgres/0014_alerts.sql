-- Alerts: rules that watch a workspace's mentions (a spike in volume or in
-- the share of negative mentions against the same hour of the last seven
-- days, or watched words), the alerts they raised with the numbers behind
-- them, and the signed webhook that receives alerts, with its deliveries.

CREATE TABLE alert_rules (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id   BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    -- volume, negative, words
    kind           TEXT   NOT NULL,
    -- the query it watches; NULL: every mention of the workspace
    query_id       BIGINT REFERENCES listening_queries(id) ON DELETE CASCADE,
    -- volume: fires at this many times the baseline
    factor         DOUBLE PRECISION NOT NULL DEFAULT 3,
    -- the fewest mentions (volume, words) or negative mentions (negative)
    -- in the window that can fire
    min_count      BIGINT NOT NULL DEFAULT 10,
    -- negative: the share (0 to 1) of negative mentions that fires
    share          DOUBLE PRECISION NOT NULL DEFAULT 0.4,
    -- words: the watched words, one per line
    words          TEXT   NOT NULL DEFAULT '',
    window_minutes BIGINT NOT NULL DEFAULT 60,
    -- a rule fires at most once per window
    last_fired_at  BIGINT,
    created_at     BIGINT NOT NULL
);
CREATE INDEX alert_rules_by_workspace ON alert_rules(workspace_id);

CREATE TABLE alerts (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    rule_id      BIGINT REFERENCES alert_rules(id) ON DELETE SET NULL,
    kind         TEXT   NOT NULL,
    query_id     BIGINT REFERENCES listening_queries(id) ON DELETE SET NULL,
    -- the query's name (or "all mentions") as it was when the alert fired
    subject      TEXT   NOT NULL,
    -- the watched word that fired (words)
    word         TEXT   NOT NULL DEFAULT '',
    -- mentions in the window (volume, words) or negative ones (negative)
    observed     BIGINT NOT NULL,
    -- all mentions in the window
    total        BIGINT NOT NULL,
    -- the same window over the last seven days: the mean count (volume)
    -- or the share of negative mentions (negative)
    baseline     DOUBLE PRECISION NOT NULL,
    window_start BIGINT NOT NULL,
    window_end   BIGINT NOT NULL,
    fired_at     BIGINT NOT NULL
);
CREATE INDEX alerts_by_workspace ON alerts(workspace_id, fired_at);

CREATE TABLE alert_webhooks (
    workspace_id BIGINT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    url          TEXT   NOT NULL,
    -- the signing secret, sealed with the instance key
    secret       BYTEA  NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    alert_id     BIGINT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    url          TEXT   NOT NULL,
    body         TEXT   NOT NULL,
    -- pending, sent, failed (given up after a day)
    status       TEXT   NOT NULL DEFAULT 'pending',
    attempts     BIGINT NOT NULL DEFAULT 0,
    next_at      BIGINT NOT NULL,
    lease_until  BIGINT,
    last_error   TEXT   NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    sent_at      BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_at);
CREATE INDEX webhook_deliveries_by_workspace ON webhook_deliveries(workspace_id, id);
