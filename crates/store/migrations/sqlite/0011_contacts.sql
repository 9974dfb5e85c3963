-- Contacts: one person across networks. Each identity (an account on a
-- network, an e-mail address) belongs to one contact of the workspace; a
-- conversation belongs to the contact of its author. Merging moves one
-- contact's identities to another; splitting an identity off makes it a
-- contact of its own again, with its conversations.

CREATE TABLE contacts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT   NOT NULL,
    note         TEXT   NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX contacts_by_workspace ON contacts(workspace_id, id);

CREATE TABLE contact_identities (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id   BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    network      TEXT   NOT NULL,
    author_id    TEXT   NOT NULL,
    name         TEXT   NOT NULL,
    handle       TEXT,
    created_at   BIGINT NOT NULL,
    UNIQUE (workspace_id, network, author_id)
);
CREATE INDEX contact_identities_by_contact ON contact_identities(contact_id);

CREATE TABLE contact_tags (
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    tag        TEXT   NOT NULL,
    PRIMARY KEY (contact_id, tag)
);

ALTER TABLE conversations ADD COLUMN identity_id BIGINT REFERENCES contact_identities(id) ON DELETE SET NULL;
CREATE INDEX conversations_by_identity ON conversations(identity_id);
