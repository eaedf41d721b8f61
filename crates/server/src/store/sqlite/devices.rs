//! Paired devices: one-time pairing codes traded for tokens. Only hashes of
//! codes and tokens are kept, so a copy of the database pairs nothing.

use beatbook_core::pairing::{code_expires_at, code_hash, secret_hash};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

use super::{now_text, Sqlite};
use crate::random::{new_code, new_token};
use crate::store::{Device, Devices, Paired, Role, StoreResult, Unredeemed};

/// What is kept of a secret: core's hash of it.
pub(super) fn hash(secret: &str) -> Vec<u8> {
    secret_hash(secret).to_vec()
}

/// A device's columns, with its person's role and ward.
const DEVICE_COLUMNS: &str =
    "d.id, d.name, d.created_at, d.revoked_at, d.person_id, p.role, p.ward_id, p.name, w.name";
const DEVICE_TABLES: &str =
    "devices d LEFT JOIN people p ON p.id = d.person_id LEFT JOIN wards w ON w.id = p.ward_id";

fn device(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    let role: Option<String> = r.get(5)?;
    Ok(Device {
        id: r.get(0)?,
        name: r.get(1)?,
        created_at: r.get(2)?,
        revoked_at: r.get(3)?,
        person_id: r.get(4)?,
        role: role
            .as_deref()
            .and_then(Role::from_slug)
            .unwrap_or(Role::Viewer),
        ward_id: r.get(6)?,
        person_name: r.get(7)?,
        ward_name: r.get(8)?,
    })
}

impl Sqlite {
    /// Makes a one-time pairing code for `person`, in `tx`.
    pub(super) fn insert_pairing_code(
        &self,
        tx: &Transaction<'_>,
        person: i64,
        device_name: &str,
    ) -> StoreResult<String> {
        let code = new_code();
        let expires = code_expires_at(Utc::now());
        tx.execute(
            "INSERT INTO pairing_codes (code_hash, device_name, expires_at, person_id) VALUES (?1, ?2, ?3, ?4)",
            params![code_hash(&code).to_vec(), device_name, expires.to_rfc3339(), person],
        )?;
        Ok(code)
    }
}

impl Devices for Sqlite {
    fn create_pairing_code(&self, device_name: &str) -> StoreResult<String> {
        let mut conn = self.conn();
        let tx = super::write(&mut conn)?;
        let person = super::team::first_councillor(&tx)?;
        let code = self.insert_pairing_code(&tx, person, device_name)?;
        tx.commit()?;
        Ok(code)
    }

    fn redeem_pairing_code(&self, code: &str) -> StoreResult<Result<Paired, Unredeemed>> {
        let typed = code_hash(code).to_vec();
        let mut conn = self.conn();
        let tx = super::write(&mut conn)?;
        type Found = (String, String, Option<i64>, bool, Option<bool>);
        let found: Option<Found> = tx
            .query_row(
                "SELECT c.device_name, c.expires_at, c.person_id,
                        c.used_at IS NOT NULL, p.revoked_at IS NOT NULL
                 FROM pairing_codes c LEFT JOIN people p ON p.id = c.person_id
                 WHERE c.code_hash = ?1",
                params![typed],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let Some((device_name, expires_at, person, used, revoked)) = found else {
            return Ok(Err(Unredeemed::Unknown));
        };
        // A time that cannot be read is taken as long past.
        let expires_at = DateTime::parse_from_rfc3339(&expires_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        if let Some(why) = Unredeemed::of(used, revoked == Some(true), expires_at, Utc::now()) {
            return Ok(Err(why));
        }
        // A code made before wards (none is, past the migration) is the
        // first councillor's, as every code was then.
        let person = match person {
            Some(person) => person,
            None => super::team::first_councillor(&tx)?,
        };
        let token = new_token();
        let now = now_text();
        tx.execute(
            "UPDATE pairing_codes SET used_at = ?1 WHERE code_hash = ?2",
            params![now, typed],
        )?;
        tx.execute(
            "INSERT INTO devices (name, token_hash, created_at, person_id) VALUES (?1, ?2, ?3, ?4)",
            params![device_name, hash(&token), now, person],
        )?;
        tx.commit()?;
        Ok(Ok(Paired { token, device_name }))
    }

    fn device_for_token(&self, token: &str) -> StoreResult<Option<Device>> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {DEVICE_COLUMNS} FROM {DEVICE_TABLES}
                     WHERE d.token_hash = ?1 AND d.revoked_at IS NULL AND p.revoked_at IS NULL"
                ),
                params![hash(token)],
                device,
            )
            .optional()?)
    }

    fn devices(&self) -> StoreResult<Vec<Device>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {DEVICE_COLUMNS} FROM {DEVICE_TABLES} ORDER BY d.id"
        ))?;
        let rows = stmt.query_map([], device)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn revoke(&self, device_id: i64) -> StoreResult<bool> {
        let changed = self.conn().execute(
            "UPDATE devices SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
            params![now_text(), device_id],
        )?;
        Ok(changed == 1)
    }
}
