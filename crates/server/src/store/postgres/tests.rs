//! The contract suite on a real PostgreSQL, and what only several servers
//! on one database can show.

use super::cluster::{drop_database, new_database};
use super::Postgres;
use crate::store::contract;

/// A store on a database of its own, dropped when done.
struct TempPostgres {
    url: String,
    name: String,
    store: Option<Postgres>,
}

impl std::ops::Deref for TempPostgres {
    type Target = Postgres;
    fn deref(&self) -> &Postgres {
        self.store.as_ref().expect("open until dropped")
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        drop(self.store.take());
        drop_database(&self.name);
    }
}

fn temp_store() -> TempPostgres {
    let (url, name) = new_database();
    let store = Postgres::open(&url).expect("the store opens on a new database");
    TempPostgres {
        url,
        name,
        store: Some(store),
    }
}

contract::contract_tests!(temp_store());

#[test]
fn a_batch_sent_to_two_servers_at_once_is_stored_once() {
    let first = temp_store();
    // A second server: its own pool, the same database.
    let second = Postgres::open(&first.url).unwrap();
    contract::stored_once_across(&[&*first, &second]);
}

#[test]
fn a_second_server_starting_finds_the_schema_made_and_a_newer_one_is_refused() {
    let first = temp_store();
    Postgres::open(&first.url).expect("the schema is there already");
    first
        .conn()
        .unwrap()
        .execute("INSERT INTO schema_steps (step) VALUES (1000)", &[])
        .unwrap();
    assert!(matches!(
        Postgres::open(&first.url),
        Err(crate::store::StoreError::NewerSchema { found: 1000, .. })
    ));
}
