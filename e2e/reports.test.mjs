// Residents' reports against the real server: made with no signal, delivered
// once, followed by code, readable offline, and the limits shown plainly.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { describe, test } from 'node:test';

import {
  councillorToken, makeReport, openApp, pairApp, serviceWorkers, startServer, useBrowser, waitForWorker,
} from './helpers.mjs';

const browser = useBrowser();

const CODE = /^[A-HJKMNP-Z2-9]{5}-[A-HJKMNP-Z2-9]{5}$/;

/** The inbox as the server gives it to an app of `level` (1: an app from
 * before the protocol header, which must read what it always did). */
async function inbox(url, token, level = 1) {
  const headers = { authorization: `Bearer ${token}` };
  if (level > 1) headers['beatbook-protocol'] = String(level);
  const response = await fetch(`${url}/api/v1/inbox`, { headers });
  assert.equal(response.status, 200);
  return response.json();
}

/** The `data-testid` of the element that has focus. */
/** Waits (a few seconds at most) for the element with `testid` to have
 * focus: the app moves it once the list has redrawn. */
async function waitForFocus(page, testid) {
  const focused = () => page.evaluate(() => document.activeElement?.dataset?.testid ?? document.activeElement?.tagName);
  try {
    await page.waitForFunction((id) => document.activeElement?.dataset?.testid === id, testid, { timeout: 5_000 });
  } catch {
    assert.equal(await focused(), testid, 'focus');
  }
}

/**
 * Sends a report straight to the API from the loopback address `from`
 * (127.0.x.y), as another resident's phone, or a bot, would: its status and
 * its body.
 */
