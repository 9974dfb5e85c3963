-- Streaming sources: a source is either polled on its schedule or run as a
-- live stream (the Bluesky firehose always, a Mastodon timeline when the
-- team chose streaming). The stream runner records what a stream heard in
-- the last minute and when it last reported, for the sources page.

ALTER TABLE listening_sources ADD COLUMN streamed BOOLEAN NOT NULL DEFAULT FALSE;
-- posts heard in the last minute, as the running stream last reported
ALTER TABLE listening_sources ADD COLUMN per_minute BIGINT NOT NULL DEFAULT 0;
-- when the running stream last reported (NULL: never, or polled)
ALTER TABLE listening_sources ADD COLUMN live_at BIGINT;
-- what the running stream was doing then: starting, connected, polling,
-- slowed, reconnecting, failing ('' when polled)
ALTER TABLE listening_sources ADD COLUMN live_status TEXT NOT NULL DEFAULT '';

UPDATE listening_sources SET streamed = TRUE WHERE kind = 'jetstream';
