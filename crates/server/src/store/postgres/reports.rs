//! Residents' reports on PostgreSQL: submission (once per id, answered
//! with a code), the public view by code, the councillor's inbox and
//! triage, erasure. The rules are core's (`Triage::applied_to`,
//! `StatusChange::public_history`, `Report::erase_personal`).

use beatbook_core::inbox::InboxFilter;
use beatbook_core::protocol::{InboxReport, Outcome, TriageEntry, TriageResult};
use beatbook_core::report::{PublicReport, Report, ReportKind, ReportStatus, Signature, Triage};
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use postgres::Transaction;
use uuid::Uuid;

use super::Postgres;
use crate::random::new_code;
use crate::store::rows::{place_pattern, status_of, ReportRow, REPORT_COLUMNS};
use crate::store::{KindCounts, Reach, Reports, StoreError, StoreResult, Telling};

fn row(r: &postgres::Row) -> ReportRow {
    ReportRow {
        seq: r.get(0),
        code: r.get(1),
        status: status_of(r.get(2)),
        response: r.get(3),
        received_at: r.get(4),
        updated_at: r.get(5),
        body: r.get(6),
        erasure_requested_at: r.get(7),
        erased_at: r.get(8),
        photos: u32::try_from(r.get::<_, i64>(9)).unwrap_or(u32::MAX),
        ward: r.get(10),
    }
}

fn history(client: &mut impl postgres::GenericClient, seq: i64) -> StoreResult<Vec<TriageEntry>> {
    let rows = client.query(
        "SELECT e.at, e.status, e.response, e.private_note, e.erased, p.name, e.signed, e.police_response
         FROM report_events e
           LEFT JOIN devices d ON d.id = e.device_id
           LEFT JOIN people p ON p.id = d.person_id
         WHERE e.report_seq = $1 ORDER BY e.at, e.seq",
        &[&seq],
    )?;
    Ok(rows
        .iter()
        .map(|r| TriageEntry {
            at: r.get(0),
            status: status_of(r.get(1)),
            response: r.get(2),
            private_note: r.get(3),
            erased: r.get(4),
            by: r.get(5),
            signed: r.get::<_, Option<&str>>(6).and_then(Signature::from_slug),
            police_response: r.get(7),
        })
        .collect())
}

/// Serialises, across servers, everything done to the report with this id.
fn lock_report(tx: &mut Transaction<'_>, id: Uuid) -> StoreResult<()> {
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&format!("report:{id}")],
    )?;
    Ok(())
}

