import { startServer, launchBrowser, openApp, waitForWorker } from './helpers.mjs';
const browser = await launchBrowser();
const agg = new Map(); const incl = new Map();
const RUNS = 3;
for (let run = 0; run < RUNS; run++) {
  const server = await startServer({ dist: process.env.DIST });
  const context = await browser.newContext();
  const page = await openApp(context, server);
  await waitForWorker(page);
  await page.close();
  await server.stop();
  const cold = await context.newPage();
  const cdp = await context.newCDPSession(cold);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await cold.goto(server.url);
  await cold.waitForFunction(() => performance.getEntriesByName('beatbook-ready').length > 0, null, { timeout: 60000 });
  const { profile } = await cdp.send('Profiler.stop');
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const dt = new Map();
  profile.samples.forEach((s, i) => dt.set(s, (dt.get(s) || 0) + (profile.timeDeltas[i + 1] || 0)));
  for (const [id, t] of dt) {
    const n = byId.get(id); const name = n.callFrame.functionName || '(anon ' + n.callFrame.url.slice(-30) + ')';
    agg.set(name, (agg.get(name) || 0) + t);
    const seen = new Set(); let cur = id;
    while (cur !== undefined) { const nm = byId.get(cur).callFrame.functionName || '(anon ' + byId.get(cur).callFrame.url.slice(-30) + ')'; if (!seen.has(nm)) { seen.add(nm); incl.set(nm, (incl.get(nm) || 0) + t); } cur = parent.get(cur); }
  }
  const t = await cold.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const res = performance.getEntriesByType('resource').map((r) => `${r.name.split('/').pop().slice(0, 30)} ${Math.round(r.startTime)}-${Math.round(r.responseEnd)}`);
    return { ready: performance.getEntriesByName('beatbook-ready')[0].startTime, resp: nav.responseEnd, dcl: nav.domContentLoadedEventEnd, res, fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime };
  });
  console.log(JSON.stringify(t));
  await context.close();
}
const top = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([n, t]) => `${(t / 1000 / RUNS).toFixed(1)}ms ${n.slice(0, 120)}`).join('\n');
console.log('--- self\n' + top(agg, 30));
console.log('--- inclusive\n' + top(incl, 60));
await browser.close();
