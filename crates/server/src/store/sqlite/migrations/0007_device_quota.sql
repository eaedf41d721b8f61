-- What each paired device has stored on the server, so a device past its
-- quota is refused before the database or the disk fills: in bytes of
-- record bodies (every revision kept), and apart from that, of the note
-- photos it sent. Counted from what is held now.
ALTER TABLE devices ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN photo_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE devices SET
    stored_bytes = (SELECT COALESCE(SUM(length(CAST(body AS BLOB))), 0) FROM record_revisions
                     WHERE record_revisions.device_id = devices.id),
    photo_bytes = (SELECT COALESCE(SUM(bytes), 0) FROM photos WHERE photos.device_id = devices.id);
