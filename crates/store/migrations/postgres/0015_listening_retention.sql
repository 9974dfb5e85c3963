-- Listening: how long a workspace keeps its mentions. A workspace without
-- a row keeps them for the default (365 days); the retention loop removes
-- older mentions in batches (by the mentions_by_time index), from the
-- store and from the search index.

CREATE TABLE listening_settings (
    workspace_id BIGINT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    keep_days    BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

