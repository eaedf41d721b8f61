//! The ward team on PostgreSQL: wards, their people, and the person each
//! pairing code and device belongs to. Changes to the team take one
//! advisory lock, so two servers never both make the first ward.

use beatbook_core::team::{ward_key, Boundary, Role};
use chrono::{DateTime, Utc};
use postgres::Transaction;

use super::{text, Postgres};
use crate::store::{Person, StoreError, StoreResult, Team, Ward};

/// Held while the team changes.
const TEAM_LOCK: &str = "team";

const PERSON_COLUMNS: &str = "p.id, p.ward_id, w.name, p.name, p.role, p.created_at, p.revoked_at,
     (SELECT COUNT(*) FROM devices d WHERE d.person_id = p.id AND d.revoked_at IS NULL)";
const WARD_COLUMNS: &str = "id, name, boundary, created_at";

fn person(r: &postgres::Row) -> Person {
    let role: &str = r.get(4);
    Person {
        id: r.get(0),
        ward_id: r.get(1),
        ward: r.get(2),
        name: r.get(3),
        // The table's CHECK admits only the three.
        role: Role::from_slug(role).unwrap_or(Role::Viewer),
        created_at: text(r.get(5)),
        revoked_at: r.get::<_, Option<DateTime<Utc>>>(6).map(text),
        devices: r.get(7),
    }
}

fn ward(r: &postgres::Row) -> Ward {
    let boundary: Option<&str> = r.get(2);
    Ward {
        id: r.get(0),
        name: r.get(1),
        // Kept only after it was read as one.
        boundary: boundary.and_then(|b| Boundary::from_geojson(b).ok()),
        created_at: text(r.get(3)),
    }
}

fn lock(tx: &mut Transaction<'_>) -> StoreResult<()> {
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&TEAM_LOCK],
    )?;
    Ok(())
}

fn find_person(tx: &mut Transaction<'_>, id: i64) -> StoreResult<Option<Person>> {
    Ok(tx
        .query_opt(
            &format!(
                "SELECT {PERSON_COLUMNS} FROM people p JOIN wards w ON w.id = p.ward_id WHERE p.id = $1"
            ),
            &[&id],
        )?
        .as_ref()
        .map(person))
}

fn ward_named(tx: &mut Transaction<'_>, name: &str) -> StoreResult<Option<i64>> {
    Ok(tx
        .query_opt(
            "SELECT id FROM wards WHERE name_key = $1",
            &[&ward_key(name)],
        )?
        .map(|r| r.get(0)))
}

fn insert_ward(
    tx: &mut Transaction<'_>,
    name: &str,
    boundary: Option<&Boundary>,
) -> StoreResult<i64> {
    if ward_named(tx, name)?.is_some() {
        return Err(StoreError::ward_taken(name));
    }
    Ok(tx
        .query_one(
            "INSERT INTO wards (name, name_key, boundary, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            &[&name, &ward_key(name), &boundary.map(Boundary::to_geojson), &Utc::now()],
        )?
        .get(0))
}

fn insert_person(tx: &mut Transaction<'_>, ward: i64, role: Role, name: &str) -> StoreResult<i64> {
    Ok(tx
        .query_one(
            "INSERT INTO people (ward_id, name, role, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            &[&ward, &name, &role.slug(), &Utc::now()],
        )?
        .get(0))
}

/// The first ward's first councillor, made (with the ward) if the server
/// has neither yet: who `pair` pairs a phone for, as it always has. Once
/// they are revoked, `pair` needs a person named.
pub(super) fn first_councillor(tx: &mut Transaction<'_>) -> StoreResult<i64> {
    lock(tx)?;
    let ward: Option<i64> = tx.query_one("SELECT MIN(id) FROM wards", &[])?.get(0);
    let ward = match ward {
        Some(ward) => ward,
        None => insert_ward(tx, crate::store::FIRST_WARD, None)?,
    };
    let found = tx.query_opt(
        "SELECT id, revoked_at IS NOT NULL FROM people WHERE ward_id = $1 AND role = 'councillor'
         ORDER BY id LIMIT 1",
        &[&ward],
    )?;
    match found.map(|r| (r.get::<_, i64>(0), r.get::<_, bool>(1))) {
        Some((id, false)) => Ok(id),
        Some((id, true)) => Err(StoreError::first_councillor_revoked(id)),
        None => insert_person(tx, ward, Role::Councillor, crate::store::FIRST_COUNCILLOR),
    }
}

