-- The inbox's search: one document per conversation (the author's name and
-- handle, then every inbound text, lower-cased, one per line) with a
-- trigram index (pg_trgm, a trusted extension since PostgreSQL 13), so that
-- a substring of three or more characters is found through the index
-- instead of by reading every item. It is written in the same transaction
-- as the items it holds (threading, store/src/inbox.rs).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE conversation_search (
    conversation_id BIGINT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    doc             TEXT   NOT NULL
);

INSERT INTO conversation_search (conversation_id, doc)
SELECT c.id,
       lower(c.author_name) || chr(10) || lower(COALESCE(c.author_handle, ''))
       || COALESCE((SELECT chr(10) || string_agg(lower(i.text), chr(10) ORDER BY i.id)
                    FROM inbound_items i WHERE i.conversation_id = c.id), '')
FROM conversations c;

CREATE INDEX conversation_search_trgm ON conversation_search USING gin (doc gin_trgm_ops);

-- The filters of the list, each with the order of the list (latest
-- activity first), so a first page reads about one page of rows.
CREATE INDEX conversations_by_channel ON conversations(workspace_id, channel_id, last_at, id);
CREATE INDEX conversations_by_kind ON conversations(workspace_id, kind, last_at, id);
CREATE INDEX conversations_by_assignee ON conversations(workspace_id, assignee_id, last_at, id);
CREATE INDEX conversations_by_sentiment ON conversations(workspace_id, sentiment, last_at, id);
CREATE INDEX conversations_by_lang ON conversations(workspace_id, lang, last_at, id);

-- Tags carry their workspace, so the workspace's tag list is read from an
-- index instead of joining every conversation.
ALTER TABLE conversation_tags ADD COLUMN workspace_id BIGINT NOT NULL DEFAULT 0;
UPDATE conversation_tags t SET workspace_id = c.workspace_id
    FROM conversations c WHERE c.id = t.conversation_id;
CREATE INDEX conversation_tags_by_workspace ON conversation_tags(workspace_id, tag, conversation_id);
