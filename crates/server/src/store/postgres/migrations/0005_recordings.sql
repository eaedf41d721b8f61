-- Spoken notes: as SQLite's migration 13.
CREATE TABLE recordings (
    id UUID PRIMARY KEY,
    note_id UUID NOT NULL,
    sent_sha256 TEXT NOT NULL,
    media_type TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    content BYTEA NOT NULL,
    device_id BIGINT NOT NULL REFERENCES devices(id),
    received_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX recordings_by_note ON recordings(note_id);
CREATE INDEX recordings_by_device ON recordings(device_id);
