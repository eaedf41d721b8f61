// Start-up, save and delivery timings in headless Chromium with the CPU
// slowed four times, as on a cheap phone. Run through `cargo xtask bench`,
// which prints the download sizes and the server's ingest rate too. Prints
// medians; fails only if a run does not do what it times.

import {
  launchBrowser, openApp, pairApp, serverNotes, startServer, waitForWorker,
} from './helpers.mjs';

const RUNS = Number(process.env.BENCH_RUNS || 7);
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

/** Milliseconds from navigation start to the app's ready mark. */
async function readyTime(page, url) {
  await page.goto(url);
  await page.waitForFunction((mark) => performance.getEntriesByName(mark).length > 0, READY_MARK);
  return page.evaluate((mark) => performance.getEntriesByName(mark)[0].startTime, READY_MARK);
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
    if (!listed.includes(`${count} saved on this phone`)) throw new Error(`expected ${count} notes waiting, the app says "${listed}"`);
    await cold.close();
  }
  await context.close();
  return times;
}

/** Tap Save → stored in both copies and in the notebook the list shows. */
async function saveLatencies(browser, url, count) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  await page.getByTestId('note-text').waitFor();
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
      const status = document.querySelector('[data-testid=save-status]');
      const before = status.textContent;
      // Where the time goes: the browser commits the journal's transaction
      // between the note's put and the transaction's complete event; the rest
      // is the app's own work before and after.
      const put = IDBObjectStore.prototype.put;
      let journal;
      IDBObjectStore.prototype.put = function watched(value, ...rest) {
        if (!journal && typeof value === 'string' && value.includes(`Timed note ${i}`)) {
          const from = performance.now();
          journal = new Promise((resolve) => {
            this.transaction.addEventListener('complete', () => resolve({ from, to: performance.now() }));
          });
        }
        return put.call(this, value, ...rest);
      };
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
      IDBObjectStore.prototype.put = put;
      const commit = journal ? await journal : { from: NaN, to: NaN };
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
  const listed = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('beatbook/note/')).length);
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

const browser = await launchBrowser();
const server = await startServer();
try {
  console.log(`\nStart-up, CPU slowed ${CPU_SLOWDOWN}x, median of ${RUNS} (navigation start → capture screen ready):`);
  const { online, offline } = await startup(browser);
  console.log(`  first visit, server running        ${fmt(median(online))}   (runs: ${online.map((x) => x.toFixed(0)).join(' ')})`);
  console.log(`  cold start, server stopped (SW)    ${fmt(median(offline))}   (runs: ${offline.map((x) => x.toFixed(0)).join(' ')})   target < 1000 ms: ${median(offline) < 1000 ? 'met' : 'MISSED'}`);
  const stocked = await startupWithNotes(browser, 5000);
  console.log(`  the same with 5000 notes stored    ${fmt(median(stocked))}   (runs: ${stocked.map((x) => x.toFixed(0)).join(' ')})`);
  console.log(`\nSave, CPU slowed ${CPU_SLOWDOWN}x, median of ${RUNS} (tap Save → stored in localStorage and the IndexedDB journal, and in the notebook):`);
  for (const count of [1000, 5000]) {
    const { times, phases } = await saveLatencies(browser, server.url, count);
    const target = count === 5000 ? `   target < 16 ms: ${median(times) < 16 ? 'met' : 'MISSED'}` : '';
    console.log(`  with ${String(count).padStart(5)} notes stored          ${fmt(median(times))}   (runs: ${times.map((x) => x.toFixed(1)).join(' ')})${target}`);
    console.log(`    medians of the parts: app before the journal ${fmt(median(phases.before))}, browser committing the journal ${fmt(median(phases.commit))}, app after ${fmt(median(phases.after))}`);
  }
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
} finally {
  await server.stop();
  await browser.close();
}
