-- When each channel is next due to be polled (NULL: as soon as possible),
-- and the media attached to inbound items (a JSON array).

ALTER TABLE channels ADD COLUMN next_sync_at BIGINT;
CREATE INDEX channels_due ON channels(next_sync_at);
ALTER TABLE inbound_items ADD COLUMN media TEXT NOT NULL DEFAULT '[]';
