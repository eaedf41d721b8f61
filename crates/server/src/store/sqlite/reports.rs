//! Residents' reports in SQLite: submission (once per id, answered with a
//! code), the public view by code, the councillor's inbox and triage.

use beatbook_core::inbox::InboxFilter;
use beatbook_core::protocol::{InboxReport, Outcome, TriageEntry, TriageResult};
use beatbook_core::report::{PublicReport, Report, ReportKind, ReportStatus, Signature, Triage};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};
use uuid::Uuid;

use super::{now_text, time_key, Sqlite};
use crate::random::new_code;
use crate::store::rows::{place_pattern, status_of, ReportRow, REPORT_COLUMNS};
use crate::store::{KindCounts, Reach, Reports, StoreError, StoreResult, Telling};

fn parse_time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReportRow> {
    Ok(ReportRow {
        seq: r.get(0)?,
        code: r.get(1)?,
        status: status_of(&r.get::<_, String>(2)?),
        response: r.get(3)?,
        received_at: parse_time(&r.get::<_, String>(4)?),
        updated_at: parse_time(&r.get::<_, String>(5)?),
        body: r.get(6)?,
        erasure_requested_at: r.get::<_, Option<String>>(7)?.as_deref().map(parse_time),
        erased_at: r.get::<_, Option<String>>(8)?.as_deref().map(parse_time),
        photos: r.get(9)?,
        ward: r.get(10)?,
    })
}

