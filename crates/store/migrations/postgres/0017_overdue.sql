-- Telling the team when a customer waits past the answer target: when it
-- was told about the current wait (a new wait starts when the customer
-- writes again after an answer), and an index to find the waiting ones.
ALTER TABLE conversations ADD COLUMN overdue_told_at BIGINT;
CREATE INDEX conversations_waiting ON conversations(workspace_id, waiting_since) WHERE waiting_since IS NOT NULL;
