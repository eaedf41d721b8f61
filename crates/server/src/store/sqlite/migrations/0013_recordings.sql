-- Spoken notes: each recording's bytes in its row (a five-minute recording
-- is about a megabyte), so that it is committed with it and backed up with
-- the database. `sent_sha256` is the hash of what the phone sent, by which
-- a resend is known; the bytes kept have their tags blanked.
CREATE TABLE recordings (
    id TEXT PRIMARY KEY,
    note_id TEXT NOT NULL,
    sent_sha256 TEXT NOT NULL,
    media_type TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    content BLOB NOT NULL,
    device_id INTEGER NOT NULL REFERENCES devices(id),
    received_at TEXT NOT NULL
);
CREATE INDEX recordings_by_note ON recordings(note_id);
CREATE INDEX recordings_by_device ON recordings(device_id);