function postReport(url, { place, from, kind = 'other', description = 'junk' }) {
  const { port } = new URL(url);
  const body = JSON.stringify({
    report: {
      id: crypto.randomUUID(), created_at: new Date().toISOString(), kind, location: null,
      location_rounded: false, place, when: 'after_dark', when_detail: null, description, contact: null,
    },
  });
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: '127.0.0.1', port, path: '/api/v1/reports', method: 'POST', localAddress: from,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (r) => {
      let text = '';
      r.on('data', (chunk) => { text += chunk; });
      r.on('end', () => resolve({ status: r.statusCode, text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

describe('resident reports', () => {
  test('a report made with the server stopped arrives once, gets a code, and its status reads offline', async () => {
    const server = await startServer();
    const context = await browser.newContext();
    const page = await openApp(context, server.url);
    await waitForWorker(page);
    await server.stop();

    await makeReport(page, {
      kind: 'unsafe_after_dark',
      place: 'Underpass by the station',
      description: 'No lights at all after 6pm; people wait in the dark',
    });
    await page.getByTestId('report-saved').getByText('Report saved on this phone').waitFor();
    await page.getByTestId('report-delivery').getByText('Waiting for signal').waitFor();

    const again = await startServer({ port: server.port, data: server.data });
    // The phone's connection comes back.
    await context.setOffline(true);
    await context.setOffline(false);
    const code = (await page.getByTestId('report-code').textContent({ timeout: 30_000 })).trim();
    assert.match(code, CODE);
    await page.getByTestId('report-status-label').getByText('New').waitFor();

    const token = await councillorToken(again.url, again.data);
    const held = await inbox(again.url, token);
    assert.equal(held.reports.length, 1, 'delivered exactly once');
    assert.equal(held.reports[0].code, code);
    assert.equal(held.reports[0].report.place, 'Underpass by the station');

    // The councillor raises it with the police and answers publicly.
    const change = {
      id: crypto.randomUUID(),
      report_id: held.reports[0].report.id,
      at: new Date().toISOString(),
      status: 'raised_with_police',
      response: 'Raised with the neighbourhood policing team; lights reported to the council.',
      private_note: 'Sergeant Reid to add it to the night patrol',
    };
    const triage = await fetch(`${again.url}/api/v1/triage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ changes: [change] }),
    });
    assert.equal((await triage.json()).results[0].outcome, 'stored');

    await page.getByTestId('check-reports').click();
    await page.getByTestId('report-status-label').getByText('Raised with police').waitFor();
    assert.match(await page.getByTestId('report-response').textContent(), /neighbourhood policing team/);

    // Anyone with the code can look it up; the page is kept for offline reading.
    await page.getByTestId('look-up-code').fill(code.toLowerCase().replace('-', ' '));
    await page.getByTestId('look-up').click();
    await page.getByTestId('looked-up').getByTestId('report-status-label').getByText('Raised with police').waitFor();
    const lookedUp = await page.getByTestId('looked-up').textContent();
    assert.ok(!lookedUp.includes('Sergeant Reid'), 'private notes never reach the public page');

    await again.stop();
    await page.goto(`${server.url}/?screen=reports&code=${code}`);
    await page.getByTestId('report-status-label').first().getByText('Raised with police').waitFor();
    await page.getByTestId('look-up-message').getByText('Showing the status last seen').waitFor();
    await page.getByTestId('looked-up').getByTestId('report-status-label').getByText('Raised with police').waitFor();
    await context.close();
  });

  test('the location is shown with its accuracy, and only the area is sent unless the resident asks for the exact spot', async () => {
    const server = await startServer();
    const context = await browser.newContext({
      geolocation: { latitude: 51.507351, longitude: -0.127758, accuracy: 8 },
      permissions: ['geolocation'],
    });
    const page = await openApp(context, server.url);
    await page.getByTestId('nav-report').click();
    await page.getByTestId('kind-poor_lighting').check();
    await page.getByTestId('report-locate').click();
    await page.getByTestId('report-location').getByText('51.50735, -0.12776 (within 8 m)').waitFor();
    // Only the area is shared unless the resident ticks "Share the exact spot".
    assert.equal(await page.getByTestId('report-exact').isChecked(), false);
    await page.getByTestId('when-afterdark').check();
    await page.getByTestId('report-description').fill('The lamp by the alley is out');
    await page.getByTestId('send-report').click();
    await page.getByTestId('report-code').waitFor({ timeout: 15_000 });
    const token = await councillorToken(server.url, server.data);
    const { report } = (await inbox(server.url, token)).reports[0];
    assert.deepEqual(report.location, { latitude: 51.507, longitude: -0.128, accuracy_m: 100 });
    assert.equal(report.location_rounded, true);
    assert.equal(report.place, null, 'a location alone says where');
    await context.close();
    await server.stop();
  });

  test('a resident reads what is kept, and asks for their details to be erased; the councillor sees the request', async () => {
    const server = await startServer();
    const context = await browser.newContext();
    const page = await openApp(context, server.url);
    await waitForWorker(page);
    await page.getByTestId('nav-reports').click();
    await page.getByTestId('open-privacy').click();
    await page.getByRole('heading', { name: 'Your report and your privacy' }).waitFor();
    await page.getByTestId('privacy-contact-days').getByText('erased automatically 90 days after your report is closed').waitFor();
    await page.getByTestId('privacy-to-report').click();
    await page.getByTestId('kind-poor_lighting').check();
    await page.getByTestId('report-place').fill('Alley behind the library');
    await page.getByTestId('when-always').check();
    await page.getByTestId('report-description').fill('The lamp is out and someone follows me home');
    await page.getByTestId('send-report').click();
    const code = (await page.getByTestId('report-code').textContent({ timeout: 15_000 })).trim();

    await page.getByTestId('request-erasure').click();
    await page.getByTestId('confirm-erasure').click();
    await page.getByTestId('erasure-requested').waitFor();
    await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'erasure-requested');

    const token = await councillorToken(server.url, server.data);
    const held = (await inbox(server.url, token)).reports[0];
    assert.equal(held.code, code);
    assert.ok(
      held.history.some((h) => (h.private_note ?? '').startsWith('The resident asked for their contact details')),
      JSON.stringify(held.history),
    );
    const current = (await inbox(server.url, token, 2)).reports[0];
    assert.ok(current.erasure_requested_at, JSON.stringify(current));
    assert.ok(current.history.every((h) => h.private_note === null), JSON.stringify(current.history));

    // Someone else who has the code reads the page, and is offered nothing.
    const stranger = await openApp(await browser.newContext(), server.url);
    await stranger.goto(`${server.url}/reports/${code}`);
    await stranger.getByTestId('report-status').waitFor();
    assert.equal(await stranger.getByTestId('request-erasure').count(), 0);
    assert.equal(await stranger.getByTestId('erasure-requested').count(), 0);

    // With the server gone, the request cannot be sent, and the app says so.
    await server.stop();
    await page.reload();
    await page.getByTestId('nav-reports').click();
    await page.getByTestId('request-erasure').first().click();
    await page.getByTestId('confirm-erasure').click();
    await page.getByTestId('erasure-error').getByText('needs a connection').waitFor();
    await context.close();
  });

  test('too many reports from one connection: the server says wait, the app says so plainly and keeps the report', async () => {
    const server = await startServer();
    const context = await browser.newContext();
    const page = await openApp(context, server.url);
    for (let i = 1; i <= 6; i += 1) {
      await makeReport(page, { place: `Lamp post ${i}`, description: `Light ${i} is out` });
    }
    const banner = page.getByTestId('sync-error');
    await banner.getByText('too many reports from this connection').waitFor({ timeout: 15_000 });
    assert.match(await banner.textContent(), /will be sent in about \d+ (seconds|minutes)/);
    await page.getByTestId('report-code').nth(4).waitFor();
    assert.equal(await page.getByTestId('report-code').count(), 5);
    assert.equal(await page.getByTestId('report-delivery').getByText('Waiting for signal').count(), 1);
    const token = await councillorToken(server.url, server.data);
    assert.equal((await inbox(server.url, token)).reports.length, 5);

    // The one still waiting can be withdrawn; the five delivered cannot.
    assert.equal(await page.getByTestId('delete-report').count(), 1);
    await page.getByTestId('delete-report').click();
    await page.getByTestId('confirm-delete-report').click();
    await page.getByTestId('report-delivery').getByText('Waiting for signal').waitFor({ state: 'detached' });
    await page.reload();
    await page.getByTestId('nav-reports').click();
    await page.getByTestId('my-report').nth(4).waitFor();
    assert.equal(await page.getByTestId('my-report').count(), 5, 'the deletion survives a reload');
    await context.close();
    await server.stop();
  });

  test('a flood from rotating addresses fills the shared ceiling; a resident\'s phone solves the puzzle and its report gets its code', async () => {
    const server = await startServer();
    // Junk reports, each from a new loopback address (127.0.1.x), as a
    // botnet sends them, until the ceiling for everyone refuses.
    const junk = (n) => postReport(server.url, { place: `Anywhere ${n}`, from: `127.0.1.${1 + (n % 250)}` });
    let refused = null;
    for (let n = 0; n < 500 && !refused; n += 1) {
      const answer = await junk(n);
      if (answer.status === 429) refused = JSON.parse(answer.text);
    }
    assert.ok(refused?.challenge?.seed, 'past the ceiling, the refusal sets a puzzle');

    // A resident who never sent anything: the phone solves the puzzle by
    // itself, and the report is in.
    const context = await browser.newContext();
    const page = await openApp(context, server.url);
    const started = Date.now();
    await makeReport(page, { place: 'Mill Lane underpass', description: 'No light at all after dark' });
    const code = (await page.getByTestId('report-code').textContent({ timeout: 20_000 })).trim();
    console.log(`a report past the ceiling had its code ${Date.now() - started} ms after Send (puzzle of ${refused.challenge.bits} bits)`);
    assert.match(code, /^[A-Z0-9]{5}-[A-Z0-9]{5}$/);
    const token = await councillorToken(server.url, server.data);
    const held = (await inbox(server.url, token)).reports.filter((r) => r.code === code);
    assert.equal(held.length, 1, 'stored once');
    assert.equal(held[0].report.place, 'Mill Lane underpass');
    await context.close();
    await server.stop();
  });

  test('the councillor removes junk reports as spam, several at once, with no signal; they leave the inbox and their public pages', async () => {
    const server = await startServer();
    const codes = [];
    for (const [n, place] of ['Cheap watches 1', 'Cheap watches 2', 'Cheap watches 3', 'Mill Lane underpass'].entries()) {
      const sent = await postReport(server.url, { place, from: `127.0.2.${n + 1}` });
      assert.equal(sent.status, 200, sent.text);
      codes.push(JSON.parse(sent.text).code);
    }
    const councillor = await browser.newContext();
    const page = await openApp(councillor, server.url);
    await waitForWorker(page);
    await pairApp(page, server.data);
    await page.getByTestId('nav-inbox').click();
    const cards = page.getByTestId('inbox-report');
    await cards.nth(3).waitFor();

    await server.stop();
    for (const n of [1, 2, 3]) {
      await cards.filter({ hasText: `Cheap watches ${n}` }).getByTestId('inbox-select').check();
    }
    assert.equal(await page.getByTestId('selected-count').textContent(), '3 selected');
    await page.getByTestId('remove-spam').click();
    await page.getByTestId('confirm-spam').click();
    await page.getByTestId('spam-said').getByText('3 reports removed as spam').waitFor();
    await cards.nth(1).waitFor({ state: 'detached' });
    assert.deepEqual(await cards.evaluateAll((els) => els.map((e) => e.textContent.includes('Mill Lane underpass'))), [true]);
    assert.equal(await page.getByTestId('selection-bar').count(), 0, 'nothing left selected');
    // With no signal at all, the removal is kept on the phone.
    await page.reload();
    await page.getByTestId('nav-inbox').click();
    await page.getByTestId('inbox-error').waitFor();
    assert.equal(await cards.count(), 1);

    const again = await startServer({ port: server.port, data: server.data });
    await councillor.setOffline(true);
    await councillor.setOffline(false);
    await page.getByTestId('pending-count').getByText('All sent').waitFor({ timeout: 30_000 });
    const token = await councillorToken(again.url, again.data);
    assert.deepEqual((await inbox(again.url, token)).reports.map((r) => r.code), [codes[3]]);
    for (const code of codes.slice(0, 3)) {
      assert.equal((await fetch(`${again.url}/api/v1/reports/${code}`)).status, 404);
    }
    assert.equal((await fetch(`${again.url}/api/v1/reports/${codes[3]}`)).status, 200);
    await councillor.close();
    await again.stop();
  });

  test('the councillor triages with no signal; the change reaches the resident once the server is back', async () => {
    const server = await startServer();
    const resident = await browser.newContext();
    const phone = await openApp(resident, server.url);
    await makeReport(phone, { kind: 'harassment_or_intimidation', place: 'Bus station', description: 'Groups shouting at people waiting' });
    const code = (await phone.getByTestId('report-code').textContent({ timeout: 15_000 })).trim();

    const councillor = await browser.newContext();
    const page = await openApp(councillor, server.url);
    await waitForWorker(page);
    await pairApp(page, server.data);
    await page.getByTestId('nav-inbox').click();
    const card = page.getByTestId('inbox-report');
    await card.getByText('Bus station').waitFor();
    assert.match(await card.textContent(), new RegExp(code));
    assert.equal(await page.getByTestId('chart').count(), 3, 'weekly, hourly and by-kind charts');
    assert.equal(await card.getByTestId('show-photos').count(), 0, 'no photos, nothing to show');
    assert.match(await page.getByTestId('chart').first().getAttribute('aria-label'), /1 in all/);

    await server.stop();
    await card.getByTestId('triage-open').click();
    await card.getByTestId('triage-status').selectOption('raised_with_police');
    await card.getByTestId('triage-response').fill('Raised with the police; extra patrols on Friday nights.');
    await card.getByTestId('triage-note').fill('Spoke to PC Khan');
    await card.getByTestId('triage-save').click();
    await card.getByTestId('triage-waiting').waitFor();
    assert.equal(await card.getByTestId('inbox-status-label').textContent(), 'Raised with police');
    // The card answers, and the councillor's place is kept: focus on it.
    await card.getByTestId('card-said').getByText('Status saved on this phone, waiting to be sent.', { exact: true }).waitFor();
    await waitForFocus(page, 'inbox-report');
    // A Save that changes nothing queues nothing.
    await card.getByTestId('triage-open').click();
    await card.getByTestId('triage-save').click();
    await card.getByTestId('card-said').getByText('Nothing changed.').waitFor();
    await waitForFocus(page, 'inbox-report');

    // With no signal at all, the kept inbox and the queued change survive a reload.
    await page.reload();
    await page.getByTestId('nav-inbox').click();
    await page.getByTestId('inbox-error').waitFor();
    await page.getByTestId('inbox-report').getByTestId('triage-waiting').waitFor();

    const again = await startServer({ port: server.port, data: server.data });
    await councillor.setOffline(true);
    await councillor.setOffline(false);
    await page.getByTestId('pending-count').getByText('All sent').waitFor({ timeout: 30_000 });
    await page.getByTestId('inbox-report').getByText('Private: Spoke to PC Khan').waitFor();
    await page.getByTestId('triage-waiting').waitFor({ state: 'detached' });

    // Filtering by the days received: nothing was received before today.
    const yesterday = new Date(Date.now() - 86_400_000);
    const day = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    await page.getByTestId('inbox-filters').click();
    await page.getByTestId('inbox-to').fill(day(yesterday));
    await page.getByTestId('inbox-counts').getByText('No reports match.').waitFor();
    await page.getByTestId('inbox-to').fill('');
    await page.getByTestId('inbox-from').fill(day(new Date()));
    await page.getByTestId('inbox-counts').getByText('Harassment or intimidation 1').waitFor();

    // The week's reports as GeoJSON, for the police team.
    await page.getByTestId('inbox-days').selectOption('7');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('export-reports-geojson').click(),
    ]);
    assert.match(download.suggestedFilename(), /^beatbook-reports-\d{8}-\d{4}\.geojson$/);
    const geojson = JSON.parse(await readFile(await download.path(), 'utf8'));
    assert.equal(geojson.type, 'FeatureCollection');
    assert.deepEqual(geojson.features.map((f) => f.properties.status), ['raised_with_police']);
    assert.equal(geojson.features[0].properties.code, code);
    assert.ok(!JSON.stringify(geojson).includes('PC Khan'), 'no private notes in exports');

    await phone.getByTestId('check-reports').click();
    await phone.getByTestId('report-status-label').getByText('Raised with police').waitFor();
    assert.match(await phone.getByTestId('report-response').textContent(), /extra patrols/);
    assert.ok(!(await phone.content()).includes('PC Khan'));

    const token = await councillorToken(again.url, again.data);
    const held = await inbox(again.url, token);
    assert.equal(held.reports[0].history.length, 2, 'the change was applied once');
    await resident.close();
    await councillor.close();
    await again.stop();
  });

  test('the councillor erases a resident\'s details from the inbox with no signal; the resident\'s page says when', async () => {
    const server = await startServer();
    const resident = await browser.newContext();
    const phone = await openApp(resident, server.url);
    await phone.goto(new URL('/report', phone.url()).href);
    await phone.getByTestId('kind-poor_lighting').check();
    await phone.getByTestId('report-place').fill('Footpath by the allotments');
    await phone.getByTestId('when-afterdark').check();
    await phone.getByTestId('report-description').fill('No lights at all, and I walk here from work');
    await phone.locator('details.contact summary').click();
    await phone.getByTestId('report-name').fill('Robin Resident');
    await phone.getByTestId('report-reach').fill('robin@example.org');
    await phone.getByTestId('send-report').click();
    const code = (await phone.getByTestId('report-code').textContent({ timeout: 15_000 })).trim();
    await phone.getByTestId('request-erasure').click();
    await phone.getByTestId('confirm-erasure').click();
    await phone.getByTestId('erasure-requested').waitFor();

    const councillor = await browser.newContext();
    const page = await openApp(councillor, server.url);
    await waitForWorker(page);
    await pairApp(page, server.data);
    await page.getByTestId('nav-inbox').click();
    const card = page.getByTestId('inbox-report');
    await card.getByTestId('erasure-badge').waitFor();
    await card.getByText('The resident asked for their details to be erased').waitFor();
    assert.match(await card.getByTestId('inbox-contact').textContent(), /robin@example\.org/);
    await page.getByTestId('inbox-filters').click();
    await page.getByTestId('inbox-erasure').check();
    await page.getByTestId('inbox-counts').getByText('Poor lighting 1').waitFor();

    // No signal: the erasure is done on the phone at once and queued.
    await server.stop();
    await card.getByTestId('erase-open').click();
    await page.getByTestId('confirm-erase').click();
    await card.getByTestId('card-said').getByText('Personal details erased on this phone').waitFor();
    await waitForFocus(page, 'inbox-report');
    assert.equal(await card.getByTestId('inbox-contact').count(), 0);
    assert.equal(await card.getByTestId('erase-open').count(), 0);
    await page.getByTestId('inbox-erasure').uncheck();
    await page.getByTestId('inbox-erasure').check();
    await page.getByTestId('inbox-counts').getByText('No reports match.').waitFor();
    await page.getByTestId('inbox-erasure').uncheck();

    const again = await startServer({ port: server.port, data: server.data });
    await councillor.setOffline(true);
    await councillor.setOffline(false);
    await page.getByTestId('pending-count').getByText('All sent').waitFor({ timeout: 30_000 });
    // The history, as the server now has it, says who did what and when.
    await card.locator('.history').getByText('Personal details erased').waitFor();

    const token = await councillorToken(again.url, again.data);
    const held = (await inbox(again.url, token, 2)).reports[0];
    assert.ok(held.erased_at, JSON.stringify(held));
    assert.equal(held.report.contact ?? null, null);
    assert.ok(!JSON.stringify(held).includes('Robin'), 'nothing personal is left');
    assert.equal(held.status, 'new', 'erasure moves no status');

    await phone.getByTestId('check-reports').click();
    await phone.getByTestId('erasure-done').waitFor();
    assert.equal(await phone.getByTestId('request-erasure').count(), 0);
    await resident.close();
    await councillor.close();
    await again.stop();
  });

  test('a half-written report comes back after a reload, and goes once it is sent', async () => {
    const server = await startServer();
    const context = await browser.newContext();
    const page = await openApp(context, server.url);
    await page.goto(`${server.url}/report`);
    await page.getByTestId('kind-drug_dealing').check();
    await page.getByTestId('report-place').fill('Stairwell of Lime House');
    await page.getByTestId('when-particulartime').check();
    await page.getByTestId('report-when-detail').fill('Weekday evenings');
    await page.getByTestId('report-description').fill('People dealing on the stairs');
    // Journalled a moment after typing stops, as the note form's draft is.
    await page.waitForTimeout(800);
    await page.reload();
    await page.getByTestId('report-draft-recovered').waitFor();
    assert.equal(await page.getByTestId('kind-drug_dealing').isChecked(), true);
    assert.equal(await page.getByTestId('report-place').inputValue(), 'Stairwell of Lime House');
    assert.equal(await page.getByTestId('report-when-detail').inputValue(), 'Weekday evenings');
    assert.equal(await page.getByTestId('report-description').inputValue(), 'People dealing on the stairs');

    // "Start again" empties the form and forgets the draft.
    await page.getByTestId('report-start-again').click();
    assert.equal(await page.getByTestId('report-place').inputValue(), '');
    await page.reload();
    // Once the form has looked at the kept draft.
    await page.locator('#main form.report-form:not([aria-busy])').waitFor();
    assert.equal(await page.getByTestId('report-draft-recovered').count(), 0);

    // Filled again and sent: the draft is gone with it.
    await page.getByTestId('kind-poor_lighting').check();
    await page.getByTestId('report-place').fill('Lime House car park');
    await page.getByTestId('when-afterdark').check();
    await page.getByTestId('report-description').fill('Half the lights are out');
    await page.waitForTimeout(800);
    await page.getByTestId('send-report').click();
    await page.getByTestId('report-code').waitFor({ timeout: 15_000 });
    await page.goto(`${server.url}/report`);
    await page.locator('#main form.report-form:not([aria-busy])').waitFor();
    assert.equal(await page.getByTestId('report-draft-recovered').count(), 0);
    assert.equal(await page.getByTestId('report-place').inputValue(), '');
    await context.close();
  });

  test('a report saved with no signal is sent by the service worker with every page closed, once, and the app shows its code', async () => {
    const server = await startServer();
    const context = await browser.newContext();
    const workers = await serviceWorkers(context);

    const page = await openApp(context, server.url);
    await waitForWorker(page);
    await server.stop();
    await makeReport(page, { place: 'Underpass by the ring road', description: 'Two lights out, very dark' });
    await page.getByTestId('report-delivery').getByText('Waiting for signal').waitFor();
    // Handed to the worker: the letter is in its database.
    await page.waitForFunction(() => new Promise((resolve) => {
      const open = indexedDB.open('beatbook-courier');
      open.onsuccess = () => {
        const count = open.result.transaction('letters').objectStore('letters').count();
        count.onsuccess = () => { resolve(count.result === 1); open.result.close(); };
      };
    }));
    await page.close();

    const again = await startServer({ port: server.port, data: server.data });
    await workers.dispatchSync(server.url);
    const token = await councillorToken(again.url, again.data);
    let held = [];
    for (let i = 0; i < 50 && held.length === 0; i += 1) {
      held = (await inbox(again.url, token)).reports;
      if (held.length === 0) await new Promise((resolve) => { setTimeout(resolve, 100); });
    }
    assert.equal(held.length, 1, 'sent with no page open');
    const code = held[0].code;

    const reopened = await context.newPage();
    await reopened.goto(`${again.url}/reports`);
    await reopened.getByTestId('sent-while-closed').getByText(`Its reference code is ${code}`).waitFor();
    assert.equal((await reopened.getByTestId('report-code').textContent()).trim(), code);
    await reopened.waitForTimeout(500);
    assert.equal((await inbox(again.url, token)).reports.length, 1, 'held once');
    await context.close();
    await again.stop();
  });
});
