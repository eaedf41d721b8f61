-- Reports the councillor removed as spam: closed and erased, and no longer
-- in the inbox, the exports or on a public page. The row stays, so the
-- code is never given again and a resend of the same report is answered
-- as before.
ALTER TABLE reports ADD COLUMN removed_at TEXT;
