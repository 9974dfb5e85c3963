-- Images for posts, kept in the database (not in the data folder) so that
-- every process sharing a PostgreSQL database, the dispatcher among them,
-- reads the same bytes. One row per distinct image per workspace: the same
-- file uploaded twice is stored once (by its SHA-256).

CREATE TABLE media (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    sha256       TEXT   NOT NULL,
    mime         TEXT   NOT NULL,
    size         BIGINT NOT NULL,
    bytes        BLOB  NOT NULL,
    uploaded_by  BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (workspace_id, sha256)
);

-- A post's images, in order, each with its alt text.
CREATE TABLE post_media (
    post_id  BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    media_id BIGINT NOT NULL REFERENCES media(id) ON DELETE CASCADE,
    alt      TEXT   NOT NULL,
    PRIMARY KEY (post_id, position)
);
CREATE INDEX post_media_by_media ON post_media(media_id);

-- The campaign a post's links are tagged with (UTM), empty for none.
ALTER TABLE posts ADD COLUMN campaign TEXT NOT NULL DEFAULT '';
