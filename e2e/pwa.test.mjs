// Installable, and starting with no network at all: the service worker, the
// manifest and updates, in a real Chromium against the real server.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { chromium } from 'playwright-core';

import {
  CHROMIUM_FLAGS, gotoApp, listedNotes, newProfileDir, openApp, watchErrors, required, saveNote, startServer, useBrowser, waitForSaved, waitForWorker,
} from './helpers.mjs';

const browser = useBrowser();

/** The hashed script and wasm a built index.html names. */
async function assetsOf(dist) {
  const html = await readFile(join(dist, 'index.html'), 'utf8');
  // Trunk writes the 64-bit hash without leading zeros.
  const js = html.match(/\/(beatbook-[0-9a-f]{8,16}\.js)/)[1];
  const wasm = html.match(/\/(beatbook-[0-9a-f]{8,16}_bg\.wasm)/)[1];
  return { js, wasm };
}

describe('install and offline start', () => {
  test('Chromium reports no installability errors', async () => {
    const server = await startServer();
    // A profile on disk: Chromium never offers to install from an incognito-like context.
    const context = watchErrors(await chromium.launchPersistentContext(await newProfileDir(), {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_FLAGS,
    }));
    const page = await openApp(context, server);
    await waitForWorker(page);
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installabilityErrors, []);
    const manifest = await (await page.request.get(`${server.url}/manifest.webmanifest`)).json();
    assert.ok(manifest.short_name.length <= 12);
    assert.deepEqual(manifest.shortcuts.map((s) => s.name), ['New note', 'Report a place']);
    await context.close();
    await server.stop();
  });

  test('after one visit the app starts with the server stopped, and saves notes', async () => {
    const server = await startServer();
    const context = await browser.newContext();
    const first = await openApp(context, server);
    await waitForWorker(first);
    await first.close();
    await server.stop();

    const page = await context.newPage();
    await gotoApp(page, server.url);
    await saveNote(page, 'Saved with the server stopped');
    await waitForSaved(page);
    await page.reload();
    await page.getByTestId('note-text').waitFor();
    assert.deepEqual(await listedNotes(page), ['Saved with the server stopped']);
    await context.close();
  });

  test('the app shows when the browser is offline', async () => {
    const server = await startServer();
    const context = await browser.newContext();
    const page = await openApp(context, server);
    assert.equal(await page.getByTestId('offline').count(), 0);
    await context.setOffline(true);
    await page.getByTestId('offline').waitFor();
    await context.setOffline(false);
    await page.getByTestId('offline').waitFor({ state: 'detached' });
    await context.close();
    await server.stop();
  });

  test('/api/ requests are never answered from the cache', async () => {
    const server = await startServer();
    const context = await browser.newContext();
    const page = await openApp(context, server);
    await waitForWorker(page);
    assert.equal(await page.evaluate(async () => (await fetch('/api/health')).status), 200);
    await server.stop();
    const offline = await page.evaluate(async () => {
      try {
        const response = await fetch('/api/health');
        return `answered ${response.status}`;
      } catch (error) {
        return `failed: ${error.name}`;
      }
    });
    assert.equal(offline, 'failed: TypeError');
    const cached = await page.evaluate(async () => {
      const urls = [];
      for (const name of await caches.keys()) {
        for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
      }
      return urls;
    });
    assert.ok(cached.includes('/index.html'));
    assert.ok(!cached.some((path) => path.startsWith('/api/')), `cached: ${cached}`);
    await context.close();
  });

  test('a new build is offered, and after the tap served whole, keeping the note being typed', async () => {
    const dist = required('BEATBOOK_DIST');
    const next = required('BEATBOOK_DIST_NEXT');
    const oldAssets = await assetsOf(dist);
    const newAssets = await assetsOf(next);
    assert.notEqual(oldAssets.wasm, newAssets.wasm, 'the second build differs');

    const server = await startServer();
    const context = await browser.newContext();
    const page = await openApp(context, server);
    await waitForWorker(page);
    const other = await openApp(context, server);
    await server.stop();
    const nextServer = await startServer({ port: server.port, dist: next });

    const typed = 'Typing when the update came';
    await page.getByTestId('note-text').fill(typed);
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
    await page.getByTestId('update-ready').waitFor();
    assert.match(await page.getByTestId('update-ready').textContent(), /A new version of Beatbook is ready/);

    await Promise.all([page.waitForEvent('load'), page.getByTestId('apply-update').click()]);
    await page.getByTestId('note-text').waitFor();
    await page.getByTestId('draft-recovered').waitFor();
    assert.equal(await page.getByTestId('note-text').inputValue(), typed);

    const loaded = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname));
    assert.ok(loaded.includes(`/${newAssets.js}`), `new script loaded: ${loaded}`);
    assert.ok(loaded.includes(`/${newAssets.wasm}`), `new wasm loaded: ${loaded}`);
    assert.ok(!loaded.includes(`/${oldAssets.js}`) && !loaded.includes(`/${oldAssets.wasm}`), 'nothing of the old build');
    await page.getByTestId('nav-settings').click();
    assert.match(await page.getByTestId('version').textContent(), /\(next\)/);
    const caches = await page.evaluate(async () => caches.keys());
    assert.equal(caches.length, 1, `the old version's cache is gone: ${caches}`);

    // A second tab still running the old version is offered the update too,
    // and its tap brings the new version whole.
    await other.getByTestId('update-ready').waitFor();
    await Promise.all([other.waitForEvent('load'), other.getByTestId('apply-update').click()]);
    await other.getByTestId('nav-settings').click();
    assert.match(await other.getByTestId('version').textContent(), /\(next\)/);
    await context.close();
    await nextServer.stop();
  });
});
