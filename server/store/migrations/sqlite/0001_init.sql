-- Initial schema of the SQLite backend. Mirrors Coder's tables (coderd/database/dump.sql) with SQLite types:
--   uuid        -> BLOB (16 bytes; byte order equals Postgres uuid order, so ORDER BY id agrees)
--   timestamptz -> INTEGER microseconds since the Unix epoch (orders correctly in SQL)
--   uuid[]/jsonb -> TEXT holding JSON
-- Statements are split with sqlite3.complete_statement, so triggers may contain semicolons.

CREATE TABLE users (
    id          BLOB PRIMARY KEY,
    username    TEXT NOT NULL UNIQUE COLLATE NOCASE,  -- Coder: unique on lower(username)
    email       TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    roles       TEXT NOT NULL DEFAULT '[]',
    is_system   INTEGER NOT NULL DEFAULT 0,
    status      TEXT NOT NULL DEFAULT 'active',
    created_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id             TEXT PRIMARY KEY,
    user_id        BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hashed_secret  BLOB NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX api_keys_user_id ON api_keys (user_id);

CREATE TABLE notification_templates (
    id                  BLOB PRIMARY KEY,
    name                TEXT NOT NULL,
    title_template      TEXT NOT NULL,
    body_template       TEXT NOT NULL,
    actions             TEXT NOT NULL DEFAULT '[]',
    "group"             TEXT NOT NULL DEFAULT '',
    method              TEXT,  -- NULL: the deployment default
    kind                TEXT NOT NULL DEFAULT 'system',
    enabled_by_default  INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX notification_templates_kind_name ON notification_templates (kind, name);

CREATE TABLE notification_preferences (
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    template_id  BLOB NOT NULL REFERENCES notification_templates (id) ON DELETE CASCADE,
    disabled     INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, template_id)
) WITHOUT ROWID;

CREATE TABLE notification_messages (
    id                BLOB PRIMARY KEY,
    template_id       BLOB NOT NULL REFERENCES notification_templates (id) ON DELETE CASCADE,
    user_id           BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    method            TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'pending',
    payload           TEXT NOT NULL,
    targets           TEXT,
    created_by        TEXT NOT NULL,
    dedupe_hash       TEXT UNIQUE,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    attempt_count     INTEGER NOT NULL DEFAULT 0,
    next_retry_after  INTEGER,
    leased_until      INTEGER,
    status_reason     TEXT NOT NULL DEFAULT '',
    extra             TEXT NOT NULL DEFAULT '{}'  -- JSON object
);
CREATE INDEX notification_messages_user_id ON notification_messages (user_id);
-- Leasing reads the few unfinished rows through this index, then sorts them by age.
CREATE INDEX notification_messages_status ON notification_messages (status);

CREATE TABLE inbox_notifications (
    id           BLOB PRIMARY KEY,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    template_id  BLOB NOT NULL REFERENCES notification_templates (id) ON DELETE CASCADE,
    targets      TEXT,  -- JSON array of canonical uuid strings, or NULL
    title        TEXT NOT NULL,
    content      TEXT NOT NULL,
    icon         TEXT NOT NULL,
    actions      TEXT NOT NULL DEFAULT '[]',
    read_at      INTEGER,
    created_at   INTEGER NOT NULL
);
-- The list query walks this index newest first and stops after one page.
CREATE INDEX inbox_notifications_list
    ON inbox_notifications (user_id, created_at DESC, id DESC);
-- Unread-only listing and mark-all-read touch unread rows only.
CREATE INDEX inbox_notifications_unread
    ON inbox_notifications (user_id, created_at DESC, id DESC) WHERE read_at IS NULL;
-- A template filter (Coder's (user_id, template_id, targets) index) keeps page order from the index.
CREATE INDEX inbox_notifications_template
    ON inbox_notifications (user_id, template_id, created_at DESC, id DESC);

-- The unread count kept by triggers, so count_unread is one row lookup however big the inbox is
-- (COUNT(*) over 100,000 rows costs milliseconds in SQLite).
CREATE TABLE inbox_unread_counts (
    user_id  BLOB PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    n        INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER inbox_notifications_unread_insert AFTER INSERT ON inbox_notifications
WHEN NEW.read_at IS NULL
BEGIN
    INSERT INTO inbox_unread_counts (user_id, n) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER inbox_notifications_unread_delete AFTER DELETE ON inbox_notifications
WHEN OLD.read_at IS NULL
BEGIN
    UPDATE inbox_unread_counts SET n = n - 1 WHERE user_id = OLD.user_id;
END;

CREATE TRIGGER inbox_notifications_unread_update AFTER UPDATE OF read_at, user_id ON inbox_notifications
WHEN (OLD.read_at IS NULL) != (NEW.read_at IS NULL) OR OLD.user_id != NEW.user_id
BEGIN
    UPDATE inbox_unread_counts SET n = n - 1 WHERE user_id = OLD.user_id AND OLD.read_at IS NULL;
    INSERT INTO inbox_unread_counts (user_id, n) SELECT NEW.user_id, 1 WHERE NEW.read_at IS NULL
        ON CONFLICT (user_id) DO UPDATE SET n = n + 1;
END;

CREATE TABLE site_configs (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
