//! Paired devices on PostgreSQL: one-time pairing codes traded for tokens,
//! only their hashes kept (core's `pairing`).

use beatbook_core::pairing::{code_expires_at, code_hash, code_usable, secret_hash};
use chrono::{DateTime, Utc};

use super::{text, Postgres};
use crate::random::{new_code, new_token};
use crate::store::{Device, Devices, Paired, StoreResult};

fn device(row: &postgres::Row) -> Device {
    Device {
        id: row.get(0),
        name: row.get(1),
        created_at: text(row.get(2)),
        revoked_at: row.get::<_, Option<DateTime<Utc>>>(3).map(text),
    }
}

impl Devices for Postgres {
    fn create_pairing_code(&self, device_name: &str) -> StoreResult<String> {
        let code = new_code();
        self.conn()?.execute(
            "INSERT INTO pairing_codes (code_hash, device_name, expires_at) VALUES ($1, $2, $3)",
            &[
                &code_hash(&code).as_slice(),
                &device_name,
                &code_expires_at(Utc::now()),
            ],
        )?;
        Ok(code)
    }

    fn redeem_pairing_code(&self, code: &str) -> StoreResult<Option<Paired>> {
        let typed = code_hash(code);
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // Locked, so two servers given the same code at once pair one phone.
        let found = tx.query_opt(
            "SELECT device_name, expires_at FROM pairing_codes
             WHERE code_hash = $1 AND used_at IS NULL FOR UPDATE",
            &[&typed.as_slice()],
        )?;
        let Some(found) = found else {
            return Ok(None);
        };
        let (device_name, expires_at): (String, DateTime<Utc>) = (found.get(0), found.get(1));
        let now = Utc::now();
        if !code_usable(expires_at, now) {
            return Ok(None);
        }
        let token = new_token();
        tx.execute(
            "UPDATE pairing_codes SET used_at = $1 WHERE code_hash = $2",
            &[&now, &typed.as_slice()],
        )?;
        tx.execute(
            "INSERT INTO devices (name, token_hash, created_at) VALUES ($1, $2, $3)",
            &[&device_name, &secret_hash(&token).as_slice(), &now],
        )?;
        tx.commit()?;
        Ok(Some(Paired { token, device_name }))
    }

    fn device_for_token(&self, token: &str) -> StoreResult<Option<Device>> {
        let row = self.conn()?.query_opt(
            "SELECT id, name, created_at, revoked_at FROM devices
             WHERE token_hash = $1 AND revoked_at IS NULL",
            &[&secret_hash(token).as_slice()],
        )?;
        Ok(row.as_ref().map(device))
    }

    fn devices(&self) -> StoreResult<Vec<Device>> {
        let rows = self.conn()?.query(
            "SELECT id, name, created_at, revoked_at FROM devices ORDER BY id",
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
