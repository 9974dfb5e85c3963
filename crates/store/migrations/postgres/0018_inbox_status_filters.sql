-- The list's rare filter values within a view: the open view with kind
-- `review`, language `fr` or one assignee read the view's index
-- (conversations_list) from the newest row until a page of matches is
-- found, thousands of rows for a rare value. With the status before the
-- filter and the list's order after it (latest activity first, then id),
-- a first page reads about one page of rows. The (workspace, filter, time)
-- indexes of 0012 stay for the view of all statuses; "nobody assigned" is
-- the assignee NULL in the same index.
CREATE INDEX conversations_by_status_kind ON conversations(workspace_id, status, kind, last_at, id);
CREATE INDEX conversations_by_status_lang ON conversations(workspace_id, status, lang, last_at, id);
CREATE INDEX conversations_by_status_assignee ON conversations(workspace_id, status, assignee_id, last_at, id);
