-- What each paired device has stored on the server, in bytes of record
-- bodies (every revision kept) and of the note photos it sent, so a
-- device past its quota is refused before the disk fills. Counted from
-- what is held now.
ALTER TABLE devices ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE devices SET stored_bytes =
    (SELECT COALESCE(SUM(length(CAST(body AS BLOB))), 0) FROM record_revisions
      WHERE record_revisions.device_id = devices.id)
  + (SELECT COALESCE(SUM(bytes), 0) FROM photos WHERE photos.device_id = devices.id);
