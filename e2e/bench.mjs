// Start-up, save and delivery timings in headless Chromium with the CPU
// slowed four times, as on a cheap phone; Lighthouse's mobile audit of a
// resident's first visit; the same kinds of figures beside two hand-written
// floor pages (e2e/floors), as ratios; and screenshots of every screen in both
// themes. Run through `cargo xtask bench`, which prints the download sizes and
// the server's ingest rate too. Prints medians; fails only if a run does not do
// what it times. BENCH_PARTS (e.g. "lighthouse,screens") runs only some parts.

import { once } from 'node:events';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';

import {
  CHROMIUM_FLAGS, launchBrowser, openApp, pairApp, pickPhotos, serverNotes, startServer, waitForWorker,
} from './helpers.mjs';
import {
  PHONE, firstScreensTour, notebookTour, residentTour, submitReport,
} from './screens.mjs';
import { NOTE_PREFIX, deviceToken } from './keys.mjs';

const RUNS = Number(process.env.BENCH_RUNS || 7);
const LIGHTHOUSE_RUNS = Number(process.env.BENCH_LIGHTHOUSE_RUNS || 3);
const PARTS = ['startup', 'save', 'delivery', 'photos', 'floors', 'lighthouse', 'screens'];
const wanted = new Set(process.env.BENCH_PARTS ? process.env.BENCH_PARTS.split(',').map((p) => p.trim()) : PARTS);
for (const part of wanted) {
  if (!PARTS.includes(part)) throw new Error(`BENCH_PARTS: no part "${part}" (parts: ${PARTS.join(', ')})`);
}
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CPU_SLOWDOWN = 4;
const READY_MARK = 'beatbook-ready';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (ms) => `${ms.toFixed(1)} ms`;

async function throttled(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
  return cdp;
}

/**
 * Runs `check` (a function that uses nothing from outside it, or its source
 * as a string) in the page every 50 ms until it returns something other than
 * undefined, and returns that; an error it throws is this one's.
 * It is sent as one short expression over CDP, because Playwright's own
 * waiting and evaluating (waitForFunction, evaluate) first runs Playwright's
 * injected script in the page: 50-80 ms of main thread with the CPU slowed
 * 4x, which would land in the middle of a start being timed (seen in traces
 * of the notebook's cold start: 100 ms off its median once moved out), where
 * the floor's figure, its load event, is over before it runs.
 */
async function waitInPage(page, check, timeout = 60_000) {
  const cdp = await page.context().newCDPSession(page);
  const expression = `new Promise((resolve, reject) => {
    const check = ${check};
    const started = performance.now();
    const poll = () => {
      let value;
      try {
        value = check();
      } catch (error) {
        reject(error);
        return;
      }
      if (value !== undefined) resolve(value);
      else if (performance.now() - started > ${timeout}) reject(new Error('still undefined after ${timeout} ms: ' + check));
      else setTimeout(poll, 50);
    };
    poll();
  })`;
  try {
    const { result, exceptionDetails } = await cdp.send('Runtime.evaluate', {
      expression, awaitPromise: true, returnByValue: true,
    });
    if (exceptionDetails) throw new Error(exceptionDetails.exception?.description ?? exceptionDetails.text);
    return result.value;
  } finally {
    // A page already gone has detached it: the error above is the one to see.
    await cdp.detach().catch(() => {});
  }
}

/** Milliseconds from navigation start to the page's performance mark `mark`. */
function markTime(page, mark = READY_MARK) {
  return waitInPage(page, `() => performance.getEntriesByName(${JSON.stringify(mark)})[0]?.startTime`);
}

/** Milliseconds from navigation start to the app's ready mark. */
async function readyTime(page, url) {
  await page.goto(url);
  return markTime(page);
}

async function startup(browser) {
  const online = [];
  const offline = [];
  for (let run = 0; run < RUNS; run += 1) {
    const server = await startServer();
    const context = await browser.newContext();
    const page = await context.newPage();
    await throttled(context, page);
    online.push(await readyTime(page, server.url));
    await waitForWorker(page);
    await page.close();
    await server.stop();
    const cold = await context.newPage();
    await throttled(context, cold);
    offline.push(await readyTime(cold, server.url));
    await context.close();
  }
  return { online, offline };
}

/** Writes `count` notes straight into storage, in the app's own format, with
 * time-ordered (version 7) ids as the app makes them. */
