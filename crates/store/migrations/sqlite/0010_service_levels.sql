-- Service levels per workspace: opening hours and the inbox's targets, in
-- business time. Without a row the defaults hold (Monday to Friday 09:00 to
-- 17:00, an answer within an hour, resolved within a working day).

CREATE TABLE inbox_settings (
    workspace_id           BIGINT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    -- 1=09:00-17:00,2=… (Monday is 1; closed days left out)
    hours                  TEXT   NOT NULL,
    first_response_minutes BIGINT NOT NULL,
    resolution_minutes     BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
