-- Beatbook on PostgreSQL: the same things the SQLite store keeps, in
-- PostgreSQL's own types. Record bodies are kept as the JSON text the
-- server wrote (not jsonb, which would reorder keys), and answered as is.
-- Times are kept to the millisecond, as SQLite's are: a finer time would
-- tell a stored report from a decoy (the API's answer to a bot).

CREATE TABLE devices (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    created_at TIMESTAMPTZ(3) NOT NULL,
    revoked_at TIMESTAMPTZ(3),
    -- What the device has stored, against its quotas.
    stored_bytes BIGINT NOT NULL DEFAULT 0,
    photo_bytes BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE pairing_codes (
    code_hash BYTEA PRIMARY KEY,
    device_name TEXT NOT NULL,
    expires_at TIMESTAMPTZ(3) NOT NULL,
    used_at TIMESTAMPTZ(3)
);

-- The latest revision of each synced record.
CREATE TABLE records (
    kind TEXT NOT NULL,
    id UUID NOT NULL,
    device_id BIGINT NOT NULL REFERENCES devices (id),
    revision INTEGER NOT NULL,
    shift_id UUID,
    category TEXT,
    sorts_at TIMESTAMPTZ(3) NOT NULL,
    received_at TIMESTAMPTZ(3) NOT NULL,
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
    received_at TIMESTAMPTZ(3) NOT NULL,
    content_hash BYTEA NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id, revision)
);

-- Residents' reports: the report as sent, its status, and its public code.
CREATE TABLE reports (
    seq BIGSERIAL PRIMARY KEY,
    id UUID NOT NULL UNIQUE,
    code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMPTZ(3) NOT NULL,
    received_at TIMESTAMPTZ(3) NOT NULL,
    updated_at TIMESTAMPTZ(3) NOT NULL,
    place TEXT,
    response TEXT,
    body TEXT NOT NULL,
    erasure_requested_at TIMESTAMPTZ(3),
    erased_at TIMESTAMPTZ(3),
    removed_at TIMESTAMPTZ(3)
);
CREATE INDEX reports_by_time ON reports (received_at DESC, seq DESC);

-- Every step of a report's triage.
CREATE TABLE report_events (
    seq BIGSERIAL PRIMARY KEY,
    change_id UUID UNIQUE,
    report_seq BIGINT NOT NULL REFERENCES reports (seq),
    device_id BIGINT REFERENCES devices (id),
    at TIMESTAMPTZ(3) NOT NULL,
    status TEXT NOT NULL,
    response TEXT,
    private_note TEXT,
    erased BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX report_events_by_report ON report_events (report_seq, at, seq);

-- Photos' bytes, once per content, in the database, so that every server
-- answers for every photo.
CREATE TABLE photo_contents (
    sha256 TEXT PRIMARY KEY,
    bytes BYTEA NOT NULL
);

CREATE TABLE photos (
    id UUID PRIMARY KEY,
    record_kind TEXT NOT NULL CHECK (record_kind IN ('note', 'report')),
    record_id UUID NOT NULL,
    sha256 TEXT NOT NULL REFERENCES photo_contents (sha256),
    media_type TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    -- Residents' photos are shown on the public status page only once the
    -- councillor has looked at them (faces, number plates).
    public BOOLEAN NOT NULL DEFAULT FALSE,
    device_id BIGINT REFERENCES devices (id),
    received_at TIMESTAMPTZ(3) NOT NULL,
    -- The order photos arrived in, within one instant too.
    seq BIGSERIAL NOT NULL
);
CREATE INDEX photos_by_record ON photos (record_kind, record_id, seq);
CREATE INDEX photos_by_content ON photos (sha256);
