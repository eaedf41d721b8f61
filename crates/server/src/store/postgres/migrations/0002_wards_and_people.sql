-- A ward team: one server holds wards, each with its people (councillors,
-- officers, the ward panel), and every paired device belongs to a person.
-- A report belongs to the ward its place lies in (NULL: outside every
-- ward, or given no place a ward was known for).
CREATE TABLE wards (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    -- The name in lower case (core's `team::ward_key`): one ward a name.
    name_key TEXT NOT NULL UNIQUE,
    -- The ward's area as a GeoJSON MultiPolygon, or NULL.
    boundary TEXT,
    created_at TIMESTAMPTZ(3) NOT NULL
);
CREATE TABLE people (
    id BIGSERIAL PRIMARY KEY,
    ward_id BIGINT NOT NULL REFERENCES wards (id),
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('councillor', 'officer', 'viewer')),
    created_at TIMESTAMPTZ(3) NOT NULL,
    revoked_at TIMESTAMPTZ(3)
);
CREATE INDEX people_by_ward ON people (ward_id);
ALTER TABLE devices ADD COLUMN person_id BIGINT REFERENCES people (id);
ALTER TABLE pairing_codes ADD COLUMN person_id BIGINT REFERENCES people (id);
ALTER TABLE reports ADD COLUMN ward_id BIGINT REFERENCES wards (id);

-- What one councillor kept until now becomes the first ward's, with that
-- councillor owning every device paired so far (and every code not yet
-- used). A server that kept nothing makes its first ward when it is first
-- asked to pair or invite.
INSERT INTO wards (name, name_key, created_at)
    SELECT 'First ward', 'first ward', now()
    WHERE EXISTS (SELECT 1 FROM devices) OR EXISTS (SELECT 1 FROM pairing_codes)
       OR EXISTS (SELECT 1 FROM reports);
INSERT INTO people (ward_id, name, role, created_at)
    SELECT id, 'Councillor', 'councillor', created_at FROM wards;
UPDATE devices SET person_id = (SELECT MIN(id) FROM people);
UPDATE pairing_codes SET person_id = (SELECT MIN(id) FROM people);
UPDATE reports SET ward_id = (SELECT MIN(id) FROM wards);
