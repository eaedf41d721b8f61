// Sync against the real server: every note delivered exactly once, whatever
// fails in between.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  councillorToken, openApp, pairApp, revokeAll, saveNote, serverNotes, serviceWorkers, startServer, startShift,
  useBrowser, waitForSaved, waitForWorker,
} from './helpers.mjs';
import { startProxy } from './proxy.mjs';
import { INBOX_KEY, deviceToken } from './keys.mjs';

const browser = useBrowser();

async function waitAllSent(page, timeout = 45_000) {
  await page.getByTestId('pending-count').getByText('All sent').waitFor({ timeout });
}

function countById(notes) {
  const counts = new Map();
  for (const n of notes) counts.set(n.id, (counts.get(n.id) ?? 0) + 1);
  return counts;
}

describe('sync', () => {
  test('pairing refuses a wrong code with a clear message', async () => {
    const server = await startServer();
    const context = await browser.newContext();
    const page = await openApp(context, server.url);
    await page.getByTestId('home-pair').click();
    await page.getByTestId('pair-code').fill('AAAAA-BBBBB');
    await page.getByTestId('pair').click();
    const error = await page.getByTestId('pair-error').textContent();
    assert.match(error, /Not paired: this pairing code is not one this server made/);
    await context.close();
    await server.stop();
  });

  test("a paired phone's notes saved with no signal are sent by the service worker with every page closed", async () => {
    const server = await startServer();
    const context = await browser.newContext();
    const workers = await serviceWorkers(context);
    const page = await openApp(context, server);
    await waitForWorker(page);
    await server.stop();
    await saveNote(page, 'Group by the cash machine, 23:40');
    await waitForSaved(page);
    await saveNote(page, 'Same group moved to the bus station');
    await page.getByTestId('save-status').getByText('2 waiting').waitFor();
    await page.waitForFunction(() => new Promise((resolve) => {
      const open = indexedDB.open('beatbook-courier');
      open.onsuccess = () => {
        const read = open.result.transaction('letters').objectStore('letters').get('beatbook/letters/records');
        read.onsuccess = () => { resolve(Boolean(read.result) && JSON.parse(read.result).body.includes('bus station')); open.result.close(); };
      };
    }));
    await page.close();

    const again = await startServer({ port: server.port, data: server.data });
    await workers.dispatchSync(server.url);
    const token = await councillorToken(again.url, again.data);
    let held = [];
    for (let i = 0; i < 50 && held.length < 2; i += 1) {
      const answer = await fetch(`${again.url}/api/v1/notes`, { headers: { authorization: `Bearer ${token}` } });
      held = (await answer.json()).notes;
      if (held.length < 2) await new Promise((resolve) => { setTimeout(resolve, 100); });
    }
    assert.deepEqual(held.map((n) => n.text).sort(), ['Group by the cash machine, 23:40', 'Same group moved to the bus station']);

    const reopened = await context.newPage();
    await reopened.goto(again.url);
    await waitAllSent(reopened);
    assert.equal((await serverNotes(reopened, again.url)).length, 2, 'each once');
    await context.close();
    await again.stop();
  });

  test('notes saved while the server is down arrive once when it comes back', async () => {
    const server = await startServer();
    const context = await browser.newContext();
    const page = await openApp(context, server);
    await pairApp(page, server.data);
    await server.stop();

    const texts = ['First, server down', 'Second, server down', 'Third, server down'];
    for (const text of texts) {
      await saveNote(page, text);
      await waitForSaved(page);
    }
    await page.getByTestId('sync-error').getByText('no answer from the server').waitFor();
    assert.match(await page.getByTestId('pending-count').textContent(), /3 saved on this phone, not sent yet/);

    const again = await startServer({ port: server.port, data: server.data });
    await waitAllSent(page);
    const held = await serverNotes(page, again.url);
    assert.deepEqual(held.map((n) => n.text).sort(), [...texts].sort());
    assert.ok([...countById(held).values()].every((c) => c === 1));
    await page.getByTestId('nav-notes').click();
    assert.deepEqual(
      await page.getByTestId('sync-badge').allTextContents(),
      ['Sent', 'Sent', 'Sent'],
    );
    await context.close();
    await again.stop();
  });

  test("a server that no longer answers this app says to update, and the notes wait on the phone until it answers again", async () => {
    const server = await startServer();
    const context = await browser.newContext();
    const page = await openApp(context, server);
    await pairApp(page, server.data);
    await server.stop();
    // The same server and data, its operator now answering only apps of a
    // later protocol level than this one reads.
    const later = await startServer({
      port: server.port,
      data: server.data,
      args: ['--addr', `127.0.0.1:${server.port}`, '--oldest-app-level', '99'],
    });
    await saveNote(page, 'Saved while the app is too old');
    await waitForSaved(page);
    await page.getByTestId('sync-error')
      .getByText("This phone's Beatbook is too old for the server: tap Update now.").waitFor();
    assert.match(await page.getByTestId('pending-count').textContent(), /1 saved on this phone, not sent yet/);
    const token = await deviceToken(page);
    const listed = await fetch(`${later.url}/api/v1/notes`, {
      headers: { authorization: `Bearer ${token}`, 'beatbook-protocol': '99' },
    });
    assert.deepEqual((await listed.json()).notes, [], 'nothing of it stored');
    await later.stop();

    const again = await startServer({ port: server.port, data: server.data });
    await waitAllSent(page);
    assert.deepEqual((await serverNotes(page, again.url)).map((n) => n.text), ['Saved while the app is too old']);
    await context.close();
    await again.stop();
  });

  test('an answer lost after the server stored the batch is retried without duplicates', async () => {
    const server = await startServer();
    const proxy = await startProxy(server.port);
    const context = await browser.newContext();
    const page = await openApp(context, proxy.url);
    await pairApp(page, server.data);
    proxy.inject('drop-after-store');
    await saveNote(page, 'Stored, then the answer was lost');
    await waitForSaved(page);
    await waitAllSent(page);
    assert.ok(proxy.seen.sync >= 2, `retried after the drop (${proxy.seen.sync} sync requests)`);
    const held = await serverNotes(page, server.url);
    assert.deepEqual(held.map((n) => n.text), ['Stored, then the answer was lost']);
    await context.close();
    await proxy.stop();
    await server.stop();
  });

  test('500s and 429s for a while: the app backs off, then delivers everything once', async () => {
    const server = await startServer();
    const proxy = await startProxy(server.port);
    const context = await browser.newContext();
    const page = await openApp(context, proxy.url);
    await pairApp(page, server.data);
    proxy.inject('error-500', 'error-500', 'rate-limit', 'rate-limit');
    for (const text of ['Backoff one', 'Backoff two']) {
      await saveNote(page, text);
      await waitForSaved(page);
    }
    await waitAllSent(page, 60_000);
    assert.equal(proxy.seen.failed, 4);
    const held = await serverNotes(page, server.url);
    assert.deepEqual(held.map((n) => n.text).sort(), ['Backoff one', 'Backoff two']);
    await context.close();
    await proxy.stop();
    await server.stop();
  });

  test('two tabs syncing at once create no duplicates', async () => {
    const server = await startServer();
    const context = await browser.newContext();
    const first = await openApp(context, server);
    await pairApp(first, server.data);
    const second = await openApp(context, server);
    await server.stop();
    // Each tab's note typed once its last is saved, as a person would.
    for (let i = 0; i < 5; i += 1) {
      await saveNote(first, `Tab one, note ${i}`);
      await saveNote(second, `Tab two, note ${i}`);
      await waitForSaved(first);
      await waitForSaved(second);
    }
    const again = await startServer({ port: server.port, data: server.data });
    for (const page of [first, second]) await page.getByTestId('nav-settings').click();
    await Promise.all([first, second].map((page) => page.getByTestId('sync-now').click()));
    await waitAllSent(first);
    await waitAllSent(second);
    const held = await serverNotes(first, again.url);
    assert.equal(held.length, 10);
    assert.ok([...countById(held).values()].every((c) => c === 1));
    await context.close();
    await again.stop();
  });
});

