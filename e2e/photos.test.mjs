// Photos taken with no signal: kept through a browser kill, sent after the
// note's words, each once, and stored without the EXIF (and GPS position)
// the camera wrote.

import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  councillorToken, failOnAppErrors, gotoApp, launchBrowser, launchKillableBrowser, newProfileDir, openApp, pairApp, pickPhotos,
  serverNotes, startServer, startShift, waitForSaved, waitForWorker,
} from './helpers.mjs';
import { NOTE_PREFIX, deviceToken } from './keys.mjs';

failOnAppErrors();

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'crates', 'core', 'tests', 'fixtures', 'photos');
const CAMERA_JPEG = join(FIXTURES, 'street-gps.jpg');
const PNG = join(FIXTURES, 'street.png');

const stops = [];
after(async () => {
  for (const stop of stops.reverse()) await stop();
});

/** The photos the page keeps, from its own IndexedDB. */
function keptPhotos(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('beatbook-photos');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const all = open.result.transaction('photos').objectStore('photos').getAll();
      all.onsuccess = () => {
        resolve(all.result.map((v) => ({ ...JSON.parse(v.facts), size: v.blob ? v.blob.size : v.bytes.byteLength })));
        open.result.close();
      };
    };
  }));
}

/** Waits until `url` answers `status` (a change the page made is on the server). */
async function expectStatus(url, status) {
  for (let i = 0; i < 50; i += 1) {
    if ((await fetch(url)).status === status) return;
    await new Promise((resolve) => { setTimeout(resolve, 100); });
  }
  assert.fail(`${url} never answered ${status}`);
}

async function openNote(page, text) {
  await page.getByTestId('nav-notes').click();
  await page.getByText(text).click();
  await page.getByTestId('note-detail-text').waitFor();
}

