-- Photos on notes and residents' reports. The bytes are files in the data
-- folder's photos/, named by their SHA-256, so the same photo sent under two
-- ids is kept once; a row per photo links it to its record.
CREATE TABLE photos (
    id TEXT PRIMARY KEY,
    record_kind TEXT NOT NULL CHECK (record_kind IN ('note', 'report')),
    record_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    media_type TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    -- Residents' photos are shown on the public status page only once the
    -- councillor has looked at them (faces, number plates).
    public INTEGER NOT NULL DEFAULT 0,
    device_id INTEGER REFERENCES devices(id),
    received_at TEXT NOT NULL
);
CREATE INDEX photos_by_record ON photos(record_kind, record_id);
CREATE INDEX photos_by_content ON photos(sha256);
-- When a report's personal data was erased: it takes no photos after that.
ALTER TABLE reports ADD COLUMN erased_at TEXT;