describe('keeping every promise with signal', () => {
  test('a shift sent while running is ended, a sent note is corrected, and the server keeps both versions', async () => {
    const server = await startServer();
    const context = await browser.newContext();
    const page = await openApp(context, server);
    await pairApp(page, server.data);
    await page.getByTestId('nav-capture').click();
    await startShift(page, 'walkabout', 'Station walkabout');
    await page.getByTestId('running-shift').waitFor();
    await waitAllSent(page);
    for (const text of ['Light out by the underpass', 'Bins on fire behind the shops']) {
      await saveNote(page, text);
      await waitForSaved(page);
    }
    await waitAllSent(page);

    // The shift is on the server already; ending it must still work.
    await page.getByTestId('nav-capture').click();
    await page.getByTestId('end-shift').click();
    await page.getByTestId('confirm-end-shift').click();
    await page.getByTestId('start-shift').waitFor();
    assert.equal(await page.getByTestId('running-shift').count(), 0);
    await waitAllSent(page);

    // Correct a note the server holds.
    await page.getByTestId('nav-notes').click();
    await page.getByTestId('note-item').filter({ hasText: 'Light out' }).locator('.note-open').click();
    assert.match(await page.getByTestId('on-server-hint').textContent(), /cannot be deleted here/);
    assert.equal(await page.getByTestId('delete-note').count(), 0, 'a sent note offers no Delete');
    await page.getByTestId('edit-note').click();
    await page.getByTestId('correction-hint').waitFor();
    await page.getByTestId('note-text').fill('Light out by the underpass; police attended');
    await page.getByTestId('save-note').click();
    await page.getByTestId('note-detail-text').getByText('police attended').waitFor();
    await waitAllSent(page);
    await page.getByTestId('sync-badge').getByText('Sent').waitFor();

    const token = await deviceToken(page);
    const auth = { authorization: `Bearer ${token}` };
    const held = await serverNotes(page, server.url);
    assert.equal(held.length, 2, 'each note once');
    const corrected = held.find((n) => n.text.startsWith('Light out'));
    assert.equal(corrected.text, 'Light out by the underpass; police attended');
    assert.equal(corrected.sync.revision, 2);
    const shifts = (await (await fetch(`${server.url}/api/v1/shifts`, { headers: auth })).json()).shifts;
    assert.equal(shifts.length, 1);
    assert.ok(shifts[0].ended_at, 'the server holds the shift ended');
    assert.equal(shifts[0].sync.revision, 2);
    assert.ok(held.every((n) => n.shift_id === shifts[0].id), 'both notes in the shift');
    const history = await (await fetch(`${server.url}/api/v1/notes/${corrected.id}/revisions`, { headers: auth })).json();
    assert.deepEqual(
      history.revisions.map((r) => [r.revision, r.record.text]),
      [[1, 'Light out by the underpass'], [2, 'Light out by the underpass; police attended']],
    );
    await context.close();
    await server.stop();
  });

  test('unpairing, and a revoked token, remove the kept inbox from the phone and say so', async () => {
    const server = await startServer();
    const context = await browser.newContext();
    const page = await openApp(context, server);
    const kept = () => page.evaluate((key) => localStorage.getItem(key), INBOX_KEY);

    await pairApp(page, server.data);
    await page.getByTestId('nav-inbox').click();
    await page.getByTestId('inbox-fetched').getByText('Fetched').waitFor();
    assert.ok(await kept(), 'the inbox is kept for offline reading');
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('unpair').click();
    await page.getByTestId('confirm-unpair').click();
    await page.getByTestId('notice').getByText('copy of the inbox was removed').waitFor();
    assert.equal(await kept(), null);

    await pairApp(page, server.data);
    await page.getByTestId('nav-inbox').click();
    await page.getByTestId('inbox-fetched').getByText('Fetched').waitFor();
    assert.ok(await kept());
    await revokeAll(server.data);
    await page.getByTestId('inbox-refresh').click();
    await page.getByTestId('inbox-error').getByText('copy of the inbox kept on this phone has been removed').waitFor();
    assert.equal(await kept(), null);
    assert.equal(await page.getByTestId('inbox-fetched').textContent(), 'Not fetched yet');
    await context.close();
    await server.stop();
  });
});
