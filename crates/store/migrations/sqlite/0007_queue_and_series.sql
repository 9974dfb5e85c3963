-- Queue slots per channel (a weekly schedule of local times), recurring
-- posts (a series whose occurrences are ordinary posts made ahead of
-- time), and the link from a post to its series.

CREATE TABLE channel_slots (
    channel_id  BIGINT   NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    weekday     SMALLINT NOT NULL,
    minute      BIGINT   NOT NULL,
    PRIMARY KEY (channel_id, weekday, minute)
);

CREATE TABLE post_series (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id       BIGINT  NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    author_id          BIGINT  REFERENCES users(id) ON DELETE SET NULL,
    text               TEXT    NOT NULL,
    channel_ids        TEXT    NOT NULL,
    kind               TEXT    NOT NULL,
    weekdays           TEXT    NOT NULL DEFAULT '',
    month_day          BIGINT,
    minute             BIGINT  NOT NULL,
    start_date         TEXT    NOT NULL,
    until_date         TEXT,
    max_count          BIGINT,
    made_until         BIGINT  NOT NULL,
    stopped_at         BIGINT,
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL
);
CREATE INDEX post_series_running ON post_series(made_until) WHERE stopped_at IS NULL;

ALTER TABLE posts ADD COLUMN series_id BIGINT REFERENCES post_series(id) ON DELETE SET NULL;
-- One post per occurrence, however often the series is topped up.
CREATE UNIQUE INDEX posts_series_occurrence ON posts(series_id, scheduled_at);
