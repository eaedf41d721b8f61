-- Every revision of every record, as received: a correction never
-- overwrites what was written before. `content_hash` is the record's
-- content without its sync status (see `content_hash` in ingest.rs), so a repeat can
-- be told from a different record sent under the same revision. Each
-- record held so far becomes its first known revision.
CREATE TABLE record_revisions (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    device_id INTEGER NOT NULL REFERENCES devices(id),
    received_at TEXT NOT NULL,
    content_hash BLOB NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (kind, id, revision)
);
INSERT INTO record_revisions (kind, id, revision, device_id, received_at, content_hash, body)
    SELECT kind, id, revision, device_id, received_at, beatbook_content_hash(kind, body), body
    FROM records ORDER BY seq;
