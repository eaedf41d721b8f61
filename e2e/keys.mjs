// The names the app keeps things under in the phone's localStorage, as the
// tests read and write them. Core names each one (crates/core/src/schema.rs
// and report/posted.rs); crates/core/tests/e2e_keys.rs fails if a value here
// and core's differ.

/** The pairing: the server's address and the device's token. */
export const DEVICE_KEY = 'beatbook/device';
/** The councillor's inbox as last fetched. */
export const INBOX_KEY = 'beatbook/inbox';
/** The shifts the ward team shares, as last fetched. */
export const TEAM_SHIFTS_KEY = 'beatbook/team-shifts';
/** Who in the ward team made each change to its concerns, as last fetched. */
export const TEAM_CONCERNS_KEY = 'beatbook/team-concerns';
/** The reports this phone asked to hear about, and the stops waiting. */
export const TOLD_KEY = 'beatbook/told';
/** Every note, under this and its id. */
export const NOTE_PREFIX = 'beatbook/note/';
/** Entries that could not be read, set aside under this and their old key. */
export const UNREADABLE_PREFIX = 'beatbook/unreadable/';
/** Reports the server's plain form sent, until the app keeps them. */
export const POSTED_PREFIX = 'beatbook-posted/';

/** The paired device's token, read from the phone's storage. */
export async function deviceToken(page) {
  return page.evaluate((key) => JSON.parse(localStorage.getItem(key)).token, DEVICE_KEY);
}

/** Whether the phone holds a pairing. */
export async function isPaired(page) {
  return page.evaluate((key) => localStorage.getItem(key) !== null, DEVICE_KEY);
}
