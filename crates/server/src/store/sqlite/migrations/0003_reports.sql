-- Residents' reports and every change the councillor makes to them.
CREATE TABLE reports (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    place TEXT,
    response TEXT,
    body TEXT NOT NULL
);
CREATE INDEX reports_by_time ON reports(received_at);
CREATE TABLE report_events (
    seq INTEGER PRIMARY KEY,
    change_id TEXT UNIQUE,
    report_seq INTEGER NOT NULL REFERENCES reports(seq),
    device_id INTEGER REFERENCES devices(id),
    at TEXT NOT NULL,
    status TEXT NOT NULL,
    response TEXT,
    private_note TEXT
);
CREATE INDEX report_events_by_report ON report_events(report_seq, at);
