// Shared set-up for the end-to-end tests: the real server, a real headless
// Chromium, and small steps a person would take in the app.

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach } from 'node:test';
import { chromium } from 'playwright-core';
import { deviceToken, isPaired } from './keys.mjs';

// Flags that let Chromium run headless as root on a machine with no network.
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run a test file with \`cargo xtask e2e FILE\`, or all with \`cargo xtask test\``);
  return value;
}

/**
 * What a test started and must not leave running: servers, proxies and
 * browser contexts. `useBrowser()` stops them after each test, whether it
 * passed or an assertion failed half-way; stopping twice is harmless.
 */
const running = new Set();
/** Whether a test is running: what a file's `before` starts is the file's own. */
let inTest = false;

/** Registers something with an async `stop()` (or `close()`) for clean-up
 * after the test that started it. */
export function stopAfterTest(thing) {
  if (inTest) running.add(thing);
  return thing;
}

/** Closes the test's browser contexts, then stops its servers: a server
 * stopped first would fail a page's request still in flight (its service
 * worker's script, say), which the browser logs as an error. */
async function stopEverything() {
  const things = [...running];
  running.clear();
  await Promise.allSettled(things.filter((t) => !t.stop).map((t) => t.close()));
  await Promise.allSettled(things.filter((t) => t.stop).map((t) => t.stop()));
}

/** Resolves to what `check` gives once it is truthy, trying every 250 ms;
 * fails naming `what` after `timeoutMs`. */
