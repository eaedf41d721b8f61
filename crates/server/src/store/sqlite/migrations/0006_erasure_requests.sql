-- A resident's request for erasure is a column of its report, and the step
-- that erased a report is marked in its history. Until now a request was a
-- history entry whose private note said so; those entries become the column
-- (the earliest request counts) and are removed, since they changed nothing.
ALTER TABLE reports ADD COLUMN erasure_requested_at TEXT;
ALTER TABLE report_events ADD COLUMN erased INTEGER NOT NULL DEFAULT 0;
UPDATE reports SET erasure_requested_at = (
    SELECT MIN(e.at) FROM report_events e
    WHERE e.report_seq = reports.seq AND e.change_id IS NULL
      AND e.private_note = 'The resident asked for their contact details, description and exact location to be erased (beatbook-server erase-report CODE).'
);
DELETE FROM report_events
WHERE change_id IS NULL
  AND private_note = 'The resident asked for their contact details, description and exact location to be erased (beatbook-server erase-report CODE).';
