-- The secret iCalendar feed of a workspace's plan: at most one link per
-- workspace; only the SHA-256 hash of its token is kept. Making a new link
-- replaces the row, which revokes the old one.
CREATE TABLE calendar_feeds (
    workspace_id   BIGINT  PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    token_hash     TEXT    NOT NULL UNIQUE,
    created_by     BIGINT  REFERENCES users(id) ON DELETE SET NULL,
    created_at     BIGINT  NOT NULL
);
