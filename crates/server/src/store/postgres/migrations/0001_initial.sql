-- Beatbook on PostgreSQL: the same things the SQLite store keeps, in
-- PostgreSQL's own types. Record bodies are kept as the JSON text the
-- server wrote (not jsonb, which would reorder keys), and answered as is.

CREATE TABLE devices (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    -- What the device has stored, against its quotas.
    stored_bytes BIGINT NOT NULL DEFAULT 0,
    photo_bytes BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE pairing_codes (
    code_hash BYTEA PRIMARY KEY,
    device_name TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);

-- The latest revision of each synced record.
CREATE TABLE records (
    kind TEXT NOT NULL,
    id UUID NOT NULL,
    device_id BIGINT NOT NULL REFERENCES devices (id),
    revision INTEGER NOT NULL,
    shift_id UUID,
    category TEXT,
    sorts_at TIMESTAMPTZ NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX records_by_time ON records (kind, sorts_at, id);
CREATE INDEX records_by_shift ON records (kind, shift_id, sorts_at, id);

-- Every revision received, as it arrived.
CREATE TABLE record_revisions (
    kind TEXT NOT NULL,
    id UUID NOT NULL,
    revision INTEGER NOT NULL,
    device_id BIGINT NOT NULL REFERENCES devices (id),
    received_at TIMESTAMPTZ NOT NULL,
    content_hash BYTEA NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id, revision)
);
