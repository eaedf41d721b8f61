// The residents' pages with no script at all, and with script but no
// WebAssembly, IndexedDB or service worker (as iOS Lockdown Mode leaves a
// phone): the server's plain pages and forms are all there is, and they do
// everything a resident needs. And a form on another site stores nothing.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { councillorToken, startServer, useBrowser } from './helpers.mjs';
import { CODE, PHONE, submitReport } from './screens.mjs';

const browser = useBrowser();

const CAMERA_JPEG = join(dirname(fileURLToPath(import.meta.url)), '..', 'crates', 'core', 'tests', 'fixtures', 'photos', 'street-gps.jpg');

const path = (page) => new URL(page.url()).pathname;

async function inboxPlaces(server) {
  const token = await councillorToken(server.url, server.data);
  const inbox = await (await fetch(`${server.url}/api/v1/inbox`, { headers: { authorization: `Bearer ${token}` } })).json();
  return inbox.reports.map((r) => [r.code, r.report.place]);
}

/** Fills the plain form as a resident would, and sends it. */
async function fillAndSend(page, { place, description, name, reach }) {
  await page.getByTestId('plain-kind-poor_lighting').check();
  await page.getByTestId('plain-report-place').fill(place);
  await page.getByTestId('plain-when-afterdark').check();
  await page.getByTestId('plain-report-description').fill(description);
  if (name) {
    await page.locator('#first-page summary').click();
    await page.getByTestId('plain-report-name').fill(name);
    await page.getByTestId('plain-report-reach').fill(reach);
  }
  await page.getByTestId('plain-send-report').click();
}

