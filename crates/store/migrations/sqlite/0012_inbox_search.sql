-- The inbox's search: one document per conversation (the author's name and
-- handle, then every inbound text, lower-cased, one per line), in an FTS5
-- table with the trigram tokenizer, so that a substring of three or more
-- characters is found through the index instead of by reading every item.
-- The document's rowid is the conversation's id; it is written in the same
-- transaction as the items it holds (threading, store/src/inbox.rs).
CREATE VIRTUAL TABLE conversation_search USING fts5(doc, tokenize = 'trigram');

INSERT INTO conversation_search (rowid, doc)
SELECT c.id,
       lower(c.author_name) || char(10) || lower(COALESCE(c.author_handle, ''))
       || COALESCE((SELECT char(10) || group_concat(lower(i.text), char(10))
                    FROM (SELECT text FROM inbound_items WHERE conversation_id = c.id ORDER BY id) i), '')
FROM conversations c;

CREATE TRIGGER conversation_search_gone AFTER DELETE ON conversations BEGIN
    DELETE FROM conversation_search WHERE rowid = old.id;
END;

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
UPDATE conversation_tags SET workspace_id =
    (SELECT c.workspace_id FROM conversations c WHERE c.id = conversation_tags.conversation_id);
CREATE INDEX conversation_tags_by_workspace ON conversation_tags(workspace_id, tag, conversation_id);
