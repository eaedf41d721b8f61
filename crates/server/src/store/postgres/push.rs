//! Residents' push subscriptions in PostgreSQL, and the notifications
//! waiting to go (queued by triage, in `reports.rs`): as SQLite keeps them,
//! with each notification claimed by one server of a deployment.

use beatbook_core::protocol::PushSubscription;
use beatbook_core::report::{ReportStatus, MAX_SUBSCRIPTIONS};
use chrono::{DateTime, Utc};
use postgres::Transaction;

use super::Postgres;
use crate::store::rows::status_of;
use crate::store::{DuePush, PushOutcome, Pushes, StoreResult, Subscribed, Telling};

impl Pushes for Postgres {
    fn push_key(&self, fresh: &[u8]) -> StoreResult<Vec<u8>> {
        let mut conn = self.conn()?;
        conn.execute(
            "INSERT INTO push_key (id, secret, created_at) VALUES (1, $1, now())
             ON CONFLICT (id) DO NOTHING",
            &[&fresh],
        )?;
        Ok(conn
            .query_one("SELECT secret FROM push_key WHERE id = 1", &[])?
            .get(0))
    }

    fn subscribe(&self, code: &str, subscription: &PushSubscription) -> StoreResult<Subscribed> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // One report's subscriptions are counted by one server at a time.
        let report = tx.query_opt(
            "SELECT status, removed_at IS NOT NULL, erased_at IS NOT NULL
             FROM reports WHERE code = $1 FOR UPDATE",
            &[&code],
        )?;
        let answer = match report.map(|r| {
            (
                status_of(r.get(0)),
                r.get::<_, bool>(1),
                r.get::<_, bool>(2),
            )
        }) {
            None | Some((_, true, _)) => Subscribed::NoReport,
            Some((status, _, erased)) if erased || status == ReportStatus::Closed => {
                Subscribed::Closed
            }
            Some(_) => subscribe_to(&mut tx, code, subscription)?,
        };
        tx.commit()?;
        Ok(answer)
    }

    fn unsubscribe(&self, code: &str, endpoint: &str) -> StoreResult<bool> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let removed = tx.execute(
            "DELETE FROM push_subscriptions WHERE code = $1 AND endpoint = $2",
            &[&code, &endpoint],
        )?;
        tx.execute(
            "DELETE FROM push_outbox WHERE code = $1 AND endpoint = $2",
            &[&code, &endpoint],
        )?;
        tx.commit()?;
        Ok(removed > 0)
    }

    fn subscriptions(&self, code: &str) -> StoreResult<usize> {
        let count: i64 = self
            .conn()?
            .query_one(
                "SELECT COUNT(*) FROM push_subscriptions WHERE code = $1",
                &[&code],
            )?
            .get(0);
        Ok(usize::try_from(count).unwrap_or(0))
    }

    fn due_pushes(
        &self,
        now: DateTime<Utc>,
        claim: chrono::Duration,
        limit: usize,
    ) -> StoreResult<Vec<DuePush>> {
        let until = now + claim;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // SKIP LOCKED: two servers claiming at once take different rows.
        let rows = self.conn()?.query(
            "UPDATE push_outbox SET claimed_until = $2
             WHERE seq IN (SELECT seq FROM push_outbox
                           WHERE due_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1)
                           ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED)
             RETURNING seq, code, endpoint, p256dh, auth, payload, attempts",
            &[&now, &until, &limit],
        )?;
        let mut due: Vec<DuePush> = rows
            .iter()
            .map(|r| DuePush {
                seq: r.get(0),
                code: r.get(1),
                endpoint: r.get(2),
                p256dh: r.get(3),
                auth: r.get(4),
                payload: r.get(5),
                attempts: r.get(6),
            })
            .collect();
        due.sort_by_key(|d| d.seq);
        Ok(due)
    }

    fn pushed(&self, push: &DuePush, outcome: PushOutcome) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        match outcome {
            PushOutcome::Sent | PushOutcome::GaveUp => {
                tx.execute("DELETE FROM push_outbox WHERE seq = $1", &[&push.seq])?;
            }
            PushOutcome::Gone => {
                tx.execute(
                    "DELETE FROM push_subscriptions WHERE endpoint = $1",
                    &[&push.endpoint],
                )?;
                tx.execute(
                    "DELETE FROM device_pushes WHERE endpoint = $1",
                    &[&push.endpoint],
                )?;
                tx.execute(
                    "DELETE FROM push_outbox WHERE endpoint = $1",
                    &[&push.endpoint],
                )?;
            }
            PushOutcome::Retry(at) => {
                tx.execute(
                    "UPDATE push_outbox SET attempts = attempts + 1, due_at = $2, claimed_until = NULL
                     WHERE seq = $1",
                    &[&push.seq, &at],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn subscribe_device(&self, device_id: i64, subscription: &PushSubscription) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO device_pushes (device_id, endpoint, p256dh, auth, created_at)
             VALUES ($1, $2, $3, $4, now())
             ON CONFLICT (device_id) DO UPDATE SET endpoint = excluded.endpoint,
                 p256dh = excluded.p256dh, auth = excluded.auth",
            &[
                &device_id,
                &subscription.endpoint,
                &subscription.keys.p256dh,
                &subscription.keys.auth,
            ],
        )?;
        Ok(())
    }

    fn unsubscribe_device(&self, device_id: i64) -> StoreResult<bool> {
        Ok(self.conn()?.execute(
            "DELETE FROM device_pushes WHERE device_id = $1",
            &[&device_id],
        )? > 0)
    }
}