impl Reports for Postgres {
    fn submit_report(&self, report: &Report) -> StoreResult<(String, Outcome)> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        lock_report(&mut tx, report.id)?;
        let held = tx.query_opt("SELECT code FROM reports WHERE id = $1", &[&report.id])?;
        if let Some(held) = held {
            return Ok((held.get(0), Outcome::AlreadyHad));
        }
        let now = Utc::now();
        let body = serde_json::to_string(report)?;
        let wards: Vec<(i64, String, Option<String>)> = tx
            .query("SELECT id, name, boundary FROM wards ORDER BY id", &[])?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let ward = crate::store::place_report(report, &wards);
        // A clash of random codes is astronomically unlikely; try again if so.
        for _ in 0..8 {
            let code = new_code();
            let inserted = tx.query_opt(
                "INSERT INTO reports (id, code, kind, status, created_at, received_at, updated_at, place, body, ward_id)
                 VALUES ($1, $2, $3, 'new', $4, $5, $5, $6, $7, $8)
                 ON CONFLICT (code) DO NOTHING RETURNING seq",
                &[
                    &report.id,
                    &code,
                    &report.kind.slug(),
                    &report.created_at,
                    &now,
                    &report.place,
                    &body,
                    &ward,
                ],
            )?;
            if let Some(inserted) = inserted {
                let seq: i64 = inserted.get(0);
                tx.execute(
                    "INSERT INTO report_events (report_seq, at, status) VALUES ($1, $2, 'new')",
                    &[&seq, &now],
                )?;
                let told = crate::store::new_report_notice(&code, report, ward, &wards)?;
                super::push::queue_new_report(&mut tx, &code, &told, ward)?;
                tx.commit()?;
                return Ok((code, Outcome::Stored));
            }
        }
        Err(StoreError::NoFreeCode)
    }

    fn public_report(&self, code: &str) -> StoreResult<Option<PublicReport>> {
        let mut conn = self.conn()?;
        let found = conn.query_opt(
            &format!("SELECT {REPORT_COLUMNS} FROM reports WHERE code = $1 AND removed_at IS NULL"),
            &[&code],
        )?;
        let Some(found) = found.as_ref().map(row) else {
            return Ok(None);
        };
        let steps = history(&mut *conn, found.seq)?;
        found.public(steps).map(Some)
    }

    fn inbox(
        &self,
        filter: &InboxFilter,
        reach: Reach,
    ) -> StoreResult<(Vec<InboxReport>, KindCounts)> {
        let mut conn = self.conn()?;
        let place = filter.place.as_deref().map(place_pattern);
        let (ward, outside, every) = reach.params();
        let wheres = "($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR status = $2)
             AND ($3::timestamptz IS NULL OR received_at >= $3)
             AND ($4::timestamptz IS NULL OR received_at < $4)
             AND ($5::text IS NULL OR place ILIKE $5)
             AND (NOT $6 OR (erasure_requested_at IS NOT NULL AND erased_at IS NULL))
             AND ($9 OR ward_id = $7::bigint OR ($8 AND ward_id IS NULL))
             AND removed_at IS NULL";
        let kind = filter.kind.map(ReportKind::slug);
        let status = filter.status.map(ReportStatus::slug);
        let args: [&(dyn postgres::types::ToSql + Sync); 9] = [
            &kind,
            &status,
            &filter.from,
            &filter.to,
            &place,
            &filter.awaiting_erasure,
            &ward,
            &outside,
            &every,
        ];
        let mut counts = KindCounts::new();
        for r in conn.query(
            &format!("SELECT kind, COUNT(*) FROM reports WHERE {wheres} GROUP BY kind"),
            &args,
        )? {
            if let Some(kind) = ReportKind::from_slug(r.get(0)) {
                counts.insert(kind, u32::try_from(r.get::<_, i64>(1)).unwrap_or(u32::MAX));
            }
        }
        let found = conn.query(
            &format!(
                "SELECT {REPORT_COLUMNS} FROM reports WHERE {wheres}
                 ORDER BY received_at DESC, seq DESC LIMIT {}",
                filter.limit
            ),
            &args,
        )?;
        let mut reports = Vec::with_capacity(found.len());
        for found in &found {
            let found = row(found);
            let history = history(&mut *conn, found.seq)?;
            reports.push(found.inbox(history)?);
        }
        Ok((reports, counts))
    }

    fn triage(&self, device_id: i64, changes: &[Triage]) -> StoreResult<Vec<TriageResult>> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let mut results = Vec::with_capacity(changes.len());
        for change in changes {
            results.push(apply_triage(&mut tx, device_id, change)?);
        }
        tx.commit()?;
        if changes.iter().any(|c| c.erase) {
            self.forget_old_versions(&mut conn)?;
        }
        Ok(results)
    }

    fn erase_report(&self, code: &str) -> StoreResult<bool> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let Some(found) = tx.query_opt("SELECT id FROM reports WHERE code = $1", &[&code])? else {
            return Ok(false);
        };
        let id: Uuid = found.get(0);
        lock_report(&mut tx, id)?;
        erase_personal(&mut tx, id, Utc::now())?;
        tx.commit()?;
        self.forget_old_versions(&mut conn)?;
        Ok(true)
    }

    fn report_code(&self, id: Uuid) -> StoreResult<Option<String>> {
        Ok(self
            .conn()?
            .query_opt("SELECT code FROM reports WHERE id = $1", &[&id])?
            .map(|r| r.get(0)))
    }

    fn request_erasure(&self, code: &str) -> StoreResult<bool> {
        // The first request counts; asking again changes nothing.
        let found = self.conn()?.execute(
            "UPDATE reports SET erasure_requested_at = COALESCE(erasure_requested_at, $2)
             WHERE code = $1 AND removed_at IS NULL",
            &[&code, &Utc::now()],
        )?;
        Ok(found == 1)
    }

    fn expire_contacts(&self, closed_before: DateTime<Utc>) -> StoreResult<usize> {
        let mut conn = self.conn()?;
        // The hourly run rewrites the tables again after an erasure: what an
        // older transaction still saw then is gone by now.
        if self.erased.swap(false, Ordering::Relaxed) {
            forget_old_versions(&mut conn)?;
        }
        let mut tx = conn.transaction()?;
        // Closed, and closed before the cut-off (not merely last touched then).
        let closed = tx.query(
            "SELECT r.id FROM reports r WHERE r.status = $1
               AND (SELECT MAX(e.at) FROM report_events e
                    WHERE e.report_seq = r.seq AND e.status = $1) < $2",
            &[&ReportStatus::Closed.slug(), &closed_before],
        )?;
        super::push::forget_stale_pushes(&mut tx)?;
        let mut forgotten = 0;
        for found in closed {
            let id: Uuid = found.get(0);
            lock_report(&mut tx, id)?;
            if rewrite(&mut tx, id, Report::forget_contact)? {
                forgotten += 1;
            }
        }
        tx.commit()?;
        if forgotten > 0 {
            self.forget_old_versions(&mut conn)?;
        }
        Ok(forgotten)
    }
}

impl Postgres {
    /// [`forget_old_versions`] now, and again at the next hourly run.
    fn forget_old_versions(&self, conn: &mut postgres::Client) -> StoreResult<()> {
        self.erased.store(true, Ordering::Relaxed);
        forget_old_versions(conn)
    }
}