export async function until(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what}: ${e.message}`);
    }
    if (Date.now() > deadline) throw new Error(`${what}: timed out`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A program a test starts (a proxy, a certificate authority), killed after
 * the test whatever happens; `log()` is what it printed. */
export function startProgram(command, args, { env = {}, cwd } = {}) {
  const proc = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (c) => { log += c; });
  proc.stderr.on('data', (c) => { log += c; });
  return stopAfterTest({
    log: () => log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await once(proc, 'exit');
      }
    },
  });
}

/** A port nothing listens on now, on loopback. */
export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** A new empty folder for a server's database. */
export async function newDataDir() {
  return temporaryDir('beatbook-data-');
}

/** Folders made for databases and browser profiles, removed when the file's tests end. */
const madeDirs = [];
async function temporaryDir(prefix) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

/**
 * Starts the real server on loopback; `port` 0 picks a free one. Pass the
 * same `data` folder to restart a server with its database, `database` to
 * keep the records in that PostgreSQL database instead, and `binary` for
 * another build of it (the previous release's).
 */
export async function startServer({
  port = 0, dist = required('BEATBOOK_DIST'), data, database, args, binary = required('BEATBOOK_SERVER'),
} = {}) {
  const dataDir = data ?? await newDataDir();
  const proc = spawn(
    binary,
    ['serve', ...(args ?? ['--addr', `127.0.0.1:${port}`]), '--dist', dist, '--data', dataDir,
      ...(database ? ['--database', database] : [])],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the server did not start within 10 s')), 10_000);
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const found = out.match(/running at (https?:\/\/\S+?)\/?\s/);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
    proc.on('exit', (code) => reject(new Error(`the server exited with ${code} before it started`)));
  });
  return stopAfterTest({
    url,
    data: dataDir,
    port: Number(new URL(url).port),
    async stop() {
      running.delete(this);
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await once(proc, 'exit');
      }
    },
    /** Stops it as systemd does (SIGTERM), letting it finish what it has
     * begun; resolves to its exit code. */
    async terminate() {
      running.delete(this);
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const [code] = await once(proc, 'exit');
      return code;
    },
  });
}

/** A fresh browser with an empty profile; its contexts are watched for
 * errors (`watchErrors`). */
/** Chromium's stand-in microphone (a beeping tone), given to every page
 * without asking, as a person who has allowed it would. */
export const FAKE_MICROPHONE = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

export async function launchBrowser(extraArgs = []) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_FLAGS, ...extraArgs],
  });
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => watchErrors(await newContext(options));
  return browser;
}

/**
 * What the app threw or logged as an error during the current test, in any
 * page of any context `watchErrors` was given: a Rust panic traps the
 * WebAssembly module (`RuntimeError: unreachable`) and reaches here as a
 * page error, so no test can pass with one unseen.
 */
let appErrors = [];
/** Messages a test expects (a download it makes fail, say), as patterns. */
let expectedErrors = [];

/** Lets the current test pass with errors matching `pattern` (a RegExp),
 * which it provokes on purpose. */
export function expectAppErrors(pattern) {
  expectedErrors.push(pattern);
}

/** The browser's own words for a request that got no answer: the network's
 * doing (a server a test stopped), not the app's. */
const NETWORK_NOISE = /^Failed to load resource|net::ERR_|^The FetchEvent for .* resulted in a network error/;

/** Collects every uncaught error and console error of `context`'s pages (and
 * of pages it opens later) for the check after the test. */
export function watchErrors(context) {
  const where = (message) => {
    const url = message.location?.().url;
    return url ? ` (${url})` : '';
  };
  context.on('weberror', (error) => {
    appErrors.push(`uncaught: ${error.error().stack ?? error.error().message}`);
  });
  context.on('console', (message) => {
    if (message.type() !== 'error' || NETWORK_NOISE.test(message.text())) return;
    appErrors.push(`console.error: ${message.text()}${where(message)}`);
  });
  return context;
}

/** Fails the test that just ran if its pages threw or logged an error it
 * did not expect. */
function checkErrors() {
  const unexpected = appErrors.filter((e) => !expectedErrors.some((p) => p.test(e)));
  appErrors = [];
  expectedErrors = [];
  if (unexpected.length) {
    throw new Error(`the app threw or logged ${unexpected.length} error(s):\n${unexpected.join('\n')}`);
  }
}

/** Fails each test of the file whose pages threw or logged an error it did
 * not expect (`useBrowser` does this itself; a file that launches its own
 * browsers calls it). */
export function failOnAppErrors() {
  beforeEach(() => {
    appErrors = [];
    expectedErrors = [];
  });
  afterEach(() => checkErrors());
}

/** One browser for a test file: launched before its tests, closed after
 * them. Tests open their own contexts on it; every context of it is
 * watched for errors (`watchErrors`), and a test fails on one. */
export function useBrowser(extraArgs = []) {
  let browser;
  before(async () => {
    browser = await launchBrowser(extraArgs);
  });
  beforeEach(() => { inTest = true; });
  afterEach(async () => {
    inTest = false;
    await stopEverything();
  });
  failOnAppErrors();
  after(async () => {
    await stopEverything();
    await browser?.close();
  });
  return { newContext: async (options) => stopAfterTest(await browser.newContext(options)) };
}

export async function newProfileDir() {
  return temporaryDir('beatbook-e2e-');
}

/**
 * Opens the app. Given a started server (`{ url, data }`), the phone is
 * paired through the app's own pairing screen, as a councillor's would be,
 * and the page waits on the notebook's capture screen; given only an
 * address, it is a resident's phone and waits on the residents' home.
 * `pairWith` pairs with that data folder while opening `server` as an
 * address (a proxy in front of the server).
 */
export async function openApp(context, server, { pairWith } = {}) {
  const page = await context.newPage();
  const url = typeof server === 'string' ? server : server.url;
  const data = pairWith ?? (typeof server === 'string' ? undefined : server.data);
  await page.goto(url);
  if (!data) {
    await page.getByTestId('home-report').waitFor();
    return page;
  }
  const paired = await isPaired(page);
  if (!paired) {
    const code = await pairingCode(data);
    await page.getByTestId('home-pair').click();
    await page.getByTestId('pair-code').fill(code);
    await page.getByTestId('pair').click();
  }
  await page.getByTestId('note-text').waitFor();
  return page;
}

/**
 * Goes to the app in `page` on a phone that shows the notebook. Given the
 * server's data folder, a phone still on the residents' home is paired first.
 */
export async function gotoApp(page, url, data) {
  await page.goto(url);
  if (data) {
    // Once start-up has checked the crash-proof copy (`main` is no longer
    // busy): a phone whose notebook came back from it hands over from the
    // residents' entry to the notebook's.
    const settled = page.locator('main:not([aria-busy])');
    await settled.getByTestId('note-text').or(settled.getByTestId('home-pair')).first().waitFor();
    if (await page.getByTestId('home-pair').count()) await pairApp(page, data);
  }
  await page.getByTestId('note-text').waitFor();
}

/** Chooses a category on the note form, opening "More…" if it is not among the first. */
export async function chooseCategory(page, category) {
  const chip = page.locator(`input[name=category][value=${category}]`);
  if (!(await chip.count())) await page.getByTestId('more-categories').click();
  await chip.check();
}

/** Waits until the service worker controls the page and its cache is full. */
export async function waitForWorker(page) {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
    }
  });
}

/**
 * Waits for the capture screen to confirm a save. With signal the
 * confirmation can turn from "Saved on this phone" into "Sent." before it is
 * looked at; both are said only once the note is on the phone.
 */
export async function waitForSaved(page) {
  await page.getByTestId('save-status').getByText(/^(Saved on this phone|Sent\.)/).waitFor();
  // The toast may still be the last save's: the form empties itself once
  // this one is saved (a tap during a save waits for it, then saves).
  await page.waitForFunction(() => {
    const box = document.querySelector('[data-testid=note-text]');
    return box === null || box.value === '';
  });
}

/** Types a note on the capture screen and taps Save. */
export async function saveNote(page, text, { category, place } = {}) {
  if (!(await page.getByTestId('note-text').isVisible())) await page.getByTestId('nav-capture').click();
  await page.getByTestId('note-text').fill(text);
  if (category) await chooseCategory(page, category);
  if (place) await page.getByTestId('note-place').fill(place);
  await page.getByTestId('save-note').click();
}

export async function startShift(page, kind, title) {
  await page.getByTestId('start-shift').click();
  await page.getByTestId('shift-kind').selectOption(kind);
  await page.getByTestId('shift-title').fill(title);
  await page.getByTestId('start-shift-confirm').click();
}

/** The texts in the notes list, newest first. */
export async function listedNotes(page) {
  await page.getByTestId('nav-notes').click();
  await page.getByTestId('match-count').waitFor();
  return page.getByTestId('note-item-text').allTextContents();
}

/** Browsers started by `launchKillableBrowser` and not yet killed. */
const killable = new Set();
// A test that fails half-way leaves its browser running; it must not outlive
// the test file (the runner is started with --test-force-exit, so this runs).
process.on('exit', () => {
  for (const pid of killable) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  for (const dir of madeDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Something still writes there: the machine's temporary folder keeps it.
    }
  }
});

/**
 * Starts Chromium as its own process group on a profile that outlives it, so
 * that a test can kill the whole browser the way a phone's OS does (SIGKILL,
 * no chance to flush anything) and start it again on the same profile.
 */
export async function launchKillableBrowser(profileDir, extraArgs = []) {
  const proc = spawn(
    process.env.CHROMIUM || '/usr/bin/chromium',
    // A phone-sized window: a short one is taken for a phone with its keyboard open.
    [...CHROMIUM_FLAGS, ...extraArgs, '--headless', '--window-size=412,915', `--user-data-dir=${profileDir}`, '--remote-debugging-port=0', 'about:blank'],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  killable.add(proc.pid);
  proc.on('exit', () => killable.delete(proc.pid));
  const endpoint = await new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`Chromium did not start within 20 s:\n${err}`)), 20_000);
    proc.stderr.on('data', (chunk) => {
      err += chunk;
      const found = err.match(/DevTools listening on (ws:\/\/\S+)/);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
    proc.on('exit', (code) => reject(new Error(`Chromium exited with ${code}:\n${err}`)));
  });
  const browser = await chromium.connectOverCDP(endpoint);
  return {
    browser,
    context: watchErrors(browser.contexts()[0]),
    async kill() {
      const exited = once(proc, 'exit');
      process.kill(-proc.pid, 'SIGKILL');
      await exited;
    },
  };
}

/** Makes a one-time pairing code with the server's own command. */
export async function pairingCode(data, name = 'Test phone', binary = required('BEATBOOK_SERVER'), database = undefined) {
  const proc = spawn(binary, ['pair', '--name', name, '--data', data, ...(database ? ['--database', database] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (chunk) => { out += chunk; });
  const [code] = await once(proc, 'exit');
  if (code !== 0) throw new Error(`pair exited with ${code}: ${out}`);
  return out.match(/: ([A-Z0-9]{5}-[A-Z0-9]{5})/)[1];
}

/** Revokes every paired device's token with the server's own commands. */
export async function revokeAll(data) {
  const run = async (args) => {
    const proc = spawn(required('BEATBOOK_SERVER'), [...args, '--data', data], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (chunk) => { out += chunk; });
    const [code] = await once(proc, 'exit');
    if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}: ${out}`);
    return out;
  };
  const listed = await run(['devices']);
  for (const [, id] of listed.matchAll(/^(\d+)\t.*\tactive$/gm)) await run(['revoke', id]);
}