/// As SQLite's: a new report's notice for the councillors' devices told
/// of new reports.
pub(super) fn queue_new_report(
    tx: &mut Transaction<'_>,
    code: &str,
    payload: &str,
    ward: Option<i64>,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO push_outbox (code, endpoint, p256dh, auth, payload, due_at)
         SELECT $1, dp.endpoint, dp.p256dh, dp.auth, $2, now() FROM device_pushes dp
           JOIN devices d ON d.id = dp.device_id
           JOIN people p ON p.id = d.person_id
         WHERE d.revoked_at IS NULL AND p.revoked_at IS NULL AND p.role = 'councillor'
           AND ($3::BIGINT IS NULL OR p.ward_id = $3)",
        &[&code, &payload, &ward],
    )?;
    Ok(())
}

fn subscribe_to(
    tx: &mut Transaction<'_>,
    code: &str,
    subscription: &PushSubscription,
) -> StoreResult<Subscribed> {
    let already = tx.query_opt(
        "UPDATE push_subscriptions SET p256dh = $3, auth = $4 WHERE code = $1 AND endpoint = $2
         RETURNING 1",
        &[
            &code,
            &subscription.endpoint,
            &subscription.keys.p256dh,
            &subscription.keys.auth,
        ],
    )?;
    if already.is_some() {
        return Ok(Subscribed::Already);
    }
    let held: i64 = tx
        .query_one(
            "SELECT COUNT(*) FROM push_subscriptions WHERE code = $1",
            &[&code],
        )?
        .get(0);
    if usize::try_from(held).unwrap_or(usize::MAX) >= MAX_SUBSCRIPTIONS {
        return Ok(Subscribed::Full);
    }
    tx.execute(
        "INSERT INTO push_subscriptions (code, endpoint, p256dh, auth, created_at)
         VALUES ($1, $2, $3, $4, now())",
        &[
            &code,
            &subscription.endpoint,
            &subscription.keys.p256dh,
            &subscription.keys.auth,
        ],
    )?;
    Ok(Subscribed::Added)
}

/// As SQLite's: queues what a triage step tells for the report's
/// subscriptions in the step's transaction; a step that closes the report
/// removes them, and one that removes it as junk, whatever waits too.
pub(super) fn queue_notice(
    tx: &mut Transaction<'_>,
    code: &str,
    telling: &Telling,
) -> StoreResult<()> {
    if telling.junk {
        return forget_subscriptions(tx, code);
    }
    if let Some(payload) = &telling.payload {
        tx.execute(
            "INSERT INTO push_outbox (code, endpoint, p256dh, auth, payload, due_at)
             SELECT code, endpoint, p256dh, auth, $2, now() FROM push_subscriptions WHERE code = $1",
            &[&code, payload],
        )?;
    }
    if telling.ends {
        tx.execute("DELETE FROM push_subscriptions WHERE code = $1", &[&code])?;
    }
    Ok(())
}

/// An erased report's subscriptions, and whatever waits for them, go.
pub(super) fn forget_subscriptions(tx: &mut Transaction<'_>, code: &str) -> StoreResult<()> {
    tx.execute("DELETE FROM push_subscriptions WHERE code = $1", &[&code])?;
    tx.execute("DELETE FROM push_outbox WHERE code = $1", &[&code])?;
    Ok(())
}

/// As SQLite's: notifications that waited longer than a push service would
/// have kept them go.
pub(super) fn forget_stale_pushes(tx: &mut Transaction<'_>) -> StoreResult<()> {
    let ttl = f64::from(crate::push::send::TTL_SECONDS);
    tx.execute(
        "DELETE FROM push_outbox WHERE due_at < now() - make_interval(secs => $1)",
        &[&ttl],
    )?;
    Ok(())
}
