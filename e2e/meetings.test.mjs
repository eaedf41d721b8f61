// Concerns from public meetings: the councillor records them and their
// progress (offline too); anyone reads the public page, offline after a look.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  openApp, pairApp, startServer, useBrowser, waitForWorker,
} from './helpers.mjs';

const browser = useBrowser();

async function openMeetings(page) {
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('open-meetings').click();
  await page.getByTestId('concerns').waitFor({ state: 'attached' });
}

describe('public meeting concerns', () => {
  test('recorded with no signal, sent when the server is back, read by residents even offline', async () => {
    const server = await startServer();
    const councillor = await browser.newContext();
    const page = await openApp(councillor, server.url);
    await waitForWorker(page);
    await pairApp(page, server.data);
    await server.stop();

    await openMeetings(page);
    await page.getByTestId('concern-new').click();
    assert.equal(await page.getByTestId('concern-date').inputValue(), '', "never today's date by default");
    await page.getByTestId('concern-title').fill('Street lighting on Mill Lane');
    await page.getByTestId('concern-description').fill('Raised by three residents at the November meeting');
    await page.getByTestId('concern-date').fill('2026-11-20');
    await page.getByTestId('concern-save').click();
    const card = page.getByTestId('concern');
    await card.getByText('Street lighting on Mill Lane').waitFor();
    const focusedId = () => page.evaluate(() => document.activeElement?.id ?? '');
    await page.waitForFunction(() => document.activeElement?.id?.startsWith('concern-'));
    assert.match(await focusedId(), /^concern-/, 'focus on the concern just added');
    await card.getByTestId('concern-open').click();
    await card.getByTestId('concern-status-select').selectOption('in_progress');
    await card.getByTestId('concern-note').fill('Council engineers booked for Monday');
    await card.getByTestId('concern-update').click();
    await card.getByTestId('concern-status').getByText('Being worked on').waitFor();
    await page.waitForFunction(() => document.activeElement?.id?.startsWith('concern-'));
    // A second concern from the same meeting: its date is offered.
    await page.getByTestId('concern-new').click();
    assert.equal(await page.getByTestId('concern-date').inputValue(), '2026-11-20');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'concern-new');
    assert.match(await card.textContent(), /20 Nov 2026/);
    assert.match(await card.textContent(), /not sent yet/);

    const again = await startServer({ port: server.port, data: server.data });
    await councillor.setOffline(true);
    await councillor.setOffline(false);
    await page.getByTestId('pending-count').getByText('All sent').waitFor({ timeout: 30_000 });

    const resident = await browser.newContext();
    const phone = await resident.newPage();
    await phone.goto(`${again.url}/?screen=meetings`);
    const seen = phone.getByTestId('concern');
    await seen.getByText('Street lighting on Mill Lane').waitFor();
    assert.equal(await seen.getByTestId('concern-status').textContent(), 'Being worked on');
    assert.match(await seen.getByTestId('concern-progress').textContent(), /Council engineers booked for Monday/);
    assert.equal(await phone.getByTestId('concern-open').count(), 0, 'residents read; they do not edit');
    await waitForWorker(phone);

    await again.stop();
    await phone.reload();
    await phone.getByTestId('concerns-message').getByText('as last seen on this phone').waitFor();
    await phone.getByTestId('concern').getByText('Street lighting on Mill Lane').waitFor();
    await councillor.close();
    await resident.close();
  });
});