async function seed(page, count) {
  await page.evaluate((n) => {
    const start = Date.parse('2026-11-01T20:00:00Z');
    for (let i = 0; i < n; i += 1) {
      const ms = start + i * 60_000;
      const hex = ms.toString(16).padStart(12, '0') + crypto.randomUUID().replaceAll('-', '').slice(12);
      const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(13, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      const at = new Date(ms).toISOString();
      const record = {
        id, created_at: at, updated_at: at, shift_id: null,
        text: `Seeded note ${i}: street light out by the footbridge, reported to the council`,
        category: 'poor_lighting', place: 'Footbridge', location: { latitude: 51.5, longitude: -0.12, accuracy_m: 10 },
        sync: { revision: 1, state: 'pending' },
      };
      localStorage.setItem(`beatbook/note/${id}`, JSON.stringify({ v: 1, record }));
    }
  }, count);
}

/** Waits until the journal holds at least `count` records. */
async function journalHolds(page, count) {
  await page.waitForFunction(async (n) => {
    const db = await new Promise((resolve) => { const r = indexedDB.open('beatbook-journal'); r.onsuccess = () => resolve(r.result); });
    const total = await new Promise((resolve) => { const r = db.transaction('records').objectStore('records').count(); r.onsuccess = () => resolve(r.result); });
    db.close();
    return total >= n;
  }, count, { polling: 200, timeout: 60_000 });
}

/** A cold start (service worker, server stopped) with `count` notes stored:
 * all of them read from storage before the capture screen is ready. */
async function startupWithNotes(browser, count) {
  const server = await startServer();
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.url);
  await waitForWorker(page);
  await seed(page, count);
  // The first start copies the seeded notes into the journal; time the
  // starts after it, as a phone that has held its notes for a while.
  await page.reload();
  await journalHolds(page, count);
  await page.close();
  await server.stop();
  const times = [];
  for (let run = 0; run < RUNS; run += 1) {
    const cold = await context.newPage();
    await throttled(context, cold);
    times.push(await readyTime(cold, server.url));
    const listed = await cold.evaluate(() => document.querySelector('[data-testid=pending-count]').textContent);
    // An unpaired phone says its notes are kept until it is paired.
    if (!new RegExp(`^${count} (saved|kept) on this phone`).test(listed.trim())) {
      throw new Error(`expected ${count} notes waiting, the app says "${listed}"`);
    }
    await cold.close();
  }
  await context.close();
  return times;
}

/** Tap Save → stored in both copies and in the notebook the list shows. */
async function saveLatencies(browser, url, count) {
  const context = await browser.newContext();
  const page = await context.newPage();
  // A phone holding notes shows the notebook: seed them, then start again.
  await page.goto(url);
  await page.waitForFunction((mark) => performance.getEntriesByName(mark).length > 0, READY_MARK);
  await seed(page, count);
  await page.reload();
  await page.getByTestId('note-text').waitFor();
  // Let start-up copy the seeded notes into the journal before timing.
  await journalHolds(page, count);
  await throttled(context, page);
  const times = [];
  const phases = { before: [], commit: [], after: [] };
  for (let run = 0; run < RUNS; run += 1) {
    const { ms, phases: [before, commit, after] } = await page.evaluate(async (i) => {
      const box = document.querySelector('[data-testid=note-text]');
      box.value = `Timed note ${i}`;
      box.dispatchEvent(new Event('input', { bubbles: true }));
      // A thumb taps Save some time after the last keystroke: let the app
      // finish reacting to the typing, so that its work is not counted as
      // saving (less than the draft's 300 ms pause, so no draft is written).
      await new Promise((resolve) => { setTimeout(resolve, 100); });
      // The toast's slot is always in the page; the toast appears in it.
      const status = document.querySelector('.toast-slot');
      const before = status.textContent;
      // Where the time goes: the browser commits the journal's transaction
      // between the note's write (an add, or a put for a change) and the
      // transaction's complete event; the rest is the app's own work
      // before and after.
      // The complete listener goes on each transaction as it is made, so
      // that it runs before the app's own (which, with the work it starts,
      // would otherwise be counted as the browser's).
      const begin = IDBDatabase.prototype.transaction;
      IDBDatabase.prototype.transaction = function watched(...args) {
        const tx = begin.apply(this, args);
        tx.addEventListener('complete', () => { tx.completedAt = performance.now(); });
        return tx;
      };
      // A new note is added; a changed one is put.
      const writes = { add: IDBObjectStore.prototype.add, put: IDBObjectStore.prototype.put };
      let journal;
      for (const [name, write] of Object.entries(writes)) {
        IDBObjectStore.prototype[name] = function watched(value, ...rest) {
          if (!journal && typeof value === 'string' && value.includes(`Timed note ${i}`)) {
            journal = { from: performance.now(), tx: this.transaction };
          }
          return write.call(this, value, ...rest);
        };
      }
      const done = new Promise((resolve) => {
        const observer = new MutationObserver(() => {
          if (status.textContent !== before && status.textContent.includes('Saved')) {
            observer.disconnect();
            resolve(performance.now());
          }
        });
        observer.observe(status, { childList: true, subtree: true, characterData: true });
      });
      const started = performance.now();
      document.querySelector('[data-testid=save-note]').click();
      const ended = await done;
      Object.assign(IDBObjectStore.prototype, writes);
      IDBDatabase.prototype.transaction = begin;
      const commit = journal ? { from: journal.from, to: journal.tx.completedAt ?? NaN } : { from: NaN, to: NaN };
      return {
        ms: ended - started,
        phases: [commit.from - started, commit.to - commit.from, ended - commit.to],
      };
    }, run);
    times.push(ms);
    phases.before.push(before);
    phases.commit.push(commit);
    phases.after.push(after);
    // Let the next note's timestamp and status differ.
    await page.waitForTimeout(50);
  }
  const listed = await page.evaluate((prefix) => Object.keys(localStorage).filter((k) => k.startsWith(prefix)).length, NOTE_PREFIX);
  await context.close();
  if (listed !== count + RUNS) throw new Error(`expected ${count + RUNS} notes stored, found ${listed}`);
  return { times, phases };
}