describe('with no script at all', () => {
  test('a resident reports a place (every problem shown first, nothing stored), gets a code, follows it and asks for erasure', async () => {
    const server = await startServer();
    const context = await browser.newContext({ ...PHONE, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.locator('#first-page h2', { hasText: 'Feel unsafe somewhere?' }).waitFor();
    assert.equal(await page.locator('noscript').count(), 0, 'no word about script on a page that needs none');
    await page.getByTestId('plain-home-report').click();
    await page.getByTestId('plain-send-report').click();

    // Sent empty: every problem beside its field, nothing stored.
    await page.getByTestId('plain-report-problem-count').getByText('4 things to fix before sending.').waitFor();
    for (const field of ['kind', 'place', 'when', 'description']) {
      assert.equal(await page.getByTestId(`plain-report-${field}-error`).isVisible(), true, field);
    }
    assert.equal(await page.getByTestId('plain-report-place').getAttribute('aria-invalid'), 'true');
    assert.deepEqual(await inboxPlaces(server), []);

    // Half right: what was typed stays, with the one problem left.
    await page.getByTestId('plain-report-place').fill('Subway under the ring road');
    await page.getByTestId('plain-report-description').fill('Three lights out\nand a broken mirror');
    await page.getByTestId('plain-send-report').click();
    await page.getByTestId('plain-report-kind-error').waitFor();
    assert.equal(await page.getByTestId('plain-report-place').inputValue(), 'Subway under the ring road');
    assert.equal(await page.getByTestId('plain-report-description').inputValue(), 'Three lights out\nand a broken mirror');

    // A camera's photo, sent whole: the server keeps it without its GPS.
    await page.getByTestId('plain-report-photo').setInputFiles(CAMERA_JPEG);
    await fillAndSend(page, {
      place: 'Subway under the ring road',
      description: 'Three lights out\nand a broken mirror',
      name: 'Sam',
      reach: 'sam@example.org',
    });
    const code = (await page.getByTestId('plain-report-code').textContent()).trim();
    assert.match(code, CODE);
    assert.equal(path(page), `/reports/${code}`);
    assert.equal(await page.getByTestId('plain-report-status-label').textContent(), 'New');
    assert.deepEqual(await inboxPlaces(server), [[code, 'Subway under the ring road']]);
    const token = await councillorToken(server.url, server.data);
    const inbox = await (await fetch(`${server.url}/api/v1/inbox`, { headers: { authorization: `Bearer ${token}` } })).json();
    assert.equal(inbox.reports[0].report.description, 'Three lights out\nand a broken mirror', 'line breaks as typed');
    assert.deepEqual(inbox.reports[0].report.contact, { name: 'Sam', reach: 'sam@example.org' });
    const photos = (await (await fetch(`${server.url}/api/v1/reports/${code}/photos`, { headers: { authorization: `Bearer ${token}` } })).json()).photos;
    assert.equal(photos.length, 1, 'the photo came with the words');
    const kept = Buffer.from(await (await fetch(`${server.url}/api/v1/photos/${photos[0].id}`, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer());
    assert.equal(kept.indexOf('Exif'), -1, 'no EXIF, so no GPS position');

    // A reload does not send it again.
    await page.reload();
    await page.getByTestId('plain-report-status-label').waitFor();
    assert.equal((await inboxPlaces(server)).length, 1);

    // Looked up by its code as typed from a note.
    await page.goto(`${server.url}/reports`);
    await page.getByTestId('plain-look-up-code').fill('banana');
    await page.getByTestId('plain-look-up').click();
    await page.getByTestId('plain-look-up-message').getByText('That is not a reference code').waitFor();
    await page.getByTestId('plain-look-up-code').fill(code.replace('-', ' ').toLowerCase());
    await page.getByTestId('plain-look-up').click();
    await page.getByTestId('plain-looked-up').waitFor();
    assert.equal(path(page), `/reports/${code}`);

    // Only the phone that made it is offered erasure.
    const stranger = await (await browser.newContext({ ...PHONE, javaScriptEnabled: false })).newPage();
    await stranger.goto(`${server.url}/reports/${code}`);
    await stranger.getByTestId('plain-looked-up').waitFor();
    assert.equal(await stranger.getByTestId('plain-request-erasure').count(), 0);
    await page.getByTestId('plain-request-erasure').click();
    await page.getByTestId('plain-erasure-requested').waitFor();
    const asked = await (await fetch(`${server.url}/api/v1/reports/${code}`, { headers: { 'beatbook-protocol': '2' } })).json();
    assert.ok(asked.erasure_requested_at, 'the request reached the server');

    // The meetings and the privacy page read as the app's.
    await page.goto(`${server.url}/meetings`);
    await page.getByTestId('plain-no-concerns').waitFor();
    await page.goto(`${server.url}/privacy`);
    assert.match(await page.getByTestId('plain-privacy-contact-days').textContent(), /90 days after your report is closed/);
  });

  test('an unknown code says so, and a page the server has no plain page for says what to do', async () => {
    const server = await startServer();
    const context = await browser.newContext({ ...PHONE, javaScriptEnabled: false });
    const page = await context.newPage();
    const unknown = await page.goto(`${server.url}/reports/AAAAA-AAAAA`);
    assert.equal(unknown.status(), 404);
    await page.getByTestId('plain-look-up-message').getByText('No report has this code').waitFor();
    await page.goto(`${server.url}/notes`);
    await page.locator('noscript a[href="/report"]').waitFor({ state: 'attached' });
  });
});

describe('a browser with script but no WebAssembly, IndexedDB or service worker (Lockdown Mode)', () => {
  test('the plain form works, and no app is downloaded', async () => {
    const server = await startServer();
    const context = await browser.newContext(PHONE);
    await context.addInitScript(() => {
      delete window.WebAssembly;
      Object.defineProperty(window, 'indexedDB', { value: undefined });
      Object.defineProperty(Navigator.prototype, 'serviceWorker', { get: () => undefined });
    });
    const page = await context.newPage();
    const wasm = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.endsWith('.wasm')) wasm.push(request.url());
    });
    await page.goto(`${server.url}/report`);
    await page.getByTestId('plain-send-report').waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.getAttribute('data-failed')), 'unsupported');
    assert.equal(await page.locator('#first-failed').isVisible(), false, 'the form, not a failure');
    await fillAndSend(page, { place: 'Bus shelter on Mill Lane', description: 'Men drinking, shouting at people' });
    const code = (await page.getByTestId('plain-report-code').textContent()).trim();
    assert.deepEqual(await inboxPlaces(server), [[code, 'Bus shelter on Mill Lane']]);
    assert.deepEqual(wasm, []);

    // Where the server has no plain page, the page says why nothing opens.
    await page.goto(`${server.url}/pair`);
    await page.locator('#first-failed .unsupported').getByText('This browser cannot run the app').waitFor();
  });
});

describe("a form on another site", () => {
  test('stores nothing, and is told so in a plain page', async () => {
    const server = await startServer();
    const body = new URLSearchParams({
      kind: 'poor_lighting', place: 'Anywhere', when: 'after_dark', description: 'Sent from elsewhere',
    });
    for (const headers of [
      { origin: 'https://elsewhere.example', 'sec-fetch-site': 'cross-site' },
      { origin: 'https://elsewhere.example' },
      {},
    ]) {
      const response = await fetch(`${server.url}/report`, { method: 'POST', headers, body, redirect: 'manual' });
      assert.equal(response.status, 403, JSON.stringify(headers));
      assert.match(response.headers.get('content-type'), /^text\/html/);
      assert.match(await response.text(), /sent from another website, so nothing was stored/);
    }
    const code = await submitReport(server.url);
    const erase = await fetch(`${server.url}/reports/${code}/erasure`, {
      method: 'POST', headers: { origin: 'https://elsewhere.example' }, redirect: 'manual',
    });
    assert.equal(erase.status, 403);
    assert.deepEqual((await inboxPlaces(server)).length, 1, 'only the report sent by the API');
    const status = await (await fetch(`${server.url}/api/v1/reports/${code}`, { headers: { 'beatbook-protocol': '2' } })).json();
    assert.equal(status.erasure_requested_at, undefined);
  });
});
