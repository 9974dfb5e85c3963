-- The webcare inbox: inbound items threaded into conversations, with our
-- replies and internal notes, tags, assignment and status.

CREATE TABLE conversations (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id      BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel_id        BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    -- comment, mention, direct_message, email, review: what its first item was
    kind              TEXT   NOT NULL,
    -- what items of the same thread share on this channel (the network's root)
    thread_key        TEXT   NOT NULL,
    -- our post it is under, where there is one
    post_id           BIGINT REFERENCES posts(id) ON DELETE SET NULL,
    author_id         TEXT   NOT NULL,
    author_name       TEXT   NOT NULL,
    author_handle     TEXT,
    -- open, pending, resolved
    status            TEXT   NOT NULL DEFAULT 'open',
    assignee_id       BIGINT REFERENCES users(id) ON DELETE SET NULL,
    snoozed_until     BIGINT,
    -- the latest inbound text, shortened, for the list
    preview           TEXT   NOT NULL,
    lang              TEXT,
    sentiment         TEXT,
    messages          BIGINT NOT NULL DEFAULT 0,
    -- the first unanswered inbound item's time (NULL when answered)
    waiting_since     BIGINT,
    last_inbound_at   BIGINT NOT NULL,
    last_at           BIGINT NOT NULL,
    first_response_at BIGINT,
    resolved_at       BIGINT,
    created_at        BIGINT NOT NULL,
    -- when anything about it last changed (live updates ask for this)
    updated_at        BIGINT NOT NULL,
    UNIQUE (channel_id, thread_key)
);
CREATE INDEX conversations_list ON conversations(workspace_id, status, last_at, id);
CREATE INDEX conversations_all ON conversations(workspace_id, last_at, id);
CREATE INDEX conversations_changed ON conversations(workspace_id, updated_at);

ALTER TABLE inbound_items ADD COLUMN conversation_id BIGINT REFERENCES conversations(id) ON DELETE SET NULL;
ALTER TABLE inbound_items ADD COLUMN lang TEXT;
ALTER TABLE inbound_items ADD COLUMN sentiment TEXT;
ALTER TABLE inbound_items ADD COLUMN score DOUBLE PRECISION;
CREATE INDEX inbound_items_by_conversation ON inbound_items(conversation_id, id);
CREATE INDEX inbound_items_unthreaded ON inbound_items(channel_id, id) WHERE conversation_id IS NULL AND kind <> 'post';

-- What we wrote in a conversation: replies sent through the channel, and
-- internal notes no customer sees.
CREATE TABLE conversation_entries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    -- reply or note
    kind            TEXT   NOT NULL,
    user_id         BIGINT REFERENCES users(id) ON DELETE SET NULL,
    text            TEXT   NOT NULL,
    -- note; or for a reply: sending, sent, failed, unconfirmed
    state           TEXT   NOT NULL,
    error           TEXT   NOT NULL DEFAULT '',
    -- the item answered
    item_id         BIGINT REFERENCES inbound_items(id) ON DELETE SET NULL,
    remote_id       TEXT,
    remote_url      TEXT,
    -- the form's own key: the same form sent twice is one entry, sent once
    client_key      TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    UNIQUE (conversation_id, client_key)
);
CREATE INDEX conversation_entries_by_remote ON conversation_entries(remote_id);

CREATE TABLE conversation_tags (
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    tag             TEXT   NOT NULL,
    PRIMARY KEY (conversation_id, tag)
);
CREATE INDEX conversation_tags_by_tag ON conversation_tags(tag, conversation_id);
