-- A tag's first page: the open view with one tag walked the view's rows
-- from the newest, checking each row's tags, about 1,600 rows for a tag on
-- 3 % of the conversations. Each tag row now carries its conversation's
-- status and latest activity, kept equal by the triggers below, so the
-- page reads the tag's rows newest first from one index, the status
-- within the index, and only the matches' conversations.
ALTER TABLE conversation_tags ADD COLUMN status TEXT NOT NULL DEFAULT 'open';
ALTER TABLE conversation_tags ADD COLUMN last_at BIGINT NOT NULL DEFAULT 0;
UPDATE conversation_tags t SET status = c.status, last_at = c.last_at
FROM conversations c WHERE c.id = t.conversation_id;
DROP INDEX conversation_tags_by_workspace;
CREATE INDEX conversation_tags_newest ON conversation_tags(workspace_id, tag, last_at, conversation_id, status);

CREATE FUNCTION conversation_tags_take() RETURNS trigger AS $$
BEGIN
    SELECT c.status, c.last_at INTO NEW.status, NEW.last_at
    FROM conversations c WHERE c.id = NEW.conversation_id;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER conversation_tags_take BEFORE INSERT ON conversation_tags
FOR EACH ROW EXECUTE FUNCTION conversation_tags_take();

CREATE FUNCTION conversation_tags_follow() RETURNS trigger AS $$
BEGIN
    UPDATE conversation_tags SET status = NEW.status, last_at = NEW.last_at
    WHERE conversation_id = NEW.id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER conversation_tags_follow AFTER UPDATE OF status, last_at ON conversations
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.last_at IS DISTINCT FROM NEW.last_at)
EXECUTE FUNCTION conversation_tags_follow();
