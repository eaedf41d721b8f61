-- Residents hear back (Web Push): as SQLite's migration 12. The key is the
-- database's, so that every server of one deployment signs with it.
CREATE TABLE push_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE push_subscriptions (
    code TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (code, endpoint)
);
CREATE TABLE push_outbox (
    seq BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at TIMESTAMPTZ NOT NULL,
    claimed_until TIMESTAMPTZ
);
CREATE INDEX push_outbox_due ON push_outbox (due_at);
CREATE INDEX push_outbox_code ON push_outbox (code);
-- A councillor's phone told of each new report of its ward: one browser
-- subscription per paired device.
CREATE TABLE device_pushes (
    device_id BIGINT PRIMARY KEY REFERENCES devices (id),
    endpoint TEXT NOT NULL,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
