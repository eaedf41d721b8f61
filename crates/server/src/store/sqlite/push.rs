//! Residents' push subscriptions in SQLite, and the notifications waiting
//! to go (queued by triage, in `reports.rs`).

use beatbook_core::protocol::PushSubscription;
use beatbook_core::report::{ReportStatus, MAX_SUBSCRIPTIONS};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

use super::{now_text, time_key, Sqlite};
use crate::store::rows::status_of;
use crate::store::{DuePush, PushOutcome, Pushes, StoreResult, Subscribed, Telling};

impl Pushes for Sqlite {
    fn push_key(&self, fresh: &[u8]) -> StoreResult<Vec<u8>> {
        let mut conn = self.conn();
        let tx = super::write(&mut conn)?;
        tx.execute(
            "INSERT INTO push_key (id, secret, created_at) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO NOTHING",
            params![fresh, now_text()],
        )?;
        let kept = tx.query_row("SELECT secret FROM push_key WHERE id = 1", [], |r| r.get(0))?;
        tx.commit()?;
        Ok(kept)
    }

    fn subscribe(&self, code: &str, subscription: &PushSubscription) -> StoreResult<Subscribed> {
        let mut conn = self.conn();
        let tx = super::write(&mut conn)?;
        let report: Option<(String, bool, bool)> = tx
            .query_row(
                "SELECT status, removed_at IS NOT NULL, erased_at IS NOT NULL
                 FROM reports WHERE code = ?1",
                params![code],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let answer = match report {
            None | Some((_, true, _)) => Subscribed::NoReport,
            Some((status, _, erased)) if erased || status_of(&status) == ReportStatus::Closed => {
                Subscribed::Closed
            }
            Some(_) => subscribe_to(&tx, code, subscription)?,
        };
        tx.commit()?;
        Ok(answer)
    }

    fn unsubscribe(&self, code: &str, endpoint: &str) -> StoreResult<bool> {
        let mut conn = self.conn();
        let tx = super::write(&mut conn)?;
        let removed = tx.execute(
            "DELETE FROM push_subscriptions WHERE code = ?1 AND endpoint = ?2",
            params![code, endpoint],
        )?;
        tx.execute(
            "DELETE FROM push_outbox WHERE code = ?1 AND endpoint = ?2",
            params![code, endpoint],
        )?;
        tx.commit()?;
        Ok(removed > 0)
    }

    fn subscriptions(&self, code: &str) -> StoreResult<usize> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM push_subscriptions WHERE code = ?1",
            params![code],
            |r| r.get(0),
        )?)
    }

    fn due_pushes(
        &self,
        now: DateTime<Utc>,
        claim: chrono::Duration,
        limit: usize,
    ) -> StoreResult<Vec<DuePush>> {
        let mut conn = self.conn();
        let tx = super::write(&mut conn)?;
        let due = {
            let mut statement = tx.prepare_cached(
                "UPDATE push_outbox SET claimed_until = ?2
                 WHERE seq IN (SELECT seq FROM push_outbox
                               WHERE due_at <= ?1 AND (claimed_until IS NULL OR claimed_until <= ?1)
                               ORDER BY seq LIMIT ?3)
                 RETURNING seq, code, endpoint, p256dh, auth, payload, attempts",
            )?;
            let rows = statement.query_map(
                params![time_key(now), time_key(now + claim), limit as i64],
                |r| {
                    Ok(DuePush {
                        seq: r.get(0)?,
                        code: r.get(1)?,
                        endpoint: r.get(2)?,
                        p256dh: r.get(3)?,
                        auth: r.get(4)?,
                        payload: r.get(5)?,
                        attempts: r.get(6)?,
                    })
                },
            )?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        tx.commit()?;
        // RETURNING gives rows in no set order.
        let mut due = due;
        due.sort_by_key(|d| d.seq);
        Ok(due)
    }

    fn pushed(&self, push: &DuePush, outcome: PushOutcome) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = super::write(&mut conn)?;
        match outcome {
            PushOutcome::Sent | PushOutcome::GaveUp => {
                tx.execute("DELETE FROM push_outbox WHERE seq = ?1", params![push.seq])?;
            }
            PushOutcome::Gone => {
                tx.execute(
                    "DELETE FROM push_subscriptions WHERE endpoint = ?1",
                    params![push.endpoint],
                )?;
                tx.execute(
                    "DELETE FROM device_pushes WHERE endpoint = ?1",
                    params![push.endpoint],
                )?;
                tx.execute(
                    "DELETE FROM push_outbox WHERE endpoint = ?1",
                    params![push.endpoint],
                )?;
            }
            PushOutcome::Retry(at) => {
                tx.execute(
                    "UPDATE push_outbox SET attempts = attempts + 1, due_at = ?2, claimed_until = NULL
                     WHERE seq = ?1",
                    params![push.seq, time_key(at)],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn subscribe_device(&self, device_id: i64, subscription: &PushSubscription) -> StoreResult<()> {
        self.conn().execute(
            "INSERT INTO device_pushes (device_id, endpoint, p256dh, auth, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (device_id) DO UPDATE SET endpoint = excluded.endpoint,
                 p256dh = excluded.p256dh, auth = excluded.auth",
            params![
                device_id,
                subscription.endpoint,
                subscription.keys.p256dh,
                subscription.keys.auth,
                now_text()
            ],
        )?;
        Ok(())
    }

    fn unsubscribe_device(&self, device_id: i64) -> StoreResult<bool> {
        Ok(self.conn().execute(
            "DELETE FROM device_pushes WHERE device_id = ?1",
            params![device_id],
        )? > 0)
    }
}

/// Queues `notice` of a new report for the live councillors' devices told
/// of new reports: the report's ward's, or every ward's for a report
/// outside them (as the inbox shows it).
pub(super) fn queue_new_report(
    tx: &Transaction<'_>,
    code: &str,
    payload: &str,
    ward: Option<i64>,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO push_outbox (code, endpoint, p256dh, auth, payload, due_at)
         SELECT ?1, dp.endpoint, dp.p256dh, dp.auth, ?2, ?3 FROM device_pushes dp
           JOIN devices d ON d.id = dp.device_id
           JOIN people p ON p.id = d.person_id
         WHERE d.revoked_at IS NULL AND p.revoked_at IS NULL AND p.role = 'councillor'
           AND (?4 IS NULL OR p.ward_id = ?4)",
        params![code, payload, now_text(), ward],
    )?;
    Ok(())
}

/// A browser that asked already has its keys renewed; a new one is held
/// while the report holds fewer than it may.
fn subscribe_to(
    tx: &Transaction<'_>,
    code: &str,
    subscription: &PushSubscription,
) -> StoreResult<Subscribed> {
    let renewed = tx.execute(
        "UPDATE push_subscriptions SET p256dh = ?3, auth = ?4 WHERE code = ?1 AND endpoint = ?2",
        params![
            code,
            subscription.endpoint,
            subscription.keys.p256dh,
            subscription.keys.auth
        ],
    )?;
    if renewed > 0 {
        return Ok(Subscribed::Already);
    }
    let held: usize = tx.query_row(
        "SELECT COUNT(*) FROM push_subscriptions WHERE code = ?1",
        params![code],
        |r| r.get(0),
    )?;
    if held >= MAX_SUBSCRIPTIONS {
        return Ok(Subscribed::Full);
    }
    tx.execute(
        "INSERT INTO push_subscriptions (code, endpoint, p256dh, auth, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            code,
            subscription.endpoint,
            subscription.keys.p256dh,
            subscription.keys.auth,
            now_text()
        ],
    )?;
    Ok(Subscribed::Added)
}

/// Queues what a triage step tells (`telling`) for every browser that asked
/// to hear back about the report, in the step's transaction; a report
/// closed by that step holds no subscriptions after it (the closing notice
/// still goes), and one removed as junk neither subscriptions nor anything
/// waiting.
pub(super) fn queue_notice(tx: &Transaction<'_>, code: &str, telling: &Telling) -> StoreResult<()> {
    if telling.junk {
        return forget_subscriptions(tx, code);
    }
    if let Some(payload) = &telling.payload {
        tx.execute(
            "INSERT INTO push_outbox (code, endpoint, p256dh, auth, payload, due_at)
             SELECT code, endpoint, p256dh, auth, ?2, ?3 FROM push_subscriptions WHERE code = ?1",
            params![code, payload, now_text()],
        )?;
    }
    if telling.ends {
        tx.execute(
            "DELETE FROM push_subscriptions WHERE code = ?1",
            params![code],
        )?;
    }
    Ok(())
}

/// An erased report's subscriptions, and whatever waits for them, go.
pub(super) fn forget_subscriptions(tx: &Transaction<'_>, code: &str) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM push_subscriptions WHERE code = ?1",
        params![code],
    )?;
    tx.execute("DELETE FROM push_outbox WHERE code = ?1", params![code])?;
    Ok(())
}

/// Notifications that waited longer than a push service would have kept
/// them go (with the copies of the browsers' addresses they hold).
pub(super) fn forget_stale_pushes(tx: &Transaction<'_>) -> StoreResult<()> {
    let stale = Utc::now() - chrono::Duration::seconds(i64::from(crate::push::send::TTL_SECONDS));
    tx.execute(
        "DELETE FROM push_outbox WHERE due_at < ?1",
        params![time_key(stale)],
    )?;
    Ok(())
}
