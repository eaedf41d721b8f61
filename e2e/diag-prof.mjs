import { startServer, launchBrowser } from './helpers.mjs';
const server = await startServer({ dist: process.env.DIST });
const browser = await launchBrowser();
const path = process.argv[2] || '/report';
const agg = new Map(); const incl = new Map();
for (let run = 0; run < 3; run++) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await page.goto(server.url + path);
  await page.waitForFunction(() => performance.getEntriesByName('beatbook-ready').length > 0, null, { timeout: 60000 });
  await page.waitForTimeout(1500);
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
    while (cur !== undefined) { const nm = byId.get(cur).callFrame.functionName; if (!seen.has(nm)) { seen.add(nm); incl.set(nm, (incl.get(nm) || 0) + t); } cur = parent.get(cur); }
  }
  const ready = await page.evaluate(() => performance.getEntriesByName('beatbook-ready')[0].startTime);
  console.log('ready at', Math.round(ready));
  await context.close();
}
const top = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([n, t]) => `${(t / 3000).toFixed(1)}ms ${n.slice(0, 110)}`).join('\n');
console.log('--- self\n' + top(agg, 40));
console.log('--- inclusive\n' + top(incl, 70));
await browser.close(); await server.stop();