describe('photos', () => {
  test('a note with two photos, saved with no signal, survives a kill and sends words first, then each photo once, without EXIF', async () => {
    let server = await startServer();
    stops.push(() => server.stop());
    const profile = await newProfileDir();
    let browser = await launchKillableBrowser(profile);
    stops.push(() => browser.kill().catch(() => {}));
    let page = await browser.context.newPage();
    await gotoApp(page, server.url, server.data);
    await pairApp(page, server.data);
    await server.stop();

    const text = 'Street light out, photos attached';
    await page.getByTestId('note-text').fill(text);
    await page.getByTestId('photo-gallery').setInputFiles([CAMERA_JPEG, PNG]);
    await page.getByTestId('picked-photo').nth(1).waitFor();
    assert.equal(await page.getByTestId('picked-photo').count(), 2);
    await page.getByTestId('save-note').click();
    await waitForSaved(page);
    // The words are saved and the form is empty for the next note.
    assert.equal(await page.getByTestId('picked-photo').count(), 0);
    await browser.kill();

    browser = await launchKillableBrowser(profile);
    page = await browser.context.newPage();
    await gotoApp(page, server.url, server.data);
    await openNote(page, text);
    await page.getByTestId('note-photo').nth(1).waitFor();
    assert.deepEqual(
      await page.getByTestId('photo-state').allTextContents(),
      ['On this phone, not sent yet', 'On this phone, not sent yet'],
    );
    const kept = await keptPhotos(page);
    assert.equal(kept.length, 2);
    assert.ok(kept.every((p) => p.of?.kind === 'note' && p.media_type === 'image/jpeg' && p.size > 0));
    assert.ok(kept.every((p) => Math.max(p.width, p.height) <= 1600));

    server = await startServer({ port: server.port, data: server.data });
    await page.reload();
    await openNote(page, text);
    await page.getByTestId('photo-state').filter({ hasText: /^Sent$/ }).nth(1).waitFor({ timeout: 60_000 });

    // The words are there, once.
    const notes = (await serverNotes(page, server.url)).filter((n) => n.text === text);
    assert.equal(notes.length, 1);
    // Each photo is there once, as the phone made it: no EXIF, no GPS.
    const token = await deviceToken(page);
    for (const photo of kept) {
      const answer = await fetch(`${server.url}/api/v1/photos/${photo.id}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get('content-type'), 'image/jpeg');
      const bytes = Buffer.from(await answer.arrayBuffer());
      assert.equal(bytes.length, photo.size);
      assert.equal(bytes.indexOf('Exif'), -1, 'no EXIF block');
      assert.equal(bytes.indexOf('PhoneMaker'), -1, 'nothing the camera wrote');
    }
    const files = (await readdir(join(server.data, 'photos'))).filter((f) => !f.startsWith('.'));
    assert.deepEqual(files.sort(), kept.map((p) => p.sha256).sort(), 'one file per photo, named by its hash');
    assert.deepEqual((await keptPhotos(page)).map((p) => p.state.is), ['sent', 'sent']);
    // Settings says what the photos take, and what space is left.
    await page.getByTestId('nav-settings').click();
    assert.match(await page.getByTestId('photo-space').textContent(), /^2 photos on this phone \(\d+ KB\); 0 not sent yet\.$/);
    assert.match(await page.getByTestId('storage-space').textContent(), /^Beatbook uses .* of this phone's storage; about .* more is available\./);
  });

  test('a resident reports a broken light with a photo with no signal, gets the code when it returns, and the councillor publishes the photo', async () => {
    let server = await startServer();
    stops.push(() => server.stop());
    const browser = await launchBrowser();
    stops.push(() => browser.close());
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await openApp(context, server.url);
    await waitForWorker(page);
    await server.stop();

    await page.goto(new URL('/report', page.url()).href);
    await page.getByTestId('kind-poor_lighting').check();
    await page.getByTestId('report-place').fill('Footpath behind the library');
    await page.getByTestId('when-afterdark').check();
    await page.getByTestId('report-description').fill('The street light has been broken for two weeks');
    await page.getByTestId('photo-gallery').setInputFiles(CAMERA_JPEG);
    await page.getByTestId('picked-photo').waitFor();
    assert.match(await page.getByTestId('photo-privacy').textContent(), /removes the hidden details a camera adds/);
    await page.getByTestId('send-report').click();
    await page.getByTestId('my-reports').waitFor();
    await page.getByTestId('report-delivery').getByText('Waiting for signal').waitFor();
    assert.equal(await page.getByTestId('photo-state').textContent(), 'On this phone, not sent yet');

    server = await startServer({ port: server.port, data: server.data });
    await context.setOffline(true);
    await context.setOffline(false);
    const code = (await page.getByTestId('report-code').textContent({ timeout: 30_000 })).trim();
    await page.getByTestId('photo-state').getByText(/^Sent$/).waitFor({ timeout: 30_000 });
    const [kept] = await keptPhotos(page);
    assert.equal(kept.of.kind, 'report');

    // The councillor sees it, without the camera's metadata, and shows it.
    const councillor = await browser.newContext();
    const inboxPage = await openApp(councillor, server.url);
    await pairApp(inboxPage, server.data);
    await inboxPage.getByTestId('nav-inbox').click();
    assert.equal(await inboxPage.getByTestId('show-photos').textContent(), "Show the resident's photo");
    await inboxPage.getByTestId('show-photos').click();
    await inboxPage.getByTestId('review-photo').waitFor();
    const token = await councillorToken(server.url, server.data);
    const held = Buffer.from(await (await fetch(`${server.url}/api/v1/photos/${kept.id}`, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer());
    assert.equal(held.indexOf('Exif'), -1);
    assert.equal((await fetch(`${server.url}/api/v1/photos/${kept.id}`)).status, 404, 'not public yet');
    await inboxPage.getByTestId('photo-public').check();
    await expectStatus(`${server.url}/api/v1/photos/${kept.id}`, 200);

    // The resident's status page shows it.
    await page.goto(new URL(`/reports/${code}`, page.url()).href);
    const shown = page.getByTestId('public-photos').locator('img');
    await shown.waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid=public-photos] img')?.naturalWidth > 0);
    await councillor.close();
    await context.close();
  });

  test('a photo storage refuses stays on screen while the words are saved, to download, or keep once storage takes it', async () => {
    let server = await startServer();
    stops.push(() => server.stop());
    const browser = await launchBrowser();
    stops.push(() => browser.close());
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, acceptDownloads: true });
    const page = await openApp(context, server);
    await waitForWorker(page);
    await server.stop();
    // Storage refuses the photo: a newer photo database (as another tab of
    // a newer app would open) makes this page's writes fail, as a full
    // disk does. (Chromium ignores DevTools' quota override for IndexedDB,
    // so a full disk itself cannot be staged here; the words said for a
    // full one are checked in the browser tests.)
    await page.evaluate(() => new Promise((resolve, reject) => {
      const open = indexedDB.open('beatbook-photos', 99);
      open.onsuccess = () => { open.result.close(); resolve(); };
      open.onerror = () => reject(open.error);
    }));

    const text = 'Bin store door forced, photo taken';
    await page.getByTestId('note-text').fill(text);
    await pickPhotos(page, 1, 2400, 1800, 7);
    await page.getByTestId('photo-error').getByText(/could not be kept on this phone .* it stays on screen/).waitFor({ timeout: 60_000 });
    assert.equal(await page.getByTestId('photo-state').textContent(), 'Not kept on this phone yet');

    await page.getByTestId('save-note').click();
    await waitForSaved(page);
    assert.match(await page.getByTestId('save-status').textContent(), /One photo could not be kept on this phone: it waits on the note's page/);
    assert.equal(await page.getByTestId('picked-photo').count(), 0, 'the form is empty for the next note');
    await page.getByTestId('photo-error').waitFor({ state: 'detached' });
    assert.ok(await page.evaluate(([prefix, t]) => Object.keys(localStorage).some((k) => k.startsWith(prefix) && localStorage.getItem(k).includes(t)), [NOTE_PREFIX, text]), 'the words are kept');

    // The photo waits on the note's page, and can be downloaded.
    await openNote(page, text);
    const held = page.getByTestId('note-photo');
    assert.equal(await held.getByTestId('photo-state').textContent(), 'Not kept on this phone yet');
    const [download] = await Promise.all([page.waitForEvent('download'), held.getByTestId('download-photo').click()]);
    const bytes = await readFile(await download.path());
    assert.equal(bytes.subarray(0, 3).toString('hex'), 'ffd8ff', 'a JPEG');

    // Storage takes it again: "Try again" keeps it, and it is sent after the words.
    await page.evaluate(() => new Promise((resolve, reject) => {
      const gone = indexedDB.deleteDatabase('beatbook-photos');
      gone.onsuccess = () => resolve();
      gone.onerror = () => reject(gone.error);
    }));
    await held.getByTestId('retry-photo').click();
    await held.getByTestId('photo-state').getByText('On this phone, not sent yet').waitFor();
    const [kept] = await keptPhotos(page);
    assert.equal(kept.of?.kind, 'note');
    assert.equal(kept.size, bytes.length, 'the bytes kept are those held on screen');
    server = await startServer({ port: server.port, data: server.data });
    await context.setOffline(true);
    await context.setOffline(false);
    await held.getByTestId('photo-state').getByText(/^Sent$/).waitFor({ timeout: 30_000 });
    const notes = (await serverNotes(page, server.url)).filter((n) => n.text === text);
    assert.equal(notes.length, 1, 'the words arrived once');
    await context.close();
  });

  test('a councillor downloads a sent shift as one ZIP: its notes as a spreadsheet naming each photo, and the photos beside it', async () => {
    const server = await startServer();
    stops.push(() => server.stop());
    const browser = await launchBrowser();
    stops.push(() => browser.close());
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, acceptDownloads: true });
    const page = await openApp(context, server);
    await startShift(page, 'walkabout', 'Eastfield walkabout');
    const text = 'Broken bollard by the school gate';
    await page.getByTestId('note-text').fill(text);
    await page.getByTestId('photo-gallery').setInputFiles(CAMERA_JPEG);
    await page.getByTestId('picked-photo').waitFor();
    await page.getByTestId('save-note').click();
    await waitForSaved(page);
    await openNote(page, text);
    await page.getByTestId('photo-state').getByText(/^Sent$/).waitFor({ timeout: 30_000 });
    const [kept] = await keptPhotos(page);

    await page.getByTestId('nav-shifts').click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-shift-zip').click()]);
    assert.match(download.suggestedFilename(), /^beatbook-.*\.zip$/);
    const zip = await readFile(await download.path());
    assert.equal(zip.subarray(0, 4).toString('hex'), '504b0304', 'a ZIP');
    // Entries are stored as they are: the names, the CSV and the photo's
    // bytes are all there to find.
    const entry = `photos/${kept.id}.jpg`;
    assert.ok(zip.includes('notes.csv') && zip.includes(entry), 'the spreadsheet and the photo');
    const csvAt = zip.indexOf('notes.csv') + 'notes.csv'.length;
    const csv = zip.subarray(csvAt, zip.indexOf('PK', csvAt)).toString('utf8');
    assert.match(csv, new RegExp(`${text}.*${entry}`), 'the note names its photo by its entry');
    const token = await councillorToken(server.url, server.data);
    const photo = Buffer.from(await (await fetch(`${server.url}/api/v1/photos/${kept.id}`, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer());
    assert.ok(zip.includes(photo), 'the photo, byte for byte');
    await context.close();
  });
});