/**
 * A paired phone holds `count` notes saved while the server was down. The
 * server starts and the phone's connection comes back: milliseconds from the
 * `online` event until the app shows every note sent (the server's answers
 * applied and stored on the phone).
 */
async function delivery(browser, count, cpuSlowdown) {
  const server = await startServer();
  const context = await browser.newContext();
  const page = await openApp(context, server.url);
  await waitForWorker(page);
  await pairApp(page, server.data);
  await server.stop();
  await context.setOffline(true);
  await seed(page, count);
  await page.reload();
  await page.getByTestId('note-text').waitFor();
  await journalHolds(page, count);
  await page.getByTestId('pending-count').getByText(`${count} saved on this phone, not sent yet`).waitFor();
  if (cpuSlowdown > 1) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: cpuSlowdown });
  }
  const again = await startServer({ port: server.port, data: server.data });
  // Watch for the event and for "All sent" before the connection comes back.
  await page.evaluate(() => {
    const status = document.querySelector('[data-testid=pending-count]');
    window.benchTimes = {
      online: new Promise((resolve) => window.addEventListener('online', () => resolve(performance.now()), { once: true })),
      sent: new Promise((resolve) => {
        const observer = new MutationObserver(() => {
          if (status.textContent.includes('All sent')) {
            observer.disconnect();
            resolve(performance.now());
          }
        });
        observer.observe(status, { childList: true, subtree: true, characterData: true });
      }),
    };
  });
  await context.setOffline(false);
  const ms = await page.evaluate(async () => (await window.benchTimes.sent) - (await window.benchTimes.online));
  const held = await serverNotes(page, again.url);
  await context.close();
  await again.stop();
  const ids = new Set(held.map((n) => n.id));
  if (held.length !== count || ids.size !== count) {
    throw new Error(`expected ${count} notes on the server once each, found ${held.length} (${ids.size} distinct)`);
  }
  return ms;
}

/** Network profiles for first visits, by Lighthouse's names: the latency is
 * the round trip; 1 Mbps is 10^6 bits a second (CDP takes bytes a second). */
const NETWORKS = [
  {
    name: 'slow 4G', says: '150 ms RTT, 1.6 Mbps down, 750 kbps up',
    latency: 150, download: 1_600_000 / 8, upload: 750_000 / 8,
  },
  {
    name: 'regular 3G', says: '300 ms RTT, 750 kbps down, 250 kbps up',
    latency: 300, download: 750_000 / 8, upload: 250_000 / 8,
  },
];
/** How long the notebook is used before the later cold start. */
const USED_FOR_MS = 10_000;
/** The first visit's budget: 150 KB brotli. */
const FIRST_VISIT_BYTES = 153_600;
/** A resident's report form usable on a first visit over regular 3G. */
const FIRST_VISIT_MS = 2500;
const FLOORS = join(ROOT, 'e2e', 'floors');
const CONTENT_TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

