-- inbox-server schema for PostgreSQL, shaped like Coder's (spec section 2.2).
-- Applied once by PostgresStore.open() under an advisory lock; recorded in schema_migrations.

CREATE TYPE notification_method AS ENUM ('smtp', 'webhook', 'inbox');
CREATE TYPE notification_template_kind AS ENUM ('system', 'custom');
CREATE TYPE inbox_notification_read_status AS ENUM ('all', 'unread', 'read');
CREATE TYPE notification_message_status AS ENUM (
    'pending', 'leased', 'sent', 'permanent_failure', 'temporary_failure', 'inhibited'
);

CREATE TABLE users (
    id uuid PRIMARY KEY,
    username text NOT NULL,
    email text NOT NULL,
    name text NOT NULL DEFAULT '',
    roles text[] NOT NULL DEFAULT '{}',
    is_system boolean NOT NULL DEFAULT false,
    status text NOT NULL DEFAULT 'active',
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Usernames are unique case-insensitively, as Coder's users_username_lower_idx.
CREATE UNIQUE INDEX users_username_lower_idx ON users (lower(username));
CREATE INDEX users_created_at_idx ON users (created_at, id);

CREATE TABLE api_keys (
    id text PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hashed_secret bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_user_id_idx ON api_keys (user_id);

CREATE TABLE notification_templates (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    title_template text NOT NULL,
    body_template text NOT NULL,
    actions jsonb NOT NULL DEFAULT '[]',
    "group" text,
    method notification_method,  -- NULL: the deployment default
    kind notification_template_kind NOT NULL DEFAULT 'system',
    enabled_by_default boolean NOT NULL DEFAULT true
);

CREATE TABLE notification_preferences (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    notification_template_id uuid NOT NULL REFERENCES notification_templates (id) ON DELETE CASCADE,
    disabled boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, notification_template_id)
);

CREATE TABLE notification_messages (
    id uuid PRIMARY KEY,
    notification_template_id uuid NOT NULL REFERENCES notification_templates (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    method notification_method NOT NULL,
    status notification_message_status NOT NULL DEFAULT 'pending',
    status_reason text NOT NULL DEFAULT '',
    created_by text NOT NULL,
    payload jsonb NOT NULL,
    targets uuid[],
    attempt_count integer NOT NULL DEFAULT 0,
    dedupe_hash text,
    extra jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz,
    leased_until timestamptz,
    next_retry_after timestamptz,
    CONSTRAINT notification_messages_dedupe_hash_idx UNIQUE (dedupe_hash)
);
-- The notifier's lease query scans by status in creation order.
CREATE INDEX notification_messages_status_created_at_idx ON notification_messages (status, created_at, id);
CREATE INDEX notification_messages_user_id_idx ON notification_messages (user_id);

CREATE TABLE inbox_notifications (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    template_id uuid NOT NULL REFERENCES notification_templates (id) ON DELETE CASCADE,
    targets uuid[],
    title text NOT NULL,
    content text NOT NULL,
    icon text NOT NULL,
    actions jsonb NOT NULL,
    read_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Coder's two indexes, plus one matching the list order so a page is an index range scan.
CREATE INDEX inbox_notifications_user_id_read_at_idx ON inbox_notifications (user_id, read_at);
CREATE INDEX inbox_notifications_user_id_template_id_targets_idx
    ON inbox_notifications (user_id, template_id, targets);
CREATE INDEX inbox_notifications_user_id_created_at_id_idx
    ON inbox_notifications (user_id, created_at DESC, id DESC);

CREATE TABLE site_configs (
    key varchar(256) PRIMARY KEY,
    value text NOT NULL
);
