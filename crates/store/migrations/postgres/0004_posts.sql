-- Posts and their targets (one per channel). A target is also the
-- dispatcher's job: it is claimed with a lease, and its attempt number
-- fences a process whose lease expired from recording over its successor.

CREATE TABLE posts (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id   BIGINT  NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    author_id      BIGINT  REFERENCES users(id) ON DELETE SET NULL,
    text           TEXT    NOT NULL,
    scheduled_at   BIGINT,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);
CREATE INDEX posts_by_time ON posts(workspace_id, scheduled_at);

CREATE TABLE post_targets (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_id         BIGINT  NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    channel_id      BIGINT  REFERENCES channels(id) ON DELETE SET NULL,
    network         TEXT    NOT NULL,
    channel_name    TEXT    NOT NULL,
    text            TEXT,
    state           TEXT    NOT NULL,
    due_at          BIGINT,
    lease_until     BIGINT,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    sending_since   BIGINT,
    idempotency_key TEXT    NOT NULL,
    remote_id       TEXT,
    remote_url      TEXT,
    error_code      TEXT    NOT NULL DEFAULT '',
    error           TEXT    NOT NULL DEFAULT '',
    published_at    BIGINT,
    updated_at      BIGINT  NOT NULL,
    UNIQUE (post_id, channel_id)
);
-- The dispatcher's two questions, kept small: which scheduled targets are
-- due, and whose lease has run out.
CREATE INDEX post_targets_due ON post_targets(due_at) WHERE state = 'scheduled';
CREATE INDEX post_targets_lease ON post_targets(lease_until) WHERE state = 'publishing';
CREATE INDEX post_targets_by_channel ON post_targets(channel_id);

-- What a person should know about (a post that failed, one that needs a
-- look), in the app and, where SMTP is set up, by e-mail.
CREATE TABLE notifications (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    workspace_id   BIGINT  NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind           TEXT    NOT NULL,
    subject_id     BIGINT  NOT NULL,
    detail         TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    read_at        BIGINT,
    mailed_at      BIGINT
);
CREATE INDEX notifications_by_user ON notifications(user_id, id);
CREATE INDEX notifications_to_mail ON notifications(id) WHERE mailed_at IS NULL;