/** Serves a floor page's folder on loopback, as any static file server would. */
async function serveFloor(name) {
  const folder = join(FLOORS, name);
  const server = createServer(async (request, response) => {
    try {
      const path = decodeURIComponent(new URL(request.url, 'http://floor').pathname);
      const file = join(folder, path.endsWith('/') ? `${path}index.html` : path);
      if (!file.startsWith(`${folder}/`)) throw new Error('outside the folder');
      const body = await readFile(file);
      const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
      response.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' });
      response.end(body);
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('no such file');
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    async stop() {
      if (!server.listening) return;
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The CPU slowed as everywhere, and the page's network slowed to `network`, one of NETWORKS. */
async function throttledNetwork(context, page, network) {
  const cdp = await throttled(context, page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: network.latency, downloadThroughput: network.download, uploadThroughput: network.upload,
  });
  return cdp;
}

/**
 * Watches what a page downloads through its CDP session: each response's
 * bytes on the wire (Network.loadingFinished's encodedDataLength, headers
 * included) and when it finished, from the document's request on; the
 * Accept-Encoding the browser sent; and the Content-Encoding of each answer.
 */
function watchTransfer(cdp) {
  const requests = new Map();
  const finished = [];
  const accepted = new Set();
  let start;
  cdp.on('Network.requestWillBeSent', (e) => {
    if (start === undefined && e.type === 'Document') start = e.timestamp;
    requests.set(e.requestId, { url: e.request.url });
  });
  cdp.on('Network.requestWillBeSentExtraInfo', (e) => {
    const name = Object.keys(e.headers).find((h) => h.toLowerCase() === 'accept-encoding');
    if (name) accepted.add(e.headers[name]);
  });
  cdp.on('Network.responseReceived', (e) => {
    const name = Object.keys(e.response.headers).find((h) => h.toLowerCase() === 'content-encoding');
    const request = requests.get(e.requestId);
    if (request) request.encoding = name ? e.response.headers[name] : 'none';
  });
  cdp.on('Network.loadingFinished', (e) => {
    finished.push({ at: e.timestamp, bytes: e.encodedDataLength, ...requests.get(e.requestId) });
  });
  return {
    /** Bytes of the responses finished within `ms` of the document's request. */
    bytesWithin(ms) {
      return finished.filter((f) => (f.at - start) * 1000 <= ms).reduce((sum, f) => sum + f.bytes, 0);
    },
    /** What was asked for and what was answered, by file. */
    encodings() {
      const answered = finished.filter((f) => f.url).map((f) => ({ path: new URL(f.url).pathname, encoding: f.encoding }));
      return { accepted: [...accepted], answered };
    },
  };
}

/** Milliseconds from navigation start until `selector` (a page's call to
 * action) is on the page and painted: the server's plain page needs no
 * script to be used. */
async function usableTime(page, url, selector) {
  await page.addInitScript((sel) => {
    new MutationObserver((_, observer) => {
      if (!document.querySelector(sel)) return;
      window.benchActionAt = performance.now();
      observer.disconnect();
    }).observe(document, { childList: true, subtree: true });
  }, selector);
  await page.goto(url, { waitUntil: 'commit' });
  return waitInPage(page, `() => {
    const painted = performance.getEntriesByName('first-contentful-paint')[0];
    return window.benchActionAt === undefined || !painted ? undefined : Math.max(window.benchActionAt, painted.startTime);
  }`);
}

/** Milliseconds from navigation start to a floor page's load event, with its Save button on the page. */
async function floorLoadTime(page, url) {
  await page.goto(url);
  const ms = await waitInPage(page, () => performance.getEntriesByType('navigation')[0]?.loadEventEnd || undefined);
  if (!(await page.locator('#s').count())) throw new Error(`the floor at ${url} has no Save button`);
  return ms;
}

/** A phone that has never opened the app, on `network`: navigation start →
 * `path` usable, and the bytes downloaded by then. */
async function firstVisit(browser, url, path, network) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const transfer = watchTransfer(await throttledNetwork(context, page, network));
  // The server's plain page is usable once its call to action is on the
  // page and painted; the app takes it over later (its ready mark).
  const action = path === '/report'
    ? '[data-testid=plain-send-report], [data-testid=send-report]'
    : '[data-testid=plain-home-report], [data-testid=home-report]';
  const ms = await usableTime(page, `${url}${path}`, action);
  const bytes = transfer.bytesWithin(ms);
  const painted = await firstPaint(page);
  const takenOver = await markTime(page);
  await context.close();
  return { ms, bytes, painted, takenOver, encodings: transfer.encodings() };
}

/** Milliseconds from navigation start to the page's first contentful paint:
 * for a resident, the server's plain page, drawn while the app downloads. */
function firstPaint(page) {
  return waitInPage(page, () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime);
}

/** The same for peer-vanilla: navigation start → its load event, Save on the page. */
async function floorFirstVisit(browser, url, network) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const transfer = watchTransfer(await throttledNetwork(context, page, network));
  const ms = await floorLoadTime(page, url);
  const bytes = transfer.bytesWithin(ms);
  const painted = await firstPaint(page);
  await context.close();
  return { ms, bytes, painted };
}

/** A paired notebook phone opened again with the server stopped: navigation
 * start → ready, from the service worker's cache. */
async function pairedColdStart(browser, { usedFor = 0 } = {}) {
  const server = await startServer();
  const context = await browser.newContext();
  const page = await openApp(context, server);
  await waitForWorker(page);
  // Chromium keeps a wasm's compiled code for the next start only once it
  // has run a while (V8's code cache is written seconds after start): a
  // notebook that has been used starts from that, one just installed does not.
  await page.waitForTimeout(usedFor);
  await page.close();
  await server.stop();
  const cold = await context.newPage();
  await throttled(context, cold);
  const ms = await readyTime(cold, server.url);
  const notebook = await cold.getByTestId('note-text').count();
  await context.close();
  if (!notebook) throw new Error('the cold start did not show the notebook');
  return ms;
}

/** peer-vanilla opened again once its service worker holds it and its server
 * has stopped: navigation start → load. */
async function floorColdStart(browser) {
  const floor = await serveFloor('peer-vanilla');
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(floor.url);
  await waitForWorker(page);
  await page.close();
  await floor.stop();
  const cold = await context.newPage();
  await throttled(context, cold);
  const ms = await floorLoadTime(cold, floor.url);
  await context.close();
  return ms;
}

/** Tap Save on peer-idb-strict holding `count` notes → the note committed to
 * IndexedDB (the transaction complete) and listed; RUNS saves on one page,
 * as saveLatencies times the app's. */
async function floorSaveLatencies(browser, url, count) {
  const preload = await readFile(join(FLOORS, 'peer-idb-strict', 'preload.js'), 'utf8');
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  await page.evaluate(([src, n]) => new Function(src)(n), [preload, count]);
  await page.reload();
  await page.waitForFunction((n) => document.querySelectorAll('#l li').length >= n, count, { timeout: 60_000 });
  await throttled(context, page);
  const times = [];
  for (let run = 0; run < RUNS; run += 1) {
    times.push(await page.evaluate(async (i) => {
      const box = document.getElementById('t');
      box.value = `Timed note ${i}`;
      box.dispatchEvent(new Event('input', { bubbles: true }));
      // The same pause after typing as the app's save bench.
      await new Promise((resolve) => { setTimeout(resolve, 100); });
      const list = document.getElementById('l');
      const done = new Promise((resolve) => {
        new MutationObserver((_, observer) => {
          observer.disconnect();
          resolve(performance.now());
        }).observe(list, { childList: true });
      });
      const started = performance.now();
      document.getElementById('s').click();
      const ended = await done;
      if (list.firstElementChild.textContent !== `Timed note ${i}`) throw new Error(`note ${i} was not listed first`);
      return ended - started;
    }, run));
    await page.waitForTimeout(50);
  }
  const listed = await page.evaluate(() => document.querySelectorAll('#l li').length);
  await context.close();
  if (listed !== count + RUNS) throw new Error(`expected ${count + RUNS} notes listed, found ${listed}`);
  return times;
}

/** The save with 5,000 notes beside peer-idb-strict's, measured alternately:
 * each run a new page's median of RUNS saves. */
async function saveBesideFloor(browser, url) {
  const idb = await serveFloor('peer-idb-strict');
  try {
    const save = await alternately(
      () => saveLatencies(browser, url, 5000),
      () => floorSaveLatencies(browser, idb.url, 5000),
    );
    console.log(`  beside the floor (e2e/floors/peer-idb-strict), alternately, each run a page's median of ${RUNS} saves:`);
    besideFloor('save with 5,000 notes', save.app.map((r) => median(r.times)), save.floor.map(median), 1.5);
    besideFloor('  the first save on each page', save.app.map((r) => r.times[0]), save.floor.map((t) => t[0]));
    const part = (name) => fmt(median(save.app.flatMap((r) => r.phases[name])));
    console.log(`    Beatbook's saves in parts, medians: app before the journal ${part('before')}, `
      + `browser committing the journal ${part('commit')}, app after ${part('after')}`);
  } finally {
    await idb.stop();
  }
}

/** Runs `app` and `floor` alternately, RUNS times each, so that both see the
 * same moments of a busy machine. */
async function alternately(app, floor) {
  const times = { app: [], floor: [] };
  for (let run = 0; run < RUNS; run += 1) {
    times.app.push(await app());
    times.floor.push(await floor());
  }
  return times;
}

/** One figure beside its floor: the medians, their ratio, and the target on the ratio if there is one. */
function besideFloor(label, app, floor, target) {
  const ratio = median(app) / median(floor);
  const goal = target ? ` (target ≤ ${target}x: ${ratio <= target ? 'met' : 'MISSED'})` : '';
  console.log(`  ${label}: ${fmt(median(app))} · floor ${fmt(median(floor))} · ${ratio.toFixed(2)}x${goal}`);
  const runs = (xs) => xs.map((x) => x.toFixed(1)).join(' ');
  console.log(`    runs: ${runs(app)} · floor ${runs(floor)}`);
}

/** What Chromium asked for (Accept-Encoding) and what each file came as, over all first visits. */
function encodingSummary(encodings) {
  const accepted = [...new Set(encodings.flatMap((e) => e.accepted))];
  const answered = new Map();
  for (const { path, encoding } of encodings.flatMap((e) => e.answered)) {
    if (!answered.has(encoding)) answered.set(encoding, new Set());
    answered.get(encoding).add(path);
  }
  const files = [...answered].map(([encoding, paths]) => `${encoding} for ${[...paths].join(' ')}`).join('; ');
  return `Accept-Encoding sent: ${accepted.map((a) => `"${a}"`).join(', ') || 'none seen'}; answered ${files}`;
}

/** Beatbook beside the floor pages, measured alternately in the same run. */
async function floorsReport(browser, url) {
  const vanilla = await serveFloor('peer-vanilla');
  const bytes = (n) => `${Math.round(n).toLocaleString('en')} B`;
  try {
    console.log(`\nFloors (e2e/floors), CPU slowed ${CPU_SLOWDOWN}x, median of ${RUNS}, `
      + 'Beatbook and its floor alternately, each run a new context; networks:');
    for (const network of NETWORKS) console.log(`  ${network.name}: ${network.says}`);
    const transferred = { '/': { app: [], floor: [] }, '/report': { app: [], floor: [] } };
    const encodings = [];
    for (const network of NETWORKS) {
      for (const path of ['/', '/report']) {
        const runs = await alternately(
          () => firstVisit(browser, url, path, network),
          () => floorFirstVisit(browser, vanilla.url, network),
        );
        const ms = (rs) => rs.map((r) => r.ms);
        besideFloor(`first visit ${path}, usable, ${network.name}`, ms(runs.app), ms(runs.floor));
        if (network.name === 'regular 3G') {
          const usable = median(ms(runs.app));
          console.log(`    target < ${FIRST_VISIT_MS.toLocaleString('en')} ms on regular 3G: ${usable < FIRST_VISIT_MS ? 'met' : 'MISSED'}`);
        }
        const painted = (rs) => rs.map((r) => r.painted);
        besideFloor(`first visit ${path}, first screen painted (the server's page), ${network.name}`,
          painted(runs.app), painted(runs.floor));
        console.log(`    the app took the page over at ${fmt(median(runs.app.map((r) => r.takenOver)))} (median)`);
        transferred[path].app.push(...runs.app.map((r) => r.bytes));
        transferred[path].floor.push(...runs.floor.map((r) => r.bytes));
        encodings.push(...runs.app.map((r) => r.encodings));
      }
    }
    for (const [path, { app, floor }] of Object.entries(transferred)) {
      const met = median(app) <= FIRST_VISIT_BYTES ? 'met' : 'MISSED';
      console.log(`  first visit ${path}, bytes before usable (both networks): ${bytes(median(app))} `
        + `· floor ${bytes(median(floor))} (target ≤ ${bytes(FIRST_VISIT_BYTES)}: ${met})`);
    }
    console.log(`    ${encodingSummary(encodings)}`);
    const cold = await alternately(() => pairedColdStart(browser), () => floorColdStart(browser));
    besideFloor('cold start, server stopped, just after the first visit', cold.app, cold.floor, 2);
    const used = await alternately(
      () => pairedColdStart(browser, { usedFor: USED_FOR_MS }),
      () => floorColdStart(browser),
    );
    besideFloor(`cold start, server stopped, after ${USED_FOR_MS / 1000} s of use (compiled code kept)`, used.app, used.floor, 2);
  } finally {
    await vanilla.stop();
  }
}

/**
 * Lighthouse's mobile audit (its default: a mid-range phone, simulated slow
 * 4G and a CPU slowed 4x) of `url` on a phone that has never opened the app:
 * a new profile each run, and Lighthouse clears storage before loading.
 */
async function lighthouseRun(url) {
  const chrome = await chromeLauncher.launch({
    chromePath: process.env.CHROME_PATH,
    chromeFlags: ['--headless', ...CHROMIUM_FLAGS],
    logLevel: 'silent',
  });
  try {
    const result = await lighthouse(url, { port: chrome.port, logLevel: 'error', onlyCategories: ['performance'] });
    const { lhr } = result;
    if (lhr.runtimeError) throw new Error(`Lighthouse on ${url}: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
    const value = (id) => lhr.audits[id].numericValue;
    return {
      version: lhr.lighthouseVersion,
      score: lhr.categories.performance.score * 100,
      fcp: value('first-contentful-paint'),
      lcp: value('largest-contentful-paint'),
      tbt: value('total-blocking-time'),
      si: value('speed-index'),
      cls: value('cumulative-layout-shift'),
      bytes: value('total-byte-weight'),
    };
  } finally {
    await chrome.kill();
  }
}

async function lighthouseReport(url) {
  // Lighthouse finds the browser through CHROME_PATH; it never downloads one.
  process.env.CHROME_PATH ||= process.env.CHROMIUM || '/usr/bin/chromium';
  let version;
  const lines = [];
  for (const path of ['/', '/report']) {
    const runs = [];
    for (let run = 0; run < LIGHTHOUSE_RUNS; run += 1) runs.push(await lighthouseRun(`${url}${path}`));
    version = runs[0].version;
    const m = (key) => median(runs.map((r) => r[key]));
    const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
    lines.push(`  ${path.padEnd(9)} Performance ${String(Math.round(m('score'))).padStart(3)}   FCP ${s(m('fcp'))}   LCP ${s(m('lcp'))}   `
      + `TBT ${Math.round(m('tbt'))} ms   Speed Index ${s(m('si'))}   CLS ${m('cls').toFixed(3)}   transfer ${(m('bytes') / 1024).toFixed(1)} KiB`
      + `   (scores: ${runs.map((r) => Math.round(r.score)).join(' ')})`);
  }
  console.log(`\nLighthouse ${version}, mobile (default throttling: simulated slow 4G, CPU 4x), a phone never paired, median of ${LIGHTHOUSE_RUNS}:`);
  for (const line of lines) console.log(line);
}

/**
 * A screenshot of every screen of both faces, in both themes, at phone size
 * (and at 320 px wide, the narrowest phone the layout is made for), each
 * showing something. Returns the folder and the number taken.
 */
async function screenshots(browser) {
  const folder = resolve(process.env.BENCH_SHOTS || join(ROOT, 'target', 'screens'));
  await rm(folder, { recursive: true, force: true });
  await mkdir(folder, { recursive: true });
  let taken = 0;
  const sizes = [PHONE, { ...PHONE, viewport: { width: 320, height: 568 } }];
  for (const size of sizes) {
    for (const colorScheme of ['light', 'dark']) {
      // A server each: a phone may send only a few reports in a burst.
      const server = await startServer();
      try {
        const code = await submitReport(server.url);
        const shoot = async (page, face, tour) => {
          let n = 0;
          for await (const name of tour) {
            n += 1;
            const file = `${size.viewport.width}-${colorScheme}-${face}-${String(n).padStart(2, '0')}-${name}`;
            // What the phone shows, and the whole page (where the fixed
            // bottom bar is drawn at its place on the first screenful).
            await page.screenshot({ path: join(folder, `${file}.png`), animations: 'disabled' });
            await page.screenshot({ path: join(folder, `${file}-full.png`), fullPage: true, animations: 'disabled' });
            taken += 1;
          }
        };
        const first = await browser.newContext({ ...size, colorScheme });
        const firstPage = await first.newPage();
        await shoot(firstPage, 'first', firstScreensTour(firstPage, server.url));
        await first.close();
        const residents = await browser.newContext({ ...size, colorScheme });
        const page = await residents.newPage();
        await shoot(page, 'residents', residentTour(page, server.url, code));
        await residents.close();
        const notebook = await browser.newContext({ ...size, colorScheme });
        const paired = await openApp(notebook, server);
        await shoot(paired, 'notebook', notebookTour(paired, server.url, code));
        // The keyboard open: the page resized to what is left above it.
        await paired.goto(server.url);
        await paired.getByTestId('note-text').waitFor();
        await paired.setViewportSize({ width: size.viewport.width, height: Math.round(size.viewport.height * 0.6) });
        await paired.getByTestId('note-text').fill('Typing with the keyboard open');
        await paired.screenshot({ path: join(folder, `${size.viewport.width}-${colorScheme}-notebook-99-keyboard-open.png`) });
        taken += 1;
        await notebook.close();
      } finally {
        await server.stop();
      }
    }
  }
  return { folder, taken };
}

/** The photos a page keeps, from its IndexedDB. */
function keptPhotos(page) {
  return page.evaluate(() => new Promise((resolve) => {
    const open = indexedDB.open('beatbook-photos');
    open.onsuccess = () => {
      const all = open.result.transaction('photos').objectStore('photos').getAll();
      all.onsuccess = () => { resolve(all.result.map((v) => JSON.parse(v.facts))); open.result.close(); };
    };
  }));
}

/** Photos: shrinking a 12-megapixel photo on a slowed phone, the bytes each
 * one sends, and a shift's worth (30 notes, 2 photos each) delivered over
 * slow 4G, words first. */
async function photosReport(browser) {
  const network = NETWORKS[0];
  console.log(`\nPhotos, CPU slowed ${CPU_SLOWDOWN}x:`);
  let server = await startServer();
  const context = await browser.newContext();
  const page = await openApp(context, server);
  await pairApp(page, server.data);
  await throttled(context, page);
  const shrink = [];
  const sizes = [];
  for (let run = 0; run < Math.min(RUNS, 5); run += 1) {
    await pickPhotos(page, 1, 4000, 3000, run);
    await page.getByTestId('picked-photo').waitFor({ timeout: 120_000 });
    shrink.push(await page.evaluate(() => performance.now() - window.pickedAt));
    sizes.push(...(await keptPhotos(page)).map((p) => p.bytes));
    await page.getByTestId('remove-photo').click();
    await page.getByTestId('picked-photo').waitFor({ state: 'detached' });
  }
  console.log(`  a 12-megapixel photo (4000 × 3000) picked → shrunk, hashed and kept: ${fmt(median(shrink))} (runs: ${shrink.map((x) => x.toFixed(0)).join(' ')})`);
  console.log(`  bytes sent per photo (1600 × 1200 JPEG): median ${median(sizes).toLocaleString('en-GB')} B (${sizes.map((b) => Math.round(b / 1000)).join(', ')} KB)`);

  // A shift: 30 notes with 2 photos each, saved with the server stopped.
  await server.stop();
  const NOTES = 30;
  for (let n = 0; n < NOTES; n += 1) {
    await page.getByTestId('note-text').fill(`Shift note ${n}: lights out on Mill Lane`);
    await pickPhotos(page, 2, 2400, 1800, 100 + n);
    await page.getByTestId('picked-photo').nth(1).waitFor({ timeout: 120_000 });
    await page.getByTestId('save-note').click();
    await page.getByTestId('picked-photo').first().waitFor({ state: 'detached' });
  }
  const shift = (await keptPhotos(page)).filter((p) => p.of);
  const total = shift.reduce((sum, p) => sum + p.bytes, 0);
  server = await startServer({ port: server.port, data: server.data });
  const cdp = await throttledNetwork(context, page, network);
  const token = await deviceToken(page);
  const started = performance.now();
  await context.setOffline(true);
  await context.setOffline(false);
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: network.latency, downloadThroughput: network.download, uploadThroughput: network.upload,
  });
  let wordsAt = null;
  let firstPhotoAt = null;
  let notesWhenFirstPhoto = null;
  const photosDir = join(server.data, 'photos');
  for (;;) {
    const notes = (await (await fetch(`${server.url}/api/v1/notes`, { headers: { authorization: `Bearer ${token}` } })).json()).notes
      .filter((x) => x.text.startsWith('Shift note')).length;
    let photos = 0;
    try { photos = (await readdir(photosDir)).filter((f) => !f.startsWith('.')).length; } catch { /* none yet */ }
    const now = performance.now() - started;
    if (notes === NOTES && wordsAt === null) wordsAt = now;
    if (photos > 0 && firstPhotoAt === null) { firstPhotoAt = now; notesWhenFirstPhoto = notes; }
    if (photos >= shift.length) break;
    if (now > 900_000) throw new Error(`only ${photos} of ${shift.length} photos arrived in 15 minutes`);
    await new Promise((resolve) => { setTimeout(resolve, 250); });
  }
  const allAt = performance.now() - started;
  console.log(`  a shift of ${NOTES} notes with 2 photos each (${shift.length} photos, ${(total / 1e6).toFixed(1)} MB) over ${network.name} (${network.says}):`);
  console.log(`    every note's words on the server after ${fmt(wordsAt)}; first photo after ${fmt(firstPhotoAt)}, when ${notesWhenFirstPhoto} of ${NOTES} notes were there (words first: ${notesWhenFirstPhoto === NOTES ? 'yes' : 'NO'}); all photos after ${(allAt / 1000).toFixed(1)} s (${(total * 8 / allAt).toFixed(0)} kbps of ${network.upload * 8 / 1000} kbps up)`);
  await context.close();
  await server.stop();
}

const browser = await launchBrowser();
const server = await startServer();
try {
  if (wanted.has('startup')) {
    console.log(`\nStart-up, CPU slowed ${CPU_SLOWDOWN}x, median of ${RUNS} (navigation start → first screen ready):`);
    const { online, offline } = await startup(browser);
    console.log(`  first visit, server running        ${fmt(median(online))}   (runs: ${online.map((x) => x.toFixed(0)).join(' ')})`);
    console.log(`  cold start, server stopped (SW)    ${fmt(median(offline))}   (runs: ${offline.map((x) => x.toFixed(0)).join(' ')})   target < 1000 ms: ${median(offline) < 1000 ? 'met' : 'MISSED'}`);
    const stocked = await startupWithNotes(browser, 5000);
    console.log(`  the same with 5000 notes stored    ${fmt(median(stocked))}   (runs: ${stocked.map((x) => x.toFixed(0)).join(' ')})`);
  }
  if (wanted.has('save')) {
    console.log(`\nSave, CPU slowed ${CPU_SLOWDOWN}x, median of ${RUNS} (tap Save → stored in localStorage and the IndexedDB journal, and in the notebook):`);
    for (const count of [1000, 5000]) {
      const { times, phases } = await saveLatencies(browser, server.url, count);
      const target = count === 5000 ? `   target < 16 ms: ${median(times) < 16 ? 'met' : 'MISSED'}` : '';
      console.log(`  with ${String(count).padStart(5)} notes stored          ${fmt(median(times))}   (runs: ${times.map((x) => x.toFixed(1)).join(' ')})${target}`);
      console.log(`    medians of the parts: app before the journal ${fmt(median(phases.before))}, browser committing the journal ${fmt(median(phases.commit))}, app after ${fmt(median(phases.after))}`);
    }
    await saveBesideFloor(browser, server.url);
  }
  if (wanted.has('delivery')) {
    const queued = 1000;
    const runs = Math.min(RUNS, 5);
    console.log(`\nDelivery, median of ${runs} (${queued} notes queued with the server down; server started; connection back → "All sent"):`);
    for (const slowdown of [1, CPU_SLOWDOWN]) {
      const times = [];
      for (let run = 0; run < runs; run += 1) times.push(await delivery(browser, queued, slowdown));
      const label = slowdown === 1 ? 'CPU at full speed' : `CPU slowed ${slowdown}x`;
      const target = slowdown === 1 ? `   target ≤ 3000 ms: ${median(times) <= 3000 ? 'met' : 'MISSED'}` : '';
      console.log(`  ${label.padEnd(34)}${fmt(median(times))}   (runs: ${times.map((x) => x.toFixed(0)).join(' ')})${target}`);
    }
  }
  if (wanted.has('photos')) await photosReport(browser);
  if (wanted.has('floors')) await floorsReport(browser, server.url);
  if (wanted.has('lighthouse')) await lighthouseReport(server.url);
  if (wanted.has('screens')) {
    const { folder, taken } = await screenshots(browser);
    console.log(`\nScreenshots: ${taken} screens (each as shown, and its whole page), both faces, light and dark, 390 × 844 and 320 × 568, in ${relative(ROOT, folder)}`);
  }
} finally {
  await server.stop();
  await browser.close();
}
