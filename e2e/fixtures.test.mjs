// Stored data from every release opens: each release's golden fixture
// (e2e/fixtures/<release>/, written by that release's own app and server with
// e2e/fixtures/make.mjs) is put back on a phone and under today's server, and
// today's app shows everything in it, still paired, and sends what waited.

import assert from 'node:assert/strict';
import { cp, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { newDataDir, serverNotes, startServer, useBrowser } from './helpers.mjs';
import { UNREADABLE_PREFIX, deviceToken } from './keys.mjs';

const browser = useBrowser();
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const releases = (await readdir(FIXTURES, { withFileTypes: true }))
  .filter((e) => e.isDirectory() && /^v\d+\.\d+\.\d+$/.test(e.name))
  .map((e) => e.name);

/** Puts a phone's storage back as a release left it (Blobs from base64). */
async function restoreStorage(page, storage) {
  await page.evaluate(async ({ localStorage: local, indexedDB: databases }) => {
    const decode = (value) => {
      if (Array.isArray(value)) return value.map(decode);
      if (value && typeof value === 'object') {
        const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        if ('$blob' in value) return new Blob([bytes(value.$blob)], { type: value.type });
        if ('$bytes' in value) return bytes(value.$bytes).buffer;
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]));
      }
      return value;
    };
    const request = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
    for (const [key, value] of Object.entries(local)) localStorage.setItem(key, value);
    for (const { name, version, stores } of databases) {
      const open = indexedDB.open(name, version);
      open.onupgradeneeded = () => {
        for (const s of stores) open.result.createObjectStore(s.name, { keyPath: s.keyPath, autoIncrement: s.autoIncrement });
      };
      const db = await request(open);
      for (const s of stores) {
        const tx = db.transaction(s.name, 'readwrite');
        for (const { key, value } of s.records) {
          if (s.keyPath === null) tx.objectStore(s.name).put(decode(value), key);
          else tx.objectStore(s.name).put(decode(value));
        }
        await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
      }
      db.close();
    }
  }, storage);
}

describe("every release's stored data opens in today's app and server", () => {
  assert.ok(releases.length > 0, 'at least one fixture');
  for (const release of releases) {
    test(`${release}: notes, shift, draft, reports and codes, photos, settings, the pairing and a set-aside entry`, async () => {
      const data = await newDataDir();
      await cp(join(FIXTURES, release, 'server-data'), data, { recursive: true });
      const server = await startServer({ data });
      const storage = JSON.parse(await readFile(join(FIXTURES, release, 'phone.json'), 'utf8'));
      const context = await browser.newContext();
      const page = await context.newPage();
      // The site's origin, without the app starting: then the phone's storage.
      await page.goto(`${server.url}/manifest.webmanifest`);
      await restoreStorage(page, storage);

      await page.goto(server.url);
      // The draft, in the running shift, on the notebook.
      await page.getByTestId('draft-recovered').waitFor();
      assert.equal(await page.getByTestId('note-text').inputValue(), 'Half a sentence, never saved');
      assert.match(await page.getByTestId('running-shift').textContent(), /Fixture walkabout$/);
      // Still paired: what waited is sent, once.
      await page.getByTestId('pending-count').getByText('All sent').waitFor({ timeout: 45_000 });
      const held = (await serverNotes(page, server.url)).map((n) => n.text).sort();
      assert.deepEqual(held, ['A note the server has', 'A note waiting, with a photo']);
      await page.getByTestId('nav-notes').click();
      await page.getByTestId('match-count').waitFor();
      assert.deepEqual((await page.getByTestId('note-item-text').allTextContents()).sort(), held);

      // Both reports, each with its code: the one that waited sent now.
      await page.goto(`${server.url}/reports`);
      const mine = page.getByTestId('my-report');
      await mine.getByText('Alley by the chip shop').waitFor();
      await mine.getByText('Bus stop on Mill Road').waitFor();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=my-report] [data-testid=report-code]').length === 2, null, { timeout: 30_000 });
      // Its photo, kept by the release before, follows its words.
      const code = (await mine.filter({ hasText: 'Alley by the chip shop' }).getByTestId('report-code').textContent()).trim();
      const token = await deviceToken(page);
      let photos = [];
      for (let i = 0; i < 150 && photos.length === 0; i += 1) {
        await new Promise((r) => { setTimeout(r, 200); });
        const listing = await fetch(`${server.url}/api/v1/reports/${code}/photos`, { headers: { authorization: `Bearer ${token}` } });
        photos = (await listing.json()).photos;
      }
      assert.equal(photos.length, 1, 'the waiting report\'s photo sent');

      // The theme chosen, the pairing, and the entry no release could read, kept aside.
      await page.goto(`${server.url}/settings`);
      assert.equal(await page.getByTestId('theme-dark').isChecked(), true);
      await page.getByTestId('paired').waitFor();
      const aside = await page.evaluate((prefix) => Object.keys(localStorage).filter((k) => k.startsWith(prefix)), UNREADABLE_PREFIX);
      assert.equal(aside.length, 1);
      await context.close();
      await server.stop();
    });
  }
});
