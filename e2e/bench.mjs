// Start-up and save timings in headless Chromium with the CPU slowed four
// times, as on a cheap phone. Run through `cargo xtask bench`, which prints the
// download sizes first. Prints medians; fails nothing.

import { launchBrowser, startServer } from './helpers.mjs';

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

async function waitForWorker(page) {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    }
  });
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

/** Writes `count` notes straight into storage, in the app's own format. */
async function seed(page, count) {
  await page.evaluate((n) => {
    const start = Date.parse('2026-11-01T20:00:00Z');
    for (let i = 0; i < n; i += 1) {
      const id = crypto.randomUUID();
      const at = new Date(start + i * 60_000).toISOString();
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
  await page.waitForFunction(async (n) => {
    const db = await new Promise((resolve) => { const r = indexedDB.open('beatbook-journal'); r.onsuccess = () => resolve(r.result); });
    const total = await new Promise((resolve) => { const r = db.transaction('records').objectStore('records').count(); r.onsuccess = () => resolve(r.result); });
    db.close();
    return total >= n;
  }, count, { polling: 200, timeout: 60_000 });
  await throttled(context, page);
  const times = [];
  for (let run = 0; run < RUNS; run += 1) {
    const ms = await page.evaluate(async (i) => {
      const box = document.querySelector('[data-testid=note-text]');
      box.value = `Timed note ${i}`;
      box.dispatchEvent(new Event('input', { bubbles: true }));
      const status = document.querySelector('[data-testid=save-status]');
      const before = status.textContent;
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
      return (await done) - started;
    }, run);
    times.push(ms);
    // Let the next note's timestamp and status differ.
    await page.waitForTimeout(50);
  }
  const listed = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('beatbook/note/')).length);
  await context.close();
  if (listed !== count + RUNS) throw new Error(`expected ${count + RUNS} notes stored, found ${listed}`);
  return times;
}

const browser = await launchBrowser();
const server = await startServer();
try {
  console.log(`\nStart-up, CPU slowed ${CPU_SLOWDOWN}x, median of ${RUNS} (navigation start → capture screen ready):`);
  const { online, offline } = await startup(browser);
  console.log(`  first visit, server running        ${fmt(median(online))}   (runs: ${online.map((x) => x.toFixed(0)).join(' ')})`);
  console.log(`  cold start, server stopped (SW)    ${fmt(median(offline))}   (runs: ${offline.map((x) => x.toFixed(0)).join(' ')})   target < 1000 ms: ${median(offline) < 1000 ? 'met' : 'MISSED'}`);
  console.log(`\nSave, CPU slowed ${CPU_SLOWDOWN}x, median of ${RUNS} (tap Save → stored in localStorage and the IndexedDB journal, and in the notebook):`);
  for (const count of [1000, 5000]) {
    const times = await saveLatencies(browser, server.url, count);
    const target = count === 5000 ? `   target < 16 ms: ${median(times) < 16 ? 'met' : 'MISSED'}` : '';
    console.log(`  with ${String(count).padStart(5)} notes stored          ${fmt(median(times))}   (runs: ${times.map((x) => x.toFixed(1)).join(' ')})${target}`);
  }
} finally {
  await server.stop();
  await browser.close();
}
