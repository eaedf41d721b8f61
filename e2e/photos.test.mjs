// Photos taken with no signal: kept through a browser kill, sent after the
// note's words, each once, and stored without the EXIF (and GPS position)
// the camera wrote.

import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  gotoApp, launchKillableBrowser, newProfileDir, pairApp, serverNotes, startServer, waitForSaved,
} from './helpers.mjs';

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
        resolve(all.result.map((v) => ({ ...JSON.parse(v.facts), size: v.blob.size })));
        open.result.close();
      };
    };
  }));
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
      ['On this phone, sent after the note\'s words', 'On this phone, sent after the note\'s words'],
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
    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('beatbook/device')).token);
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
});
