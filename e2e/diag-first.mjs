import { startServer, launchBrowser } from './helpers.mjs';
const server = await startServer();
const browser = await launchBrowser();
for (const scheme of ['light', 'dark']) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: scheme, hasTouch: true, isMobile: true });
  const page = await context.newPage();
  await page.route('**/*.wasm', (r) => r.abort());
  page.on('console', (m) => console.log('console', m.text()));
  await page.goto(server.url + '/');
  await page.screenshot({ path: `/tmp/diag/first-${scheme}.png` });
  await page.click('[data-testid=first-home-report]');
  console.log('url after tap', page.url());
  await page.screenshot({ path: `/tmp/diag/first-report-${scheme}.png` });
  await page.goBack();
  console.log('url after back', page.url(), await page.evaluate(() => document.documentElement.dataset.first));
  await context.close();
}
const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
const page = await context.newPage();
await page.goto(server.url + '/');
await page.waitForFunction(() => performance.getEntriesByName('beatbook-ready').length > 0);
console.log('first left?', await page.locator('#first').count(), 'home-report', await page.locator('[data-testid=home-report]').count());
await page.screenshot({ path: `/tmp/diag/app-home.png` });
await browser.close(); await server.stop();
