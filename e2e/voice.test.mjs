// Speak a note: a councillor records with no signal (Chromium's fake
// microphone, a beeping tone), saves in two taps (Record, Save), the
// recording survives a reload and the whole browser being killed
// mid-recording, and reaches the server once, and the shift's ZIP, when
// the server is back. A refused microphone says how to allow it.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import {
  FAKE_MICROPHONE, failOnAppErrors, gotoApp, launchBrowser, launchKillableBrowser, newProfileDir,
  serverNotes, startServer, startShift, waitForSaved,
} from './helpers.mjs';
import { deviceToken } from './keys.mjs';

failOnAppErrors();

const stops = [];
after(async () => {
  for (const stop of stops.reverse()) await stop();
});

/** The recordings this phone keeps, as its database holds their facts. */
async function keptRecordings(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('beatbook-recordings');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const read = open.result.transaction('recordings').objectStore('recordings').getAll();
      read.onsuccess = () => resolve(read.result.map((json) => JSON.parse(json)));
      read.onerror = () => reject(read.error);
    };
  }));
}

/** Waits until the recording under way has run `seconds`. */
async function recordFor(page, seconds) {
  await page.getByTestId('recording-time').getByText(new RegExp(`^Recording 0:0${seconds} of 5:00$`)).waitFor({ timeout: 15_000 });
}

async function openNote(page, text) {
  await page.getByTestId('nav-notes').click();
  await page.getByText(text).first().click();
  await page.getByTestId('note-detail-text').waitFor();
}

