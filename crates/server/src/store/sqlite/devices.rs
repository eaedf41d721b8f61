//! Paired devices: one-time pairing codes traded for tokens. Only hashes of
//! codes and tokens are kept, so a copy of the database pairs nothing.

use beatbook_core::pairing::{code_expires_at, code_hash, code_usable, secret_hash};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{now_text, Sqlite};
use crate::random::{new_code, new_token};
use crate::store::{Device, Devices, Paired, StoreResult};

/// What is kept of a secret: core's hash of it.
pub(super) fn hash(secret: &str) -> Vec<u8> {
    secret_hash(secret).to_vec()
}

fn device(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        id: r.get(0)?,
        name: r.get(1)?,
        created_at: r.get(2)?,
        revoked_at: r.get(3)?,
    })
}

impl Devices for Sqlite {
    fn create_pairing_code(&self, device_name: &str) -> StoreResult<String> {
        let code = new_code();
        let expires = code_expires_at(Utc::now());
        self.conn().execute(
            "INSERT INTO pairing_codes (code_hash, device_name, expires_at) VALUES (?1, ?2, ?3)",
            params![code_hash(&code).to_vec(), device_name, expires.to_rfc3339()],
        )?;
        Ok(code)
    }

    fn redeem_pairing_code(&self, code: &str) -> StoreResult<Option<Paired>> {
        let typed = code_hash(code).to_vec();
        let mut conn = self.conn();
        let tx = super::write(&mut conn)?;
        let found: Option<(String, String)> = tx
            .query_row(
                "SELECT device_name, expires_at FROM pairing_codes WHERE code_hash = ?1 AND used_at IS NULL",
                params![typed],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((device_name, expires_at)) = found else {
            return Ok(None);
        };
        let usable = DateTime::parse_from_rfc3339(&expires_at)
            .is_ok_and(|t| code_usable(t.with_timezone(&Utc), Utc::now()));
        if !usable {
            return Ok(None);
        }
        let token = new_token();
        let now = now_text();
        tx.execute(
            "UPDATE pairing_codes SET used_at = ?1 WHERE code_hash = ?2",
            params![now, typed],
        )?;
        tx.execute(
            "INSERT INTO devices (name, token_hash, created_at) VALUES (?1, ?2, ?3)",
            params![device_name, hash(&token), now],
        )?;
        tx.commit()?;
        Ok(Some(Paired { token, device_name }))
    }

    fn device_for_token(&self, token: &str) -> StoreResult<Option<Device>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, name, created_at, revoked_at FROM devices WHERE token_hash = ?1 AND revoked_at IS NULL",
                params![hash(token)],
                device,
            )
            .optional()?)
    }

    fn devices(&self) -> StoreResult<Vec<Device>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT id, name, created_at, revoked_at FROM devices ORDER BY id")?;
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
