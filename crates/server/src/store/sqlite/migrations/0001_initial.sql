-- Paired devices, one-time pairing codes, and the records they send.
CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash BLOB UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE pairing_codes (
    code_hash BLOB PRIMARY KEY,
    device_name TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE TABLE records (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    device_id INTEGER NOT NULL REFERENCES devices(id),
    revision INTEGER NOT NULL,
    shift_id TEXT,
    category TEXT,
    created_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE INDEX records_by_time ON records(kind, created_at);
CREATE INDEX records_by_shift ON records(kind, shift_id);