describe('spoken notes', () => {
  test('a spoken note saved with no signal in two taps is kept, then sent once with its recording, into the shift\'s ZIP', async () => {
    let server = await startServer();
    stops.push(() => server.stop());
    const browser = await launchBrowser(FAKE_MICROPHONE);
    stops.push(() => browser.close());
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await gotoApp(page, server.url, server.data);
    await startShift(page, 'walkabout', 'Mill Lane walkabout');
    await page.getByTestId('pending-count').getByText('All sent').waitFor({ timeout: 20_000 });
    await server.stop();

    // Two taps: Record, then Save (which stops the recording and keeps it).
    await page.getByTestId('record').click();
    await recordFor(page, 2);
    assert.ok(await page.locator('meter.level').isVisible(), 'the level shows while recording');
    await page.getByTestId('save-note').click();
    await waitForSaved(page);
    assert.equal(await page.getByTestId('recording').count(), 0, 'the form is empty for the next note');

    const [kept] = await keptRecordings(page);
    assert.ok(kept, 'kept on the phone');
    assert.match(kept.media_type, /^audio\/webm/);
    assert.ok(kept.note && kept.sha256 && kept.finished && kept.chunks >= 2, JSON.stringify(kept));
    assert.ok(kept.millis >= 2_000 && kept.millis < 10_000, JSON.stringify(kept));
    const words = `Spoken note (0:0${Math.floor(kept.millis / 1000)})`;

    // A reload keeps it, playable, on the note's page.
    await page.reload();
    await page.getByTestId('note-text').waitFor();
    await openNote(page, words);
    await page.getByTestId('recording-state').getByText(/On this phone, not sent yet$/).waitFor();
    await page.waitForFunction(() => {
      const player = document.querySelector('[data-testid=recording-player]');
      return player?.src.startsWith('blob:') && player.readyState >= 1 && player.duration > 0;
    });

    // The server comes back: the words, then the recording, each once.
    server = await startServer({ port: server.port, data: server.data });
    await page.getByTestId('recording-state').getByText(/^0:0\d · Sent$/).waitFor({ timeout: 60_000 });
    const notes = (await serverNotes(page, server.url)).filter((n) => n.text === words);
    assert.equal(notes.length, 1);
    const token = await deviceToken(page);
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const listed = await (await fetch(`${server.url}/api/v1/notes/${notes[0].id}/recordings`, auth)).json();
    assert.deepEqual(listed.recordings.map((r) => [r.id, r.bytes]), [[kept.id, kept.bytes]]);
    const sound = Buffer.from(await (await fetch(`${server.url}/api/v1/recordings/${kept.id}`, auth)).arrayBuffer());
    assert.equal(sound.length, kept.bytes);
    assert.deepEqual([...sound.subarray(0, 4)], [0x1a, 0x45, 0xdf, 0xa3], 'a WebM file');

    const zip = await fetch(`${server.url}/api/v1/export/notes.zip?shift=${notes[0].shift_id}`, auth);
    assert.equal(zip.status, 200);
    const archive = Buffer.from(await zip.arrayBuffer());
    assert.ok(archive.includes(`recordings/${kept.id}.webm`), 'the shift\'s ZIP carries it');
  });

  test('the whole browser killed mid-recording keeps all but the last second, back on the form after a restart', async () => {
    const server = await startServer();
    stops.push(() => server.stop());
    const profile = await newProfileDir();
    let browser = await launchKillableBrowser(profile, FAKE_MICROPHONE);
    stops.push(() => browser.kill().catch(() => {}));
    let page = await browser.context.newPage();
    await gotoApp(page, server.url, server.data);
    await page.getByTestId('record').click();
    await recordFor(page, 4);
    await browser.kill();

    browser = await launchKillableBrowser(profile, FAKE_MICROPHONE);
    page = await browser.context.newPage();
    await gotoApp(page, server.url, server.data);
    const recording = page.getByTestId('form-recordings').getByTestId('recording');
    await recording.waitFor({ timeout: 10_000 });
    const state = await recording.getByTestId('recording-state').textContent();
    assert.match(state, /^0:0[2-4] · Kept on this phone; Save keeps it with the note \(kept up to when Beatbook was closed\)$/);
    const [kept] = await keptRecordings(page);
    assert.ok(kept.chunks >= 3 && kept.sha256 && !kept.finished, JSON.stringify(kept));

    // Saved with a word typed this time; it goes to the server as any.
    await page.getByTestId('note-text').fill('Gloves on, said it instead');
    await page.getByTestId('save-note').click();
    await waitForSaved(page);
    await openNote(page, 'Gloves on, said it instead');
    await page.getByTestId('recording-state').getByText(/· Sent/).waitFor({ timeout: 60_000 });
    const token = await deviceToken(page);
    const sound = await fetch(`${server.url}/api/v1/recordings/${kept.id}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(sound.status, 200, 'a recording cut short is a recording the server takes');
    assert.equal((await sound.arrayBuffer()).byteLength, kept.bytes);
    await browser.kill();
  });

  test('a recording storage refuses stays on screen with the note, to download, or keep once storage takes it, then is sent', async () => {
    let server = await startServer();
    stops.push(() => server.stop());
    const browser = await launchBrowser(FAKE_MICROPHONE);
    stops.push(() => browser.close());
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    await gotoApp(page, server.url, server.data);
    await server.stop();
    // Storage refuses: a newer recordings database (as another tab of a
    // newer app would open) makes this page's writes fail, as a full disk
    // does (Chromium ignores DevTools' quota override for IndexedDB).
    await page.evaluate(() => new Promise((resolve, reject) => {
      const open = indexedDB.open('beatbook-recordings', 99);
      open.onsuccess = () => { open.result.close(); resolve(); };
      open.onerror = () => reject(open.error);
    }));
    await page.getByTestId('record').click();
    await recordFor(page, 2);
    await page.getByTestId('stop-recording').click();
    const held = page.getByTestId('form-recordings').getByTestId('recording');
    await held.getByTestId('recording-state').getByText(/Not kept on this phone: storage refused it$/).waitFor();
    await page.getByText(/could not be kept on this phone .* it stays on screen/).waitFor();

    await page.getByTestId('note-text').fill('Said with the storage refusing');
    await page.getByTestId('save-note').click();
    await waitForSaved(page);
    await openNote(page, 'Said with the storage refusing');
    const waiting = page.getByTestId('note-recordings').getByTestId('recording');
    await waiting.getByTestId('recording-state').getByText(/storage refused it$/).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), waiting.getByTestId('download-recording').click()]);
    assert.match(download.suggestedFilename(), /^beatbook-recording-.*\.webm$/);

    // Storage takes it again: "Try again" keeps it, and it is sent after the words.
    await page.evaluate(() => new Promise((resolve, reject) => {
      const gone = indexedDB.deleteDatabase('beatbook-recordings');
      gone.onsuccess = () => resolve();
      gone.onerror = () => reject(gone.error);
    }));
    await waiting.getByTestId('retry-recording').click();
    await waiting.getByTestId('recording-state').getByText(/On this phone, not sent yet$/).waitFor();
    const [kept] = await keptRecordings(page);
    assert.ok(kept.note && kept.sha256 && kept.chunks === 1, JSON.stringify(kept));
    server = await startServer({ port: server.port, data: server.data });
    await page.getByTestId('recording-state').getByText(/· Sent$/).waitFor({ timeout: 60_000 });
  });

  test('a refused microphone says how to allow it, and the note can still be typed', async () => {
    const server = await startServer();
    stops.push(() => server.stop());
    // The stand-in microphone, but no stand-in for the person allowing it.
    const browser = await launchBrowser(['--use-fake-device-for-media-stream']);
    stops.push(() => browser.close());
    const context = await browser.newContext();
    const page = await context.newPage();
    await gotoApp(page, server.url, server.data);
    await page.getByTestId('record').click();
    const said = await page.getByTestId('recording-error').textContent({ timeout: 10_000 });
    assert.match(said, /may not use the microphone\. To allow it/);
    assert.equal(await page.getByTestId('recording-time').count(), 0);
    await page.getByTestId('note-text').fill('Typed after all');
    await page.getByTestId('save-note').click();
    await waitForSaved(page);
    assert.deepEqual(await keptRecordings(page), [], 'nothing half-made is kept');
  });
});
