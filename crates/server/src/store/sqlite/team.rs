//! The ward team on SQLite: wards, their people, and the person each
//! pairing code and device belongs to.

use beatbook_core::team::{ward_key, Boundary, Role};
use rusqlite::{params, OptionalExtension, Transaction};

use super::{now_text, write, Sqlite};
use crate::store::{Person, StoreError, StoreResult, Team, Ward};

const PERSON_COLUMNS: &str = "p.id, p.ward_id, w.name, p.name, p.role, p.created_at, p.revoked_at,
     (SELECT COUNT(*) FROM devices d WHERE d.person_id = p.id AND d.revoked_at IS NULL)";

pub(super) fn person(r: &rusqlite::Row<'_>) -> rusqlite::Result<Person> {
    let role: String = r.get(4)?;
    Ok(Person {
        id: r.get(0)?,
        ward_id: r.get(1)?,
        ward: r.get(2)?,
        name: r.get(3)?,
        // The table's CHECK admits only the three.
        role: Role::from_slug(&role).unwrap_or(Role::Viewer),
        created_at: r.get(5)?,
        revoked_at: r.get(6)?,
        devices: r.get(7)?,
    })
}

fn ward(r: &rusqlite::Row<'_>) -> rusqlite::Result<Ward> {
    let boundary: Option<String> = r.get(2)?;
    Ok(Ward {
        id: r.get(0)?,
        name: r.get(1)?,
        // Kept only after it was read as one.
        boundary: boundary.and_then(|b| Boundary::from_geojson(&b).ok()),
        created_at: r.get(3)?,
    })
}

fn find_person(tx: &Transaction<'_>, id: i64) -> StoreResult<Option<Person>> {
    Ok(tx
        .query_row(
            &format!(
                "SELECT {PERSON_COLUMNS} FROM people p JOIN wards w ON w.id = p.ward_id WHERE p.id = ?1"
            ),
            [id],
            person,
        )
        .optional()?)
}

/// The id of the ward with this name (in any case), if there is one.
fn ward_named(tx: &Transaction<'_>, name: &str) -> StoreResult<Option<i64>> {
    Ok(tx
        .query_row(
            "SELECT id FROM wards WHERE name_key = ?1",
            [ward_key(name)],
            |r| r.get(0),
        )
        .optional()?)
}

fn insert_ward(tx: &Transaction<'_>, name: &str, boundary: Option<&Boundary>) -> StoreResult<i64> {
    if ward_named(tx, name)?.is_some() {
        return Err(StoreError::ward_taken(name));
    }
    tx.execute(
        "INSERT INTO wards (name, name_key, boundary, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            name,
            ward_key(name),
            boundary.map(Boundary::to_geojson),
            now_text()
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

fn insert_person(tx: &Transaction<'_>, ward: i64, role: Role, name: &str) -> StoreResult<i64> {
    tx.execute(
        "INSERT INTO people (ward_id, name, role, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![ward, name, role.slug(), now_text()],
    )?;
    Ok(tx.last_insert_rowid())
}

/// The first ward's first councillor, made (with the ward) if the server
/// has neither yet: who `pair` pairs a phone for, as it always has. Once
/// they are revoked, `pair` needs a person named.
pub(super) fn first_councillor(tx: &Transaction<'_>) -> StoreResult<i64> {
    let ward: Option<i64> = tx.query_row("SELECT MIN(id) FROM wards", [], |r| r.get(0))?;
    let ward = match ward {
        Some(ward) => ward,
        None => insert_ward(tx, crate::store::FIRST_WARD, None)?,
    };
    let found: Option<(i64, Option<String>)> = tx
        .query_row(
            "SELECT id, revoked_at FROM people WHERE ward_id = ?1 AND role = 'councillor'
             ORDER BY id LIMIT 1",
            [ward],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match found {
        Some((id, None)) => Ok(id),
        Some((id, Some(_))) => Err(StoreError::first_councillor_revoked(id)),
        None => insert_person(tx, ward, Role::Councillor, crate::store::FIRST_COUNCILLOR),
    }
}

impl Team for Sqlite {
    fn add_ward(&self, name: &str, boundary: Option<&Boundary>) -> StoreResult<Ward> {
        let mut conn = self.conn();
        let tx = write(&mut conn)?;
        let id = insert_ward(&tx, name, boundary)?;
        let added = tx.query_row(
            "SELECT id, name, boundary, created_at FROM wards WHERE id = ?1",
            [id],
            ward,
        )?;
        tx.commit()?;
        Ok(added)
    }

    fn change_ward(
        &self,
        name: &str,
        new_name: Option<&str>,
        boundary: Option<&Boundary>,
    ) -> StoreResult<Ward> {
        let mut conn = self.conn();
        let tx = write(&mut conn)?;
        let id = ward_named(&tx, name)?.ok_or_else(|| StoreError::no_ward(name))?;
        if let Some(new_name) = new_name {
            if ward_named(&tx, new_name)?.is_some_and(|other| other != id) {
                return Err(StoreError::ward_taken(new_name));
            }
            tx.execute(
                "UPDATE wards SET name = ?1, name_key = ?2 WHERE id = ?3",
                params![new_name, ward_key(new_name), id],
            )?;
        }
        if let Some(boundary) = boundary {
            tx.execute(
                "UPDATE wards SET boundary = ?1 WHERE id = ?2",
                params![boundary.to_geojson(), id],
            )?;
        }
        let changed = tx.query_row(
            "SELECT id, name, boundary, created_at FROM wards WHERE id = ?1",
            [id],
            ward,
        )?;
        tx.commit()?;
        Ok(changed)
    }

    fn wards(&self) -> StoreResult<Vec<Ward>> {
        let conn = self.conn();
        let mut statement =
            conn.prepare("SELECT id, name, boundary, created_at FROM wards ORDER BY id")?;
        let rows = statement.query_map([], ward)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn add_person(&self, ward: &str, role: Role, name: &str) -> StoreResult<Person> {
        let mut conn = self.conn();
        let tx = write(&mut conn)?;
        let ward_id = ward_named(&tx, ward)?.ok_or_else(|| StoreError::no_ward(ward))?;
        let id = insert_person(&tx, ward_id, role, name)?;
        let added = find_person(&tx, id)?.ok_or(StoreError::Unanswered)?;
        tx.commit()?;
        Ok(added)
    }

    fn people(&self) -> StoreResult<Vec<Person>> {
        let conn = self.conn();
        let mut statement = conn.prepare(&format!(
            "SELECT {PERSON_COLUMNS} FROM people p JOIN wards w ON w.id = p.ward_id ORDER BY p.ward_id, p.id"
        ))?;
        let rows = statement.query_map([], person)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn pairing_code_for(&self, person: i64, device_name: &str) -> StoreResult<String> {
        let mut conn = self.conn();
        let tx = write(&mut conn)?;
        StoreError::unless_may_pair(person, find_person(&tx, person)?.as_ref())?;
        let code = self.insert_pairing_code(&tx, person, device_name)?;
        tx.commit()?;
        Ok(code)
    }

    fn revoke_person(&self, person: i64) -> StoreResult<bool> {
        let mut conn = self.conn();
        let tx = write(&mut conn)?;
        let now = now_text();
        let changed = tx.execute(
            "UPDATE people SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
            params![now, person],
        )?;
        tx.execute(
            "UPDATE devices SET revoked_at = ?1 WHERE person_id = ?2 AND revoked_at IS NULL",
            params![now, person],
        )?;
        tx.commit()?;
        Ok(changed == 1)
    }
}