impl Team for Postgres {
    fn add_ward(&self, name: &str, boundary: Option<&Boundary>) -> StoreResult<Ward> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        lock(&mut tx)?;
        let id = insert_ward(&mut tx, name, boundary)?;
        let added = ward(&tx.query_one(
            &format!("SELECT {WARD_COLUMNS} FROM wards WHERE id = $1"),
            &[&id],
        )?);
        tx.commit()?;
        Ok(added)
    }

    fn change_ward(
        &self,
        name: &str,
        new_name: Option<&str>,
        boundary: Option<&Boundary>,
    ) -> StoreResult<Ward> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        lock(&mut tx)?;
        let id = ward_named(&mut tx, name)?.ok_or_else(|| StoreError::no_ward(name))?;
        if let Some(new_name) = new_name {
            if ward_named(&mut tx, new_name)?.is_some_and(|other| other != id) {
                return Err(StoreError::ward_taken(new_name));
            }
            tx.execute(
                "UPDATE wards SET name = $1, name_key = $2 WHERE id = $3",
                &[&new_name, &ward_key(new_name), &id],
            )?;
        }
        if let Some(boundary) = boundary {
            tx.execute(
                "UPDATE wards SET boundary = $1 WHERE id = $2",
                &[&boundary.to_geojson(), &id],
            )?;
        }
        let changed = ward(&tx.query_one(
            &format!("SELECT {WARD_COLUMNS} FROM wards WHERE id = $1"),
            &[&id],
        )?);
        tx.commit()?;
        Ok(changed)
    }

    fn wards(&self) -> StoreResult<Vec<Ward>> {
        let rows = self.conn()?.query(
            &format!("SELECT {WARD_COLUMNS} FROM wards ORDER BY id"),
            &[],
        )?;
        Ok(rows.iter().map(ward).collect())
    }

    fn add_person(&self, ward_name: &str, role: Role, name: &str) -> StoreResult<Person> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        lock(&mut tx)?;
        let ward = ward_named(&mut tx, ward_name)?.ok_or_else(|| StoreError::no_ward(ward_name))?;
        let id = insert_person(&mut tx, ward, role, name)?;
        let added = find_person(&mut tx, id)?.ok_or(StoreError::Unanswered)?;
        tx.commit()?;
        Ok(added)
    }

    fn people(&self) -> StoreResult<Vec<Person>> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT {PERSON_COLUMNS} FROM people p JOIN wards w ON w.id = p.ward_id ORDER BY p.ward_id, p.id"
            ),
            &[],
        )?;
        Ok(rows.iter().map(person).collect())
    }

    fn pairing_code_for(&self, id: i64, device_name: &str) -> StoreResult<String> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        StoreError::unless_may_pair(id, find_person(&mut tx, id)?.as_ref())?;
        let code = super::devices::insert_pairing_code(&mut tx, id, device_name)?;
        tx.commit()?;
        Ok(code)
    }

    fn revoke_person(&self, id: i64) -> StoreResult<bool> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let now = Utc::now();
        let changed = tx.execute(
            "UPDATE people SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            &[&now, &id],
        )?;
        tx.execute(
            "UPDATE devices SET revoked_at = $1 WHERE person_id = $2 AND revoked_at IS NULL",
            &[&now, &id],
        )?;
        tx.commit()?;
        Ok(changed == 1)
    }
}
