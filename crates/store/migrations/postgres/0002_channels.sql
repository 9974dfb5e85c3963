-- Channels (connections to networks) and the inbound items fetched from them.

CREATE TABLE channels (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id   BIGINT  NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    network        TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    credentials    BYTEA   NOT NULL,
    cursor         TEXT    NOT NULL DEFAULT '',
    status         TEXT    NOT NULL DEFAULT 'new',
    status_reason  TEXT    NOT NULL DEFAULT '',
    status_since   BIGINT  NOT NULL,
    last_sync_at   BIGINT,
    created_at     BIGINT  NOT NULL
);
CREATE INDEX channels_by_workspace ON channels(workspace_id);

CREATE TABLE inbound_items (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel_id     BIGINT  NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    external_id    TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    author_id      TEXT    NOT NULL,
    author_name    TEXT    NOT NULL,
    author_handle  TEXT,
    thread_ref     TEXT,
    in_reply_to    TEXT,
    text           TEXT    NOT NULL,
    url            TEXT,
    published_at   BIGINT,
    fetched_at     BIGINT  NOT NULL,
    UNIQUE (channel_id, external_id)
);
CREATE INDEX inbound_items_by_channel ON inbound_items(channel_id, id);
