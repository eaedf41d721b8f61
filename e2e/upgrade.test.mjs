// Never break a phone: the previous release (docs/releases.md), built from
// its own commit by the test command, runs on phones against the previous
// server; the server is upgraded in place under them; the old app keeps
// working with the new server; "Update now" brings the new app with
// everything the old one kept, still paired.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  makeReport, pairingCode, pickPhotos, required, saveNote, serverNotes, startServer, useBrowser, waitForSaved,
  waitForWorker,
} from './helpers.mjs';
import { deviceToken } from './keys.mjs';

const browser = useBrowser();

const PREVIOUS = {
  server: required('BEATBOOK_PREVIOUS_SERVER'),
  dist: required('BEATBOOK_PREVIOUS_DIST'),
  // Its tag, e.g. v0.1.0.
  tag: required('BEATBOOK_PREVIOUS_RELEASE'),
};

async function waitAllSent(page) {
  await page.getByTestId('pending-count').getByText('All sent').waitFor({ timeout: 45_000 });
}

/** The release the page runs, as its Settings screen says ("Beatbook 0.1.0"). */
async function release(page) {
  await page.getByTestId('nav-settings').click();
  const said = await page.getByTestId('version').textContent();
  await page.getByTestId('nav-capture').click();
  return said.trim();
}

/** Asks the service worker to look for a new version, then taps "Update now". */
async function updateNow(page) {
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
  await page.getByTestId('update-ready').waitFor();
  await Promise.all([page.waitForEvent('load'), page.getByTestId('apply-update').click()]);
}

/** The ids of the photos the page's app keeps (as any release stores their facts). */
function keptPhotoIds(page) {
  return page.evaluate(() => new Promise((resolve) => {
    const open = indexedDB.open('beatbook-photos');
    open.onsuccess = () => {
      const all = open.result.transaction('photos').objectStore('photos').getAll();
      all.onsuccess = () => { resolve(all.result.map((v) => JSON.parse(v.facts).id)); open.result.close(); };
    };
  }));
}

/** Waits until the server gives back photo `id` to the paired phone. */
async function serverHasPhoto(page, url, id) {
  const token = await deviceToken(page);
  for (let i = 0; i < 200; i += 1) {
    const answer = await fetch(`${url}/api/v1/photos/${id}`, { headers: { authorization: `Bearer ${token}` } });
    if (answer.status === 200) return;
    await new Promise((r) => { setTimeout(r, 200); });
  }
  throw new Error(`photo ${id} never reached the server`);
}

/** Each note text the server holds, with how many times. */
async function heldTexts(page, url) {
  const counts = {};
  for (const n of await serverNotes(page, url)) counts[n.text] = (counts[n.text] ?? 0) + 1;
  return counts;
}

describe('an upgrade under phones still on the previous release', () => {
  test('the old app keeps working with the upgraded server, and "Update now" keeps everything, still paired', async () => {
    const old = await startServer({ binary: PREVIOUS.server, dist: PREVIOUS.dist });

    // A councillor's phone and a resident's, each installing the old app.
    const councillor = await browser.newContext();
    const phone = await councillor.newPage();
    await phone.goto(old.url);
    await phone.getByTestId('home-pair').click();
    await phone.getByTestId('pair-code').fill(await pairingCode(old.data, 'Old phone', PREVIOUS.server));
    await phone.getByTestId('pair').click();
    await phone.getByTestId('note-text').waitFor();
    await waitForWorker(phone);
    const previousRelease = await release(phone);
    assert.equal(previousRelease, `Beatbook ${PREVIOUS.tag.replace(/^v/, '')}`);
    await saveNote(phone, 'Sent to the old server');
    await waitForSaved(phone);
    await waitAllSent(phone);

    const resident = await (await browser.newContext()).newPage();
    await resident.goto(old.url);
    await resident.getByTestId('home-report').waitFor();
    await waitForWorker(resident);
    await makeReport(resident, { place: 'Underpass by the old library', description: 'Lights out all week' });
    const code = (await resident.getByTestId('report-code').textContent({ timeout: 15_000 })).trim();

    // No signal for a while: a note waits on the phone, with a photo.
    await old.stop();
    await phone.getByTestId('note-text').fill('Saved while the server was being upgraded');
    await pickPhotos(phone, 1, 320, 240, 3);
    await phone.getByTestId('picked-photo').waitFor();
    await phone.getByTestId('save-note').click();
    await waitForSaved(phone);
    const [photo] = await keptPhotoIds(phone);

    // The server is upgraded in place: the new build, the same data.
    const server = await startServer({ port: old.port, data: old.data });
    await waitAllSent(phone);
    assert.equal(await release(phone), previousRelease, 'still the old app');
    await saveNote(phone, 'Sent by the old app to the new server');
    await waitForSaved(phone);
    await waitAllSent(phone);
    assert.deepEqual(await heldTexts(phone, server.url), {
      'Sent to the old server': 1,
      'Saved while the server was being upgraded': 1,
      'Sent by the old app to the new server': 1,
    });
    await serverHasPhoto(phone, server.url, photo);
    // The old app triages the report on the new server, and the resident's
    // old app reads the new status there.
    await phone.getByTestId('nav-inbox').click();
    const card = phone.getByTestId('inbox-report');
    await card.getByText('Underpass by the old library').waitFor();
    await card.getByTestId('triage-open').click();
    await card.getByTestId('triage-status').selectOption('raised_with_police');
    await card.getByTestId('triage-response').fill('Raised with the police after the upgrade.');
    await card.getByTestId('triage-save').click();
    await waitAllSent(phone);
    await phone.getByTestId('nav-capture').click();
    await resident.goto(`${server.url}/reports/${code}`);
    await resident.getByTestId('looked-up').getByText('Raised with the police after the upgrade.').waitFor();
    assert.match(await resident.getByTestId('looked-up').textContent(), /Underpass by the old library/);

    // "Update now": the new app, with every note, still paired.
    await updateNow(phone);
    await phone.getByTestId('note-text').waitFor();
    const updated = await release(phone);
    assert.match(updated, /^Beatbook \d+\.\d+\.\d+/);
    assert.notEqual(updated, previousRelease, 'the new release');
    await phone.getByTestId('nav-notes').click();
    await phone.getByTestId('match-count').waitFor();
    assert.deepEqual((await phone.getByTestId('note-item-text').allTextContents()).sort(), [
      'Saved while the server was being upgraded',
      'Sent by the old app to the new server',
      'Sent to the old server',
    ]);
    await saveNote(phone, 'Sent by the new app');
    await waitForSaved(phone);
    await waitAllSent(phone);
    assert.equal((await heldTexts(phone, server.url))['Sent by the new app'], 1);

    // The resident's report, with its code, in the new app's My reports.
    await updateNow(resident);
    await resident.goto(`${server.url}/reports`);
    const mine = resident.getByTestId('my-report');
    await mine.waitFor();
    assert.equal((await mine.getByTestId('report-code').textContent()).trim(), code);
    await councillor.close();
    await server.stop();
  });
});
