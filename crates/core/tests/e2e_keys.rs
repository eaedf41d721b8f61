//! The end-to-end tests read and write the phone's storage by the names in
//! `e2e/keys.mjs`: each must be the name core gives the app, so that a
//! renamed key fails here rather than leaving a test that looks at nothing.

use beatbook_core::report::POSTED_PREFIX;
use beatbook_core::schema::{
    RecordKey, DEVICE_KEY, INBOX_CACHE_KEY, TEAM_CONCERNS_CACHE_KEY, TEAM_SHIFTS_CACHE_KEY,
    TOLD_KEY, UNREADABLE_PREFIX,
};
use beatbook_core::RecordKind;
use uuid::Uuid;

const KEYS: &str = include_str!("../../../e2e/keys.mjs");

/// The string a `export const NAME = '…';` line of keys.mjs gives `name`.
fn value_of(name: &str) -> &'static str {
    let start = format!("export const {name} = '");
    let line = KEYS
        .lines()
        .find_map(|line| line.strip_prefix(start.as_str()))
        .unwrap_or_else(|| panic!("e2e/keys.mjs has no {name}"));
    line.strip_suffix("';")
        .unwrap_or_else(|| panic!("e2e/keys.mjs: {name} is not one quoted string"))
}

#[test]
fn every_key_the_end_to_end_tests_use_is_the_app_s() {
    let note = RecordKey::new(RecordKind::Note, Uuid::nil()).to_string();
    for (name, core) in [
        ("DEVICE_KEY", DEVICE_KEY),
        ("INBOX_KEY", INBOX_CACHE_KEY),
        ("TEAM_SHIFTS_KEY", TEAM_SHIFTS_CACHE_KEY),
        ("TEAM_CONCERNS_KEY", TEAM_CONCERNS_CACHE_KEY),
        ("TOLD_KEY", TOLD_KEY),
        (
            "NOTE_PREFIX",
            note.trim_end_matches(&Uuid::nil().to_string()),
        ),
        ("UNREADABLE_PREFIX", UNREADABLE_PREFIX),
        ("POSTED_PREFIX", POSTED_PREFIX),
    ] {
        assert_eq!(value_of(name), core, "{name}");
    }
    let declared = KEYS
        .lines()
        .filter(|l| l.starts_with("export const "))
        .count();
    assert_eq!(declared, 8, "a new key in keys.mjs is checked here too");
}
