-- A ward team: one server holds wards, each with its people (councillors,
-- officers, the ward panel), and every paired device belongs to a person.
-- A report belongs to the ward its place lies in (NULL: outside every
-- ward, or given no place a ward was known for).
CREATE TABLE wards (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    -- The name in lower case (core's `team::ward_key`): one ward a name.
    name_key TEXT NOT NULL UNIQUE,
    -- The ward's area as a GeoJSON MultiPolygon, or NULL.
    boundary TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    ward_id INTEGER NOT NULL REFERENCES wards (id),
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('councillor', 'officer', 'viewer')),
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX people_by_ward ON people (ward_id);
ALTER TABLE devices ADD COLUMN person_id INTEGER REFERENCES people (id);
ALTER TABLE pairing_codes ADD COLUMN person_id INTEGER REFERENCES people (id);
ALTER TABLE reports ADD COLUMN ward_id INTEGER REFERENCES wards (id);

-- What one councillor kept until now becomes the first ward's, with that
-- councillor owning every device paired so far (and every code not yet
-- used). A server that kept nothing makes its first ward when it is first
-- asked to pair or invite.
INSERT INTO wards (id, name, name_key, created_at)
    SELECT 1, 'First ward', 'first ward', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE EXISTS (SELECT 1 FROM devices) OR EXISTS (SELECT 1 FROM pairing_codes)
       OR EXISTS (SELECT 1 FROM reports);
INSERT INTO people (id, ward_id, name, role, created_at)
    SELECT 1, 1, 'Councillor', 'councillor', created_at FROM wards WHERE id = 1;
UPDATE devices SET person_id = 1 WHERE EXISTS (SELECT 1 FROM people WHERE id = 1);
UPDATE pairing_codes SET person_id = 1 WHERE EXISTS (SELECT 1 FROM people WHERE id = 1);
UPDATE reports SET ward_id = 1 WHERE EXISTS (SELECT 1 FROM wards WHERE id = 1);
