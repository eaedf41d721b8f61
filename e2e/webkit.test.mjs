// The core scenarios in WebKit, the engine of every browser on an iPhone:
// WebKitGTK's MiniBrowser driven through WebKitWebDriver (W3C WebDriver; it
// is WebKit, not Safari, but the engine's differences are caught here). A
// resident's first visit and a report made with the server stopped; a
// councillor's notes saved and reloaded with no server, each delivered
// once; a photo kept and sent; a spoken note recorded, saved and played
// back (or a plain message where the engine has no recorder); the report
// form with no script.

import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { councillorToken, pairingCode, startServer, stopAfterTest } from './helpers.mjs';
import { CODE } from './screens.mjs';
import { openBrowser, startDriver } from './webdriver.mjs';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'crates', 'core', 'tests', 'fixtures', 'photos');

// A driver (and display) of its own for each test, stopped after it: no
// test meets another's browser processes.
let open = [];
afterEach(async () => {
  for (const stop of open.reverse()) await stop();
  open = [];
});

/** A MiniBrowser window at phone size, closed after the test. */
async function phone(options) {
  const driver = await startDriver();
  open.push(() => driver.stop());
  const browser = await openBrowser(driver, options);
  open.push(() => browser.close());
  await browser.setWindowRect({ width: 390, height: 844 });
  return browser;
}

async function inbox(server) {
  const token = await councillorToken(server.url, server.data);
  return (await fetch(`${server.url}/api/v1/inbox`, { headers: { authorization: `Bearer ${token}` } })).json();
}

/** Waits for this page to be controlled by the app's service worker. */
async function workerInControl(browser) {
  await browser.waitFor('return !!(navigator.serviceWorker && navigator.serviceWorker.controller)', {
    timeout: 30_000, what: 'the service worker to take control',
  });
}

/** The connection is back, as the browser says when it returns. */
async function signalBack(browser) {
  await browser.evaluate("window.dispatchEvent(new Event('online'))");
}

async function tap(browser, testid) {
  await (await browser.find(`[data-testid="${testid}"]`)).click();
}

async function fill(browser, testid, text) {
  const field = await browser.find(`[data-testid="${testid}"]`);
  await field.clear();
  await field.type(text);
}

/** Pairs the phone from its pairing screen, as a councillor does. */
async function pair(browser, server) {
  await browser.goto(`${server.url}/pair`);
  await fill(browser, 'pair-code', await pairingCode(server.data));
  await tap(browser, 'pair');
}

