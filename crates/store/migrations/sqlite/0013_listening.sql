-- Listening: what the web says, per workspace. Queries (in the query
-- language) pick mentions out of the posts that sources bring in; each
-- mention is stored once per workspace (by its key), and a near-copy of an
-- earlier mention is kept as a copy of it, so it counts once, with a count.

CREATE TABLE listening_queries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT   NOT NULL,
    query        TEXT   NOT NULL,
    -- brand, competitor or topic (share of voice sets brand against competitors)
    role         TEXT   NOT NULL DEFAULT 'brand',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE listening_sources (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    -- rss, mastodon_tag, mastodon_public, jetstream, mediawiki
    kind          TEXT   NOT NULL,
    -- the address, tag or wiki it listens to, as settled when it was added
    target        TEXT   NOT NULL,
    name          TEXT   NOT NULL,
    -- where the next fetch resumes (the source's own cursor)
    cursor        TEXT   NOT NULL DEFAULT '',
    -- new, ok, failing, paused
    status        TEXT   NOT NULL DEFAULT 'new',
    reason        TEXT   NOT NULL DEFAULT '',
    failing_since BIGINT,
    last_ok_at    BIGINT,
    next_at       BIGINT NOT NULL,
    lease_until   BIGINT,
    fetched_total BIGINT NOT NULL DEFAULT 0,
    stored_total  BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    UNIQUE (workspace_id, kind, target)
);
CREATE INDEX listening_sources_due ON listening_sources(next_at);

CREATE TABLE mentions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    source_id     BIGINT REFERENCES listening_sources(id) ON DELETE SET NULL,
    source_kind   TEXT   NOT NULL,
    -- the post's identity across sources (its URI or URL)
    key           TEXT   NOT NULL,
    url           TEXT,
    author_id     TEXT   NOT NULL,
    author_name   TEXT   NOT NULL,
    author_handle TEXT,
    -- followers, where the source says
    reach         BIGINT,
    text          TEXT   NOT NULL,
    lang          TEXT,
    sentiment     TEXT   NOT NULL,
    score         REAL NOT NULL,
    -- a 64-bit similarity hash of the words: near-copies differ in few bits
    fingerprint   BIGINT NOT NULL,
    -- the earlier mention this one is a copy of
    copy_of       BIGINT REFERENCES mentions(id) ON DELETE CASCADE,
    -- how many times it was heard, itself included (on originals)
    copies        BIGINT NOT NULL DEFAULT 1,
    published_at  BIGINT NOT NULL,
    stored_at     BIGINT NOT NULL,
    UNIQUE (workspace_id, key)
);
CREATE INDEX mentions_by_time ON mentions(workspace_id, published_at, id);
CREATE INDEX mentions_by_stored ON mentions(workspace_id, stored_at);

-- Which queries found a mention (originals only).
CREATE TABLE mention_queries (
    query_id     BIGINT NOT NULL REFERENCES listening_queries(id) ON DELETE CASCADE,
    mention_id   BIGINT NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
    workspace_id BIGINT NOT NULL,
    published_at BIGINT NOT NULL,
    PRIMARY KEY (query_id, mention_id)
);
CREATE INDEX mention_queries_by_time ON mention_queries(query_id, published_at);
CREATE INDEX mention_queries_by_mention ON mention_queries(mention_id);
