//! Paired devices on PostgreSQL: one-time pairing codes traded for tokens,
//! only their hashes kept (core's `pairing`).

use beatbook_core::pairing::{code_expires_at, code_hash, secret_hash};
use chrono::{DateTime, Utc};
use postgres::Transaction;

use super::{text, Postgres};
use crate::random::{new_code, new_token};
use crate::store::{Device, Devices, Paired, Role, StoreResult, Unredeemed};

/// A device's columns, with its person's role and ward.
const DEVICE_COLUMNS: &str =
    "d.id, d.name, d.created_at, d.revoked_at, d.person_id, p.role, p.ward_id, p.name, w.name";
const DEVICE_TABLES: &str =
    "devices d LEFT JOIN people p ON p.id = d.person_id LEFT JOIN wards w ON w.id = p.ward_id";

fn device(row: &postgres::Row) -> Device {
    let role: Option<&str> = row.get(5);
    Device {
        id: row.get(0),
        name: row.get(1),
        created_at: text(row.get(2)),
        revoked_at: row.get::<_, Option<DateTime<Utc>>>(3).map(text),
        person_id: row.get(4),
        role: role.and_then(Role::from_slug).unwrap_or(Role::Viewer),
        ward_id: row.get(6),
        person_name: row.get(7),
        ward_name: row.get(8),
    }
}

/// Makes a one-time pairing code for `person`, in `tx`.
pub(super) fn insert_pairing_code(
    tx: &mut Transaction<'_>,
    person: i64,
    device_name: &str,
) -> StoreResult<String> {
    let code = new_code();
    tx.execute(
        "INSERT INTO pairing_codes (code_hash, device_name, expires_at, person_id) VALUES ($1, $2, $3, $4)",
        &[
            &code_hash(&code).as_slice(),
            &device_name,
            &code_expires_at(Utc::now()),
            &person,
        ],
    )?;
    Ok(code)
}

impl Devices for Postgres {
    fn create_pairing_code(&self, device_name: &str) -> StoreResult<String> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let person = super::team::first_councillor(&mut tx)?;
        let code = insert_pairing_code(&mut tx, person, device_name)?;
        tx.commit()?;
        Ok(code)
    }

    fn redeem_pairing_code(&self, code: &str) -> StoreResult<Result<Paired, Unredeemed>> {
        let typed = code_hash(code);
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // Locked, so two servers given the same code at once pair one phone.
        let found = tx.query_opt(
            "SELECT c.device_name, c.expires_at, c.person_id,
                    c.used_at IS NOT NULL, p.revoked_at IS NOT NULL
             FROM pairing_codes c LEFT JOIN people p ON p.id = c.person_id
             WHERE c.code_hash = $1
             FOR UPDATE OF c",
            &[&typed.as_slice()],
        )?;
        let Some(found) = found else {
            return Ok(Err(Unredeemed::Unknown));
        };
        let (device_name, expires_at, person): (String, DateTime<Utc>, Option<i64>) =
            (found.get(0), found.get(1), found.get(2));
        let now = Utc::now();
        let revoked: Option<bool> = found.get(4);
        if let Some(why) = Unredeemed::of(found.get(3), revoked == Some(true), expires_at, now) {
            return Ok(Err(why));
        }
        let person = match person {
            Some(person) => person,
            None => super::team::first_councillor(&mut tx)?,
        };
        let token = new_token();
        tx.execute(
            "UPDATE pairing_codes SET used_at = $1 WHERE code_hash = $2",
            &[&now, &typed.as_slice()],
        )?;
        tx.execute(
            "INSERT INTO devices (name, token_hash, created_at, person_id) VALUES ($1, $2, $3, $4)",
            &[&device_name, &secret_hash(&token).as_slice(), &now, &person],
        )?;
        tx.commit()?;
        Ok(Ok(Paired { token, device_name }))
    }

    fn device_for_token(&self, token: &str) -> StoreResult<Option<Device>> {
        let row = self.conn()?.query_opt(
            &format!(
                "SELECT {DEVICE_COLUMNS} FROM {DEVICE_TABLES}
                 WHERE d.token_hash = $1 AND d.revoked_at IS NULL AND p.revoked_at IS NULL"
            ),
            &[&secret_hash(token).as_slice()],
        )?;
        Ok(row.as_ref().map(device))
    }

    fn devices(&self) -> StoreResult<Vec<Device>> {
        let rows = self.conn()?.query(
            &format!("SELECT {DEVICE_COLUMNS} FROM {DEVICE_TABLES} ORDER BY d.id"),
            &[],
        )?;
        Ok(rows.iter().map(device).collect())
    }

    fn revoke(&self, device_id: i64) -> StoreResult<bool> {
        let changed = self.conn()?.execute(
            "UPDATE devices SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            &[&Utc::now(), &device_id],
        )?;
        Ok(changed == 1)
    }
}
