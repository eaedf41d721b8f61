-- Residents hear back (Web Push). The server's application (VAPID) key;
-- each report's push subscriptions, held against its code alone, apart
-- from the report; and the notifications waiting to be sent, each a copy
-- of its subscription's address and keys, so that one made as a report
-- closes (which deletes its subscriptions) still goes.
CREATE TABLE push_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE push_subscriptions (
    code TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (code, endpoint)
) WITHOUT ROWID;
CREATE TABLE push_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at TEXT NOT NULL,
    claimed_until TEXT
);
CREATE INDEX push_outbox_due ON push_outbox (due_at);
CREATE INDEX push_outbox_code ON push_outbox (code);
-- A councillor's phone told of each new report of its ward: one browser
-- subscription per paired device.
CREATE TABLE device_pushes (
    device_id INTEGER PRIMARY KEY REFERENCES devices (id),
    endpoint TEXT NOT NULL,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    created_at TEXT NOT NULL
);
