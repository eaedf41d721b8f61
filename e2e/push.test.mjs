// Residents hear back: a report's page offers "Tell me when this changes"
// once the report has its code, never asking the browser's permission on
// its own; the service worker shows the server's notification in the
// resident's words. (Headless Chromium has no push service to subscribe
// with: the server's side of sending, against a stand-in push service, is
// crates/server/tests/push_api.rs.)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { generateKeyPairSync, randomBytes } from 'node:crypto';

import { makeReport, serviceWorkers, startServer, useBrowser, waitForWorker } from './helpers.mjs';
import { TOLD_KEY } from './keys.mjs';

const browser = useBrowser();

describe('residents hear back', () => {
  test('the offer waits for a tap, and a push is shown as a notification naming the new status', async () => {
    const server = await startServer();
    const context = await browser.newContext();
    // Count every time the page asks for permission or a subscription.
    await context.addInitScript(() => {
      window.asked = [];
      const ask = Notification.requestPermission.bind(Notification);
      Notification.requestPermission = (...args) => { window.asked.push('permission'); return ask(...args); };
      const subscribe = PushManager.prototype.subscribe;
      PushManager.prototype.subscribe = function (...args) {
        window.asked.push('subscribe');
        return subscribe.apply(this, args);
      };
    });
    const page = await context.newPage();
    await page.goto(server.url);
    await waitForWorker(page);
    await page.goto(`${server.url}/report`);
    assert.equal(await page.getByTestId('push-ask').count(), 0, 'not on the form');
    await makeReport(page, { place: 'Underpass by the station', description: 'No lights after 10pm' });
    const code = (await page.getByTestId('report-code').first().textContent({ timeout: 15_000 })).trim();
    await page.goto(`${server.url}/reports/${code}`);
    const ask = page.getByTestId('push-ask');
    await ask.waitFor();
    assert.equal(await ask.textContent(), 'Tell me when this changes');
    assert.match(await page.getByTestId('push').textContent(), /deletes it when the report is closed or erased/);
    assert.deepEqual(await page.evaluate(() => window.asked), [], 'nothing asked on page load');

    // Notifications refused: the page says how to allow them.
    await ask.click();
    const error = page.getByTestId('push-error');
    await error.waitFor();
    assert.match(await error.textContent(), /turned off for this site/);
    assert.deepEqual(await page.evaluate(() => window.asked), ['permission']);

    // The server's notice, as the push service brings it, is shown in the
    // resident's words; the newest for a report replaces the last.
    await context.grantPermissions(['notifications'], { origin: server.url });
    const workers = await serviceWorkers(context);
    const notice = (status, title, body) => JSON.stringify({ code, status, title, body, url: `/reports/${code}` });
    await workers.deliverPush(server.url, notice('acknowledged', `Your report ${code} is now: Acknowledged`, 'Open its page to see what changed.'));
    await workers.deliverPush(server.url, notice(
      'raised_with_police', `Your report ${code} is now: Raised with police`, 'The police team: Patrols added after dark',
    ));
    const shown = async () => page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      return (await registration.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: n.data.url }));
    });
    let notifications = [];
    for (let i = 0; i < 50 && notifications.length === 0; i += 1) {
      notifications = await shown();
      if (notifications.length === 0 || notifications[0].title.endsWith('Acknowledged')) {
        notifications = [];
        await page.waitForTimeout(100);
      }
    }
    assert.deepEqual(notifications, [{
      title: `Your report ${code} is now: Raised with police`,
      body: 'The police team: Patrols added after dark',
      tag: `report-${code}`,
      url: `/reports/${code}`,
    }]);
    // Something that is not a notice shows nothing.
    await workers.deliverPush(server.url, 'not json');
    await page.waitForTimeout(300);
    assert.equal((await shown()).length, 1);
  });

  test('"Stop notifications" with no signal is said at once, and reaches the server with the next sync', async () => {
    const server = await startServer();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(server.url);
    await waitForWorker(page);
    await makeReport(page, { place: 'Bus stop on Mill Lane', description: 'Shouting most nights' });
    const code = (await page.getByTestId('report-code').first().textContent({ timeout: 15_000 })).trim();
    // A browser subscription the server holds for this report, as this
    // phone's would be (headless Chromium has no push service to make one).
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const point = publicKey.export({ format: 'jwk' });
    const raw = Buffer.concat([Buffer.from([4]), Buffer.from(point.x, 'base64url'), Buffer.from(point.y, 'base64url')]);
    const subscription = {
      endpoint: 'https://push.example.net/send/phone-1',
      expirationTime: null,
      keys: { p256dh: raw.toString('base64url'), auth: randomBytes(16).toString('base64url') },
    };
    const subscribe = () => fetch(`${server.url}/api/v1/reports/${code}/subscription`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(subscription),
    });
    assert.equal((await subscribe()).status, 201);
    await page.evaluate(([key, told]) => localStorage.setItem(key, told), [
      TOLD_KEY, JSON.stringify({ asked: { [code]: subscription.endpoint }, stopping: {} }),
    ]);
    await page.goto(`${server.url}/reports/${code}`);
    await page.getByTestId('push-told').waitFor();

    await context.setOffline(true);
    await page.getByTestId('push-stop').click();
    await page.getByTestId('push-stopped').getByText('as soon as there is signal').waitFor();
    await page.getByTestId('push-ask').waitFor();
    const waiting = JSON.parse(await page.evaluate((key) => localStorage.getItem(key), TOLD_KEY));
    assert.deepEqual(waiting.stopping, { [code]: subscription.endpoint });
    assert.equal((await subscribe()).status, 200, 'the server still holds it');

    await context.setOffline(false);
    await page.waitForFunction((key) => Object.keys(JSON.parse(localStorage.getItem(key)).stopping).length === 0,
      TOLD_KEY, { timeout: 15_000 });
    assert.equal((await subscribe()).status, 201, 'the server let go of it, so asking again adds it');
  });
});