/// After an erasure: PostgreSQL keeps a changed row's old version in its
/// files until vacuum reuses the space, and a plain vacuum frees the space
/// without overwriting it. Rewriting the tables that held what was erased
/// (`VACUUM FULL`: each table copied into new files, the old files
/// removed) leaves none of it in the tables' files, except a version an
/// older transaction still sees (a dump under way, another server's
/// request): the next hourly run's rewrite takes that. The tables are
/// locked while they are copied: for a ward's reports, a moment.
fn forget_old_versions(conn: &mut postgres::Client) -> StoreResult<()> {
    conn.batch_execute(
        "VACUUM (FULL) reports, report_events, photos, photo_contents, push_subscriptions, push_outbox",
    )?;
    Ok(())
}

fn apply_triage(
    tx: &mut Transaction<'_>,
    device_id: i64,
    change: &Triage,
) -> StoreResult<TriageResult> {
    let answer = |outcome, reason: Option<String>| TriageResult {
        id: change.id,
        outcome,
        reason,
    };
    // Locked first, so a change sent to two servers at once is seen by the
    // second as already had.
    lock_report(tx, change.report_id)?;
    let seen = tx.query_opt(
        "SELECT 1 FROM report_events WHERE change_id = $1",
        &[&change.id],
    )?;
    if seen.is_some() {
        return Ok(answer(Outcome::AlreadyHad, None));
    }
    // Only a report of the device's ward, or (a councillor's change) of
    // none: an officer speaks for the police of their own ward.
    let current = tx.query_opt(
        "SELECT seq, status, erased_at, code, response FROM reports WHERE id = $1
           AND (ward_id = (SELECT p.ward_id FROM devices d
                JOIN people p ON p.id = d.person_id WHERE d.id = $2)
                OR (ward_id IS NULL AND NOT $3))",
        &[&change.report_id, &device_id, &change.is_police_only()],
    )?;
    let Some(current) = current else {
        return Ok(answer(
            Outcome::Rejected,
            Some("there is no report with this id".into()),
        ));
    };
    let seq: i64 = current.get(0);
    let (code, response): (String, Option<String>) = (current.get(3), current.get(4));
    let status = status_of(current.get(1));
    let step = match change.applied_to(status, current.get(2)) {
        Ok(step) => step,
        Err(reason) => return Ok(answer(Outcome::Rejected, Some(reason))),
    };
    if step.erase {
        // Before the step is recorded: erasure empties every private note.
        erase_personal(tx, change.report_id, step.at)?;
    }
    tx.execute(
        "INSERT INTO report_events
           (change_id, report_seq, device_id, at, status, response, private_note, erased, signed, police_response)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &step.id,
            &seq,
            &device_id,
            &step.at,
            &step.status.slug(),
            &step.response,
            &step.private_note,
            &step.erase,
            &step.signed.map(Signature::slug),
            &step.police_response,
        ],
    )?;
    tx.execute(
        "UPDATE reports SET status = $1, response = COALESCE($2, response),
             updated_at = GREATEST(updated_at, $3),
             removed_at = CASE WHEN $4 THEN COALESCE(removed_at, $3) ELSE removed_at END
         WHERE seq = $5",
        &[
            &step.status.slug(),
            &step.response,
            &step.at,
            &step.spam,
            &seq,
        ],
    )?;
    // A resident who asked to hear back is told what their page now shows.
    let telling = Telling::of_step(&code, status, response.as_deref(), &step)?;
    super::push::queue_notice(tx, &code, &telling)?;
    Ok(answer(Outcome::Stored, None))
}

/// Erases a report's personal data as core's `Report::erase_personal`
/// says, empties the private notes on it, and removes its photos (and the
/// bytes no other photo shares).
fn erase_personal(tx: &mut Transaction<'_>, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
    rewrite(tx, id, |report| {
        report.erase_personal(at);
        true
    })?;
    tx.execute(
        "UPDATE report_events SET private_note = NULL
         WHERE report_seq = (SELECT seq FROM reports WHERE id = $1)",
        &[&id],
    )?;
    super::photos::erase_photos(tx, id)?;
    let code: String = tx
        .query_one(
            "UPDATE reports SET erased_at = COALESCE(erased_at, $2) WHERE id = $1 RETURNING code",
            &[&id, &at],
        )?
        .get(0);
    // After the report's row is written (and so locked): a subscription
    // made meanwhile waited for that lock, and is seen and removed here.
    super::push::forget_subscriptions(tx, &code)?;
    Ok(())
}

/// Rewrites a report's stored copy with `change`, if it changes anything;
/// whether it did.
fn rewrite(
    tx: &mut Transaction<'_>,
    id: Uuid,
    change: impl FnOnce(&mut Report) -> bool,
) -> StoreResult<bool> {
    let body: String = tx
        .query_one("SELECT body FROM reports WHERE id = $1", &[&id])?
        .get(0);
    let mut report: Report = serde_json::from_str(&body)?;
    if !change(&mut report) {
        return Ok(false);
    }
    tx.execute(
        "UPDATE reports SET body = $1 WHERE id = $2",
        &[&serde_json::to_string(&report)?, &id],
    )?;
    Ok(true)
}