/** Pairs the app in `page` through its Settings screen. */
export async function pairApp(page, data) {
  if (await isPaired(page)) return;
  const code = await pairingCode(data);
  if (await page.getByTestId('home-pair').count()) {
    await page.getByTestId('home-pair').click();
    await page.getByTestId('pair-code').fill(code);
    await page.getByTestId('pair').click();
    await page.getByTestId('note-text').waitFor();
    return;
  }
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('pair-code').fill(code);
  await page.getByTestId('pair').click();
  await page.getByTestId('paired').waitFor();
}

/** The notes the server holds, through its listing API and the page's token. */
export async function serverNotes(page, url) {
  const token = await deviceToken(page);
  const response = await fetch(`${url}/api/v1/notes`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`listing answered ${response.status}`);
  return (await response.json()).notes;
}

/** A device token for calling the councillor's API directly, as a test's second device. */
export async function councillorToken(url, data) {
  const code = await pairingCode(data, 'Councillor test device');
  const response = await fetch(`${url}/api/v1/pair`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }),
  });
  if (!response.ok) throw new Error(`pairing answered ${response.status}`);
  return (await response.json()).token;
}

/** Fills and sends the "Report a place" form. */
export async function makeReport(page, { kind = 'poor_lighting', place, description, when = 'afterdark' }) {
  await page.goto(new URL('/report', page.url()).href);
  await page.getByTestId(`kind-${kind}`).check();
  await page.getByTestId('report-place').fill(place);
  await page.getByTestId(`when-${when}`).check();
  await page.getByTestId('report-description').fill(description);
  await page.getByTestId('send-report').click();
  await page.getByTestId('my-reports').waitFor();
}