describe('WebKit', () => {
  test("a resident's first visit: the worker takes control, and a report made with the server stopped is delivered once with its code", async () => {
    const server = await startServer();
    const browser = await phone();
    await browser.goto(server.url);
    await browser.find('[data-testid="home-report"]');
    await workerInControl(browser);
    await server.stop();

    await tap(browser, 'home-report');
    await tap(browser, 'kind-poor_lighting');
    await fill(browser, 'report-place', 'Cut-through behind the shops');
    await tap(browser, 'when-afterdark');
    await fill(browser, 'report-description', 'No light at all, and people hang around');
    await tap(browser, 'send-report');
    await browser.find('[data-testid="report-delivery"].pending');

    const again = stopAfterTest(await startServer({ port: server.port, data: server.data }));
    await signalBack(browser);
    const code = (await (await browser.find('[data-testid="report-code"]', { timeout: 30_000 })).text()).trim();
    assert.match(code, CODE);
    const held = await inbox(again);
    assert.deepEqual(held.reports.map((r) => [r.code, r.report.place]), [[code, 'Cut-through behind the shops']]);
  });

  test("a councillor's notes saved with the server stopped are listed after a reload with no server, and each delivered once", async () => {
    const server = await startServer();
    const browser = await phone();
    await pair(browser, server);
    await browser.find('[data-testid="note-text"]');
    await workerInControl(browser);
    await server.stop();

    const texts = ['Lamp out on Mill Lane', 'Group by the garages, moved on', 'Broken glass at the bus stop'];
    for (const text of texts) {
      await fill(browser, 'note-text', text);
      await tap(browser, 'save-note');
      await browser.waitFor(
        "return document.querySelector('[data-testid=note-text]').value === '' && /^Saved on this phone/.test(document.querySelector('[data-testid=save-status]')?.textContent ?? '')",
        { what: `"${text}" to be saved` },
      );
    }
    await browser.reload();
    await tap(browser, 'nav-notes');
    for (const text of texts) {
      await browser.waitFor('return document.body.innerText.includes(arguments[0])', { what: text }, text);
    }

    const again = stopAfterTest(await startServer({ port: server.port, data: server.data }));
    await signalBack(browser);
    const token = await councillorToken(again.url, again.data);
    let notes = [];
    for (let i = 0; i < 100 && notes.length < texts.length; i += 1) {
      await new Promise((r) => setTimeout(r, 200));
      notes = (await (await fetch(`${again.url}/api/v1/notes`, { headers: { authorization: `Bearer ${token}` } })).json()).notes;
    }
    assert.deepEqual(notes.map((n) => n.text).sort(), [...texts].sort(), 'each delivered once');
    await browser.waitFor("return !document.body.innerText.includes('waiting')", { what: 'nothing waiting' });
  });

  test('a photo is kept with its note and sent after the words, once', async () => {
    const server = await startServer();
    const browser = await phone();
    await pair(browser, server);
    const text = 'Fly-tipping by the canal gate';
    await fill(browser, 'note-text', text);
    await (await browser.find('[data-testid="photo-gallery"]')).type(join(FIXTURES, 'street.png'));
    await browser.find('[data-testid="picked-photo"]');
    await tap(browser, 'save-note');
    await browser.waitFor("return document.querySelector('[data-testid=note-text]').value === ''", { what: 'the note saved' });

    await tap(browser, 'nav-notes');
    await browser.waitFor(
      'const hit = [...document.querySelectorAll("#main li *")].find((e) => e.children.length === 0 && e.textContent.includes(arguments[0])); if (hit) hit.click(); return !!hit;',
      { what: 'the note in the list' },
      text,
    );
    await browser.waitFor(
      "return document.querySelector('[data-testid=photo-state]')?.textContent === 'Sent'",
      { timeout: 60_000, what: 'the photo sent' },
    );
    const files = (await readdir(join(server.data, 'photos'))).filter((f) => !f.startsWith('.'));
    assert.equal(files.length, 1, 'one photo on the server');
  });

  test('a spoken note is recorded from a stand-in microphone, saved and played back, or the engine says plainly it has no recorder', async () => {
    const server = await startServer();
    const browser = await phone({ args: ['--enable-media-stream=true', '--enable-mock-capture-devices=true'] });
    await pair(browser, server);
    await browser.find('[data-testid="note-text"]');
    const canRecord = await browser.evaluate("return typeof MediaRecorder === 'function' && !!navigator.mediaDevices");
    if (!canRecord) {
      const said = await (await browser.find('[data-testid="no-recorder"]')).text();
      assert.match(said, /cannot record sound here\. Type the note instead\./);
      console.log('WebKit: this engine has no recorder, and says so');
      return;
    }
    await tap(browser, 'record');
    const outcome = await browser.waitFor(
      "return document.querySelector('[data-testid=recording-time]') ? 'recording' : document.querySelector('[data-testid=recording-error]')?.textContent",
      { what: 'the recording to start, or a plain reason it cannot' },
    );
    if (outcome !== 'recording') {
      // This engine's build offers a recorder it cannot record with (its
      // encoders missing), or no microphone: the person is told why, in
      // words, and can type instead.
      assert.match(outcome, /cannot record sound with it here|microphone/);
      console.log(`WebKit: no recording here, and the person is told: ${outcome}`);
      return;
    }
    await browser.waitFor("return /^Recording 0:02/.test(document.querySelector('[data-testid=recording-time]')?.textContent ?? '')", { what: 'two seconds recorded' });
    await tap(browser, 'save-note');
    await browser.waitFor("return /^Saved on this phone/.test(document.querySelector('[data-testid=save-status]')?.textContent ?? '')", { what: 'the spoken note saved' });
    await tap(browser, 'nav-notes');
    await browser.waitFor(
      'const hit = [...document.querySelectorAll("#main li *")].find((e) => e.children.length === 0 && e.textContent.startsWith("Spoken note (0:0")); if (hit) hit.click(); return !!hit;',
      { what: 'the spoken note in the list' },
    );
    const player = await browser.waitFor(
      "const p = document.querySelector('[data-testid=recording-player]'); return p && p.src.startsWith('blob:') && p.readyState >= 1 && p.duration > 0 ? p.duration : false",
      { what: 'the recording ready to play' },
    );
    assert.ok(player > 0);
    console.log(`WebKit: a spoken note recorded, saved and played back (${player.toFixed(1)} s)`);
    await browser.waitFor(
      "return /· Sent$/.test(document.querySelector('[data-testid=recording-state]')?.textContent ?? '')",
      { timeout: 60_000, what: 'the recording sent' },
    );
  });

  test('with no script, a resident reports a place and gets a code', async () => {
    const server = await startServer();
    const browser = await phone({ args: ['--enable-javascript-markup=false'] });
    await browser.goto(`${server.url}/report`);
    await tap(browser, 'plain-send-report');
    await browser.find('[data-testid="plain-report-problem-count"]');
    await tap(browser, 'plain-kind-poor_lighting');
    await fill(browser, 'plain-report-place', 'Footbridge over the railway');
    await tap(browser, 'plain-when-afterdark');
    await fill(browser, 'plain-report-description', 'Lights out on the steps');
    await tap(browser, 'plain-send-report');
    const code = (await (await browser.find('[data-testid="plain-report-code"]')).text()).trim();
    assert.match(code, CODE);
    assert.deepEqual((await inbox(server)).reports.map((r) => r.code), [code]);
  });
});
