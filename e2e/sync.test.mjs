// Sync against the real server: every note delivered exactly once, whatever
// fails in between.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  openApp, pairApp, saveNote, serverNotes, startServer, useBrowser,
} from './helpers.mjs';
import { startProxy } from './proxy.mjs';

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
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('pair-code').fill('AAAAA-BBBBB');
    await page.getByTestId('pair').click();
    const error = await page.getByTestId('pair-error').textContent();
    assert.match(error, /Not paired: this pairing code is not valid/);
    await context.close();
    await server.stop();
  });

  test('notes saved while the server is down arrive once when it comes back', async () => {
    const server = await startServer();
    const context = await browser.newContext();
    const page = await openApp(context, server.url);
    await pairApp(page, server.data);
    await server.stop();

    const texts = ['First, server down', 'Second, server down', 'Third, server down'];
    for (const text of texts) {
      await saveNote(page, text);
      await page.getByTestId('save-status').getByText('Saved on this phone').waitFor();
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

  test('an answer lost after the server stored the batch is retried without duplicates', async () => {
    const server = await startServer();
    const proxy = await startProxy(server.port);
    const context = await browser.newContext();
    const page = await openApp(context, proxy.url);
    await pairApp(page, server.data);
    proxy.inject('drop-after-store');
    await saveNote(page, 'Stored, then the answer was lost');
    await page.getByTestId('save-status').getByText('Saved on this phone').waitFor();
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
      await page.getByTestId('save-status').getByText('Saved on this phone').waitFor();
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
    const first = await openApp(context, server.url);
    await pairApp(first, server.data);
    const second = await openApp(context, server.url);
    await server.stop();
    for (let i = 0; i < 5; i += 1) {
      await saveNote(first, `Tab one, note ${i}`);
      await saveNote(second, `Tab two, note ${i}`);
    }
    await first.getByTestId('save-status').getByText('Saved on this phone').waitFor();
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
