-- Approval: whether a workspace requires it, each post's review round,
-- the thread of comments and decisions, and the secret links through
-- which a client approves without an account (kept only as hashes).

CREATE TABLE approval_settings (
    workspace_id  BIGINT  PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    required      BOOLEAN NOT NULL,
    updated_at    BIGINT  NOT NULL
);

-- One row per post that was ever submitted: the current round and how it
-- ended ('open', 'approved', 'rejected').
CREATE TABLE post_reviews (
    post_id       BIGINT  PRIMARY KEY REFERENCES posts(id) ON DELETE CASCADE,
    round         BIGINT  NOT NULL,
    status        TEXT    NOT NULL,
    submitted_by  BIGINT  REFERENCES users(id) ON DELETE SET NULL,
    submitted_at  BIGINT  NOT NULL,
    decided_by    BIGINT  REFERENCES users(id) ON DELETE SET NULL,
    decided_name  TEXT    NOT NULL DEFAULT '',
    decided_at    BIGINT
);

-- The thread under a post: comments and the steps of its review.
CREATE TABLE post_comments (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_id       BIGINT  NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    user_id       BIGINT  REFERENCES users(id) ON DELETE SET NULL,
    author_name   TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    round         BIGINT  NOT NULL,
    body          TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX post_comments_by_post ON post_comments(post_id, id);

CREATE TABLE approval_links (
    token_hash    TEXT    PRIMARY KEY,
    post_id       BIGINT  NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    round         BIGINT  NOT NULL,
    created_by    BIGINT  REFERENCES users(id) ON DELETE SET NULL,
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL,
    used_at       BIGINT
);
CREATE INDEX approval_links_by_post ON approval_links(post_id);