/**
 * No signal for sending: the paired phone's sync requests fail as they do
 * in a street with no coverage, while the page itself keeps working.
 */
export async function noSignalToSend(context) {
  await context.route('**/api/v1/sync', (route) => route.abort('internetdisconnected'));
}

/**
 * The browser's service workers, seen through DevTools from a blank page of
 * `context` (so Beatbook's own pages can all be closed), and a way to fire
 * the Background Sync the app registers, as the browser does when the
 * connection returns.
 */
export async function serviceWorkers(context) {
  const blank = await context.newPage();
  const devtools = await context.newCDPSession(blank);
  const registrations = [];
  devtools.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...e.registrations));
  await devtools.send('ServiceWorker.enable');
  return {
    /** Fires the app's sync event for the worker of the site at `url`. */
    async dispatchSync(url) {
      const registration = registrations.find((r) => r.scopeURL.startsWith(url) && !r.isDeleted);
      if (!registration) throw new Error(`no service worker for ${url}: ${JSON.stringify(registrations)}`);
      await devtools.send('ServiceWorker.dispatchSyncEvent', {
        origin: url, registrationId: registration.registrationId, tag: 'beatbook-send', lastChance: false,
      });
    },
    /** Delivers a push message to the worker of the site at `url`, as the
     * browser does when its push service brings one. */
    async deliverPush(url, data) {
      // DevTools tells of the registrations a moment after it is asked.
      const registration = await until(`a service worker for ${url}`, () => registrations
        .find((r) => r.scopeURL.startsWith(url) && !r.isDeleted), 5_000);
      await devtools.send('ServiceWorker.deliverPushMessage', {
        origin: url, registrationId: registration.registrationId, data,
      });
    },
  };
}

/** Picks `count` camera-sized photos (`width` × `height`, made in the page
 * with noise, so they compress as a photo does) on the form's gallery
 * input, as a phone's file picker hands them over. */
export async function pickPhotos(page, count, width, height, seed) {
  await page.evaluate(async ([count, width, height, seed]) => {
    const files = [];
    for (let n = 0; n < count; n += 1) {
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      const g = canvas.getContext('2d');
      const image = g.createImageData(width, height);
      let x = (seed * 7919 + n * 104729) >>> 0;
      for (let i = 0; i < image.data.length; i += 4) {
        x = (x * 1664525 + 1013904223) >>> 0;
        const shade = ((i / 4) % width) * 200 / width;
        image.data[i] = shade + (x & 31);
        image.data[i + 1] = shade / 2 + ((x >> 8) & 31);
        image.data[i + 2] = 90 + ((x >> 16) & 31);
        image.data[i + 3] = 255;
      }
      g.putImageData(image, 0, 0);
      const blob = await new Promise((resolve) => { canvas.toBlob(resolve, 'image/jpeg', 0.92); });
      files.push(new File([blob], `IMG_${seed}_${n}.jpg`, { type: 'image/jpeg' }));
    }
    const picked = new DataTransfer();
    for (const file of files) picked.items.add(file);
    const input = document.querySelector('[data-testid=photo-gallery]');
    input.files = picked.files;
    window.pickedAt = performance.now();
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }, [count, width, height, seed]);
}