fn history(tx: &rusqlite::Connection, seq: i64) -> StoreResult<Vec<TriageEntry>> {
    let mut statement = tx.prepare_cached(
        "SELECT e.at, e.status, e.response, e.private_note, e.erased, p.name, e.signed, e.police_response
         FROM report_events e
           LEFT JOIN devices d ON d.id = e.device_id
           LEFT JOIN people p ON p.id = d.person_id
         WHERE e.report_seq = ?1 ORDER BY e.at, e.seq",
    )?;
    let entries = statement
        .query_map(params![seq], |r| {
            Ok(TriageEntry {
                at: parse_time(&r.get::<_, String>(0)?),
                status: status_of(&r.get::<_, String>(1)?),
                response: r.get(2)?,
                private_note: r.get(3)?,
                erased: r.get(4)?,
                by: r.get(5)?,
                signed: r
                    .get::<_, Option<String>>(6)?
                    .as_deref()
                    .and_then(Signature::from_slug),
                police_response: r.get(7)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(entries)
}

impl Reports for Sqlite {
    /// Stores a checked report and answers with its code. A report sent
    /// again (same id) is answered `already_had` with the code it was given.
    fn submit_report(&self, report: &Report) -> StoreResult<(String, Outcome)> {
        let mut conn = self.conn();
        let tx = super::write(&mut conn)?;
        let id = report.id.to_string();
        let held: Option<String> = tx
            .query_row("SELECT code FROM reports WHERE id = ?1", params![id], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(code) = held {
            return Ok((code, Outcome::AlreadyHad));
        }
        let now = now_text();
        let body = serde_json::to_string(report)?;
        let wards: Vec<(i64, String, Option<String>)> = {
            let mut statement =
                tx.prepare_cached("SELECT id, name, boundary FROM wards ORDER BY id")?;
            let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let ward = crate::store::place_report(report, &wards);
        // A clash of random codes is astronomically unlikely; try again if so.
        for _ in 0..8 {
            let code = new_code();
            let inserted = tx.execute(
                "INSERT INTO reports (id, code, kind, status, created_at, received_at, updated_at, place, body, ward_id)
                 VALUES (?1, ?2, ?3, 'new', ?4, ?5, ?5, ?6, ?7, ?8)
                 ON CONFLICT (code) DO NOTHING",
                params![
                    id,
                    code,
                    report.kind.slug(),
                    time_key(report.created_at),
                    now,
                    report.place,
                    body,
                    ward
                ],
            )?;
            if inserted == 1 {
                tx.execute(
                    "INSERT INTO report_events (report_seq, at, status) VALUES (last_insert_rowid(), ?1, 'new')",
                    params![now],
                )?;
                let told = crate::store::new_report_notice(&code, report, ward, &wards)?;
                super::push::queue_new_report(&tx, &code, &told, ward)?;
                tx.commit()?;
                return Ok((code, Outcome::Stored));
            }
        }
        Err(StoreError::NoFreeCode)
    }

    /// What anyone with the code may see; `None` if no report has it.
    fn public_report(&self, code: &str) -> StoreResult<Option<PublicReport>> {
        let conn = self.conn();
        let found = conn
            .query_row(
                &format!(
                    "SELECT {REPORT_COLUMNS} FROM reports WHERE code = ?1 AND removed_at IS NULL"
                ),
                params![code],
                row,
            )
            .optional()?;
        let Some(found) = found else {
            return Ok(None);
        };
        let steps = history(&conn, found.seq)?;
        found.public(steps).map(Some)
    }

    /// The councillor's inbox: matching reports newest first, with their
    /// history, and how many of each kind match (before the limit).
    fn inbox(
        &self,
        filter: &InboxFilter,
        reach: Reach,
    ) -> StoreResult<(Vec<InboxReport>, KindCounts)> {
        let conn = self.conn();
        let place = filter.place.as_deref().map(place_pattern);
        let (ward, outside, every) = reach.params();
        let wheres = "(?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR status = ?2)
             AND (?3 IS NULL OR received_at >= ?3) AND (?4 IS NULL OR received_at < ?4)
             AND (?5 IS NULL OR place LIKE ?5 ESCAPE '\\')
             AND (?6 = 0 OR (erasure_requested_at IS NOT NULL AND erased_at IS NULL))
             AND (?9 OR ward_id = ?7 OR (?8 AND ward_id IS NULL))
             AND removed_at IS NULL";
        let args = params![
            filter.kind.map(ReportKind::slug),
            filter.status.map(ReportStatus::slug),
            filter.from.map(time_key),
            filter.to.map(time_key),
            place,
            filter.awaiting_erasure,
            ward,
            outside,
            every,
        ];
        let mut counts = KindCounts::new();
        let mut statement = conn.prepare(&format!(
            "SELECT kind, COUNT(*) FROM reports WHERE {wheres} GROUP BY kind"
        ))?;
        let mut rows = statement.query(args)?;
        while let Some(r) = rows.next()? {
            if let Some(kind) = ReportKind::from_slug(&r.get::<_, String>(0)?) {
                counts.insert(kind, r.get(1)?);
            }
        }
        let mut statement = conn.prepare(&format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE {wheres} ORDER BY received_at DESC, seq DESC LIMIT {}",
            filter.limit
        ))?;
        let found: Vec<ReportRow> = statement.query_map(args, row)?.collect::<Result<_, _>>()?;
        let mut reports = Vec::with_capacity(found.len());
        for found in found {
            let history = history(&conn, found.seq)?;
            reports.push(found.inbox(history)?);
        }
        Ok((reports, counts))
    }

    /// Applies the councillor's changes in the order given, each at most
    /// once, and answers for each.
    fn triage(&self, device_id: i64, changes: &[Triage]) -> StoreResult<Vec<TriageResult>> {
        let mut conn = self.conn();
        let tx = super::write(&mut conn)?;
        let results = changes
            .iter()
            .map(|change| self.apply_triage(&tx, device_id, change))
            .collect::<StoreResult<Vec<_>>>()?;
        tx.commit()?;
        if changes.iter().any(|c| c.erase) {
            forget_old_pages(&conn)?;
        }
        Ok(results)
    }

    fn report_code(&self, id: Uuid) -> StoreResult<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT code FROM reports WHERE id = ?1",
                params![id.to_string()],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn erase_report(&self, code: &str) -> StoreResult<bool> {
        let mut conn = self.conn();
        let tx = super::write(&mut conn)?;
        let Some((seq, _)) = by_code(&tx, code, "code")? else {
            return Ok(false);
        };
        self.erase_personal(&tx, seq, Utc::now())?;
        tx.commit()?;
        forget_old_pages(&conn)?;
        Ok(true)
    }

    fn request_erasure(&self, code: &str) -> StoreResult<bool> {
        let mut conn = self.conn();
        let tx = super::write(&mut conn)?;
        // The first request counts; asking again changes nothing.
        let found = tx.execute(
            "UPDATE reports SET erasure_requested_at = COALESCE(erasure_requested_at, ?2)
             WHERE code = ?1 AND removed_at IS NULL",
            params![code, now_text()],
        )?;
        tx.commit()?;
        Ok(found == 1)
    }

    fn expire_contacts(&self, closed_before: DateTime<Utc>) -> StoreResult<usize> {
        let mut conn = self.conn();
        let tx = super::write(&mut conn)?;
        let closed: Vec<(i64, String)> = tx
            // Closed, and closed before the cut-off (not merely last touched
            // then).
            .prepare(
                "SELECT r.seq, r.body FROM reports r WHERE r.status = ?1
                   AND (SELECT MAX(e.at) FROM report_events e
                        WHERE e.report_seq = r.seq AND e.status = ?1) < ?2",
            )?
            .query_map(
                params![ReportStatus::Closed.slug(), time_key(closed_before)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .collect::<Result<_, _>>()?;
        super::push::forget_stale_pushes(&tx)?;
        let mut forgotten = 0;
        for (seq, body) in closed {
            if rewrite(&tx, seq, &body, Report::forget_contact)? {
                forgotten += 1;
            }
        }
        tx.commit()?;
        if forgotten > 0 {
            forget_old_pages(&conn)?;
        }
        Ok(forgotten)
    }
}

impl Sqlite {
    fn apply_triage(
        &self,
        tx: &Transaction<'_>,
        device_id: i64,
        change: &Triage,
    ) -> StoreResult<TriageResult> {
        let answer = |outcome, reason: Option<String>| TriageResult {
            id: change.id,
            outcome,
            reason,
        };
        let change_id = change.id.to_string();
        let seen: bool = tx
            .query_row(
                "SELECT 1 FROM report_events WHERE change_id = ?1",
                params![change_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if seen {
            return Ok(answer(Outcome::AlreadyHad, None));
        }
        // Only a report of the device's ward, or (a councillor's change)
        // of none: an officer speaks for the police of their own ward.
        // Its row, status, erasure, code and public response.
        type Current = (i64, String, Option<String>, String, Option<String>);
        let current: Option<Current> = tx
            .query_row(
                "SELECT seq, status, erased_at, code, response FROM reports WHERE id = ?1
                   AND (ward_id = (SELECT p.ward_id FROM devices d
                        JOIN people p ON p.id = d.person_id WHERE d.id = ?2)
                        OR (ward_id IS NULL AND NOT ?3))",
                params![
                    change.report_id.to_string(),
                    device_id,
                    change.is_police_only()
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let Some((seq, status, erased_at, code, response)) = current else {
            return Ok(answer(
                Outcome::Rejected,
                Some("there is no report with this id".into()),
            ));
        };
        let status = status_of(&status);
        let erased_at = erased_at.as_deref().map(parse_time);
        let change = match change.applied_to(status, erased_at) {
            Ok(step) => step,
            Err(reason) => return Ok(answer(Outcome::Rejected, Some(reason))),
        };
        let change = &change;
        let at = time_key(change.at);
        if change.erase {
            // Before the step is recorded: erasure empties every private note.
            self.erase_personal(tx, seq, change.at)?;
        }
        tx.execute(
            "INSERT INTO report_events
               (change_id, report_seq, device_id, at, status, response, private_note, erased, signed, police_response)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                change_id,
                seq,
                device_id,
                at,
                change.status.slug(),
                change.response,
                change.private_note,
                change.erase,
                change.signed.map(Signature::slug),
                change.police_response,
            ],
        )?;
        tx.execute(
            "UPDATE reports SET status = ?1, response = COALESCE(?2, response), updated_at = MAX(updated_at, ?3)
             WHERE seq = ?4",
            params![change.status.slug(), change.response, at, seq],
        )?;
        if change.spam {
            tx.execute(
                "UPDATE reports SET removed_at = COALESCE(removed_at, ?1) WHERE seq = ?2",
                params![at, seq],
            )?;
        }
        // A resident who asked to hear back is told what their page now
        // shows.
        let telling = Telling::of_step(&code, status, response.as_deref(), change)?;
        super::push::queue_notice(tx, &code, &telling)?;
        Ok(answer(Outcome::Stored, None))
    }

    /// Erases a report's personal data as core's `Report::erase_personal`
    /// says, empties the private notes on it, and removes its photos (the
    /// files first, so an erasure cut short leaves none on disk; run again,
    /// it removes the rows). The caller commits, then forgets the old pages.
    fn erase_personal(&self, tx: &Transaction<'_>, seq: i64, at: DateTime<Utc>) -> StoreResult<()> {
        let (id, body, code): (String, String, String) = tx.query_row(
            "SELECT id, body, code FROM reports WHERE seq = ?1",
            [seq],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        super::push::forget_subscriptions(tx, &code)?;
        rewrite(tx, seq, &body, |report| {
            report.erase_personal(at);
            true
        })?;
        tx.execute(
            "UPDATE report_events SET private_note = NULL WHERE report_seq = ?1",
            params![seq],
        )?;
        self.erase_photos(tx, &id)?;
        tx.execute(
            "UPDATE reports SET erased_at = COALESCE(erased_at, ?2) WHERE seq = ?1",
            params![seq, time_key(at)],
        )?;
        Ok(())
    }
}

/// The report with this code: its row number and one of its text columns.
fn by_code(tx: &Transaction<'_>, code: &str, column: &str) -> StoreResult<Option<(i64, String)>> {
    Ok(tx
        .query_row(
            &format!("SELECT seq, {column} FROM reports WHERE code = ?1"),
            params![code],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Rewrites a report's stored copy with `change`, if it changes anything;
/// whether it did.
fn rewrite(
    tx: &Transaction<'_>,
    seq: i64,
    body: &str,
    change: impl FnOnce(&mut Report) -> bool,
) -> StoreResult<bool> {
    let mut report: Report = serde_json::from_str(body)?;
    if !change(&mut report) {
        return Ok(false);
    }
    tx.execute(
        "UPDATE reports SET body = ?1 WHERE seq = ?2",
        params![serde_json::to_string(&report)?, seq],
    )?;
    Ok(true)
}

/// After an erasure: the log, which still holds the pages as they were, is
/// copied into the database and emptied (`secure_delete` has overwritten
/// the freed space in the database itself).
fn forget_old_pages(conn: &rusqlite::Connection) -> StoreResult<()> {
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}
