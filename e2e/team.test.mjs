// A ward team on one server, in Chromium: a councillor, a police officer
// and a ward panel member of Mill Lane, and a councillor of Riverside, each
// pairing their phone by the link `invite --site` prints. A resident's
// report made inside Mill Lane reaches Mill Lane's inbox alone, and one
// with no location reaches the ward its resident chose; the
// councillor's triage names her in the history the officer reads; the
// officer sees no contact details and changes nothing; the panel member's
// phone opens to the inbox and writes nothing; revoking the officer empties
// his phone of the team's data.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import {
  required, saveNote, startServer, startShift, useBrowser, waitForSaved, waitForWorker,
} from './helpers.mjs';
import { INBOX_KEY, TEAM_CONCERNS_KEY, TEAM_SHIFTS_KEY } from './keys.mjs';

const browser = useBrowser();

/** Runs one of the server's own commands on `data`; resolves to what it printed. */
async function host(data, args) {
  const proc = spawn(required('BEATBOOK_SERVER'), [...args, '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (chunk) => { out += chunk; });
  proc.stderr.on('data', (chunk) => { out += chunk; });
  const [code] = await once(proc, 'exit');
  return { ok: code === 0, out };
}

/** A square ward boundary, as GeoJSON, from its south-west corner. */
function square(west, south, size = 0.02) {
  const [east, north] = [west + size, south + size];
  return JSON.stringify({
    type: 'Polygon',
    coordinates: [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
  });
}

/** Invites a person with the site's address: the pairing link it printed. */
async function invite(server, ward, role, name) {
  const { ok, out } = await host(server.data, ['invite', '--ward', ward, '--role', role, '--name', name, '--site', server.url]);
  assert.ok(ok, out);
  const link = out.split('\n').find((line) => line.startsWith(`${server.url}/pair#code=`));
  assert.ok(link, `a pairing link in: ${out}`);
  return link;
}

/** A phone opened at its pairing link: the code is filled in, one tap pairs. */
async function pairByLink(link) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(link);
  await page.getByTestId('pair-linked').waitFor();
  assert.equal(await page.getByTestId('pair-code').inputValue(), link.split('#code=')[1]);
  assert.equal(new URL(page.url()).hash, '', 'the code is taken off the address');
  await page.getByTestId('pair').click();
  return page;
}

describe('a ward team', () => {
  test('each person\'s phone shows what their role allows, a located report reaches its ward, and revoking empties a phone', async () => {
    const server = await startServer();
    const millLane = join(server.data, 'mill-lane.geojson');
    const riverside = join(server.data, 'riverside.geojson');
    await writeFile(millLane, square(-0.14, 51.5));
    await writeFile(riverside, square(-0.10, 51.5));
    for (const [name, file] of [['Mill Lane', millLane], ['Riverside', riverside]]) {
      const { ok, out } = await host(server.data, ['ward', 'add', name, '--boundary', file]);
      assert.ok(ok, out);
    }
    const links = {
      ada: await invite(server, 'Mill Lane', 'councillor', 'Cllr Ada Shaw'),
      sam: await invite(server, 'Mill Lane', 'officer', 'PC Sam Jones'),
      pat: await invite(server, 'Mill Lane', 'viewer', 'Pat Panel'),
      rita: await invite(server, 'Riverside', 'councillor', 'Cllr Rita Obi'),
    };

    // Each phone pairs by its link, and opens where its role starts.
    const ada = await pairByLink(links.ada);
    await ada.getByTestId('note-text').waitFor();
    const sam = await pairByLink(links.sam);
    await sam.getByTestId('note-text').waitFor();
    const pat = await pairByLink(links.pat);
    await pat.getByRole('heading', { name: 'Inbox' }).waitFor();
    const rita = await pairByLink(links.rita);
    await rita.getByTestId('note-text').waitFor();
    await sam.getByTestId('nav-settings').click();
    await sam.getByTestId('paired-for').getByText('For PC Sam Jones (Police officer, Mill Lane).').waitFor();

    // A link used once says so on another phone.
    const stranger = await browser.newContext();
    const used = await stranger.newPage();
    await used.goto(links.sam);
    await used.getByTestId('pair').click();
    await used.getByTestId('pair-error').getByText('was used already').waitFor();
    await stranger.close();

    // A resident inside Mill Lane reports, with their contact details.
    const resident = await browser.newContext({
      geolocation: { latitude: 51.5072, longitude: -0.1276, accuracy: 10 },
      permissions: ['geolocation'],
    });
    const phone = await resident.newPage();
    await phone.goto(`${server.url}/report`);
    await phone.getByTestId('kind-poor_lighting').check();
    await phone.getByTestId('report-locate').click();
    await phone.getByTestId('report-location').getByText('within 10 m').waitFor();
    await phone.getByTestId('when-afterdark').check();
    await phone.getByTestId('report-description').fill('The underpass lights have been out all week');
    await phone.locator('details.contact summary').click();
    await phone.getByTestId('report-name').fill('Robin Resident');
    await phone.getByTestId('report-reach').fill('robin@example.org');
    await phone.getByTestId('send-report').click();
    const code = (await phone.getByTestId('report-code').textContent({ timeout: 15_000 })).trim();

    // The councillor of Mill Lane sees it all, and raises it with police.
    await ada.getByTestId('nav-inbox').click();
    const adaCard = ada.getByTestId('inbox-report');
    await adaCard.getByTestId('inbox-contact').getByText('robin@example.org').waitFor();
    await adaCard.getByTestId('triage-open').click();
    await adaCard.getByTestId('triage-status').selectOption('raised_with_police');
    await adaCard.getByTestId('triage-response').fill('Raised with the Safer Neighbourhood team.');
    await adaCard.getByTestId('triage-signed-team').check();
    await adaCard.getByTestId('triage-note').fill('Rang Robin back on Tuesday.');
    await adaCard.getByTestId('triage-save').click();
    await adaCard.getByTestId('card-said').waitFor();
    await adaCard.getByTestId('triage-waiting').waitFor({ state: 'detached', timeout: 15_000 });
    await ada.getByTestId('inbox-refresh').click();
    await adaCard.getByText('Raised with police, by Cllr Ada Shaw').waitFor();

    // The officer reads it, with who moved it, but not who reported it
    // nor the private note; and may change nothing.
    await sam.getByTestId('nav-inbox').click();
    await sam.getByTestId('inbox-sight').getByText('Mill Lane\'s reports, without who made them').waitFor();
    const samCard = sam.getByTestId('inbox-report');
    await samCard.getByText('Raised with police, by Cllr Ada Shaw').waitFor();
    const samSees = await samCard.textContent();
    assert.match(samSees, /The underpass lights have been out all week/);
    for (const hidden of ['robin@example.org', 'Robin Resident', 'Rang Robin back']) {
      assert.ok(!samSees.includes(hidden), `the officer is shown ${hidden}`);
    }
    for (const control of ['triage-open', 'erase-open', 'inbox-select', 'export-reports-csv']) {
      assert.equal(await sam.getByTestId(control).count(), 0, `the officer is offered ${control}`);
    }
    // He adds the police team's response, which the resident's page shows.
    await samCard.getByTestId('police-response-open').click();
    await samCard.getByTestId('police-response-text').fill('Patrols added after dark until the lights are fixed.');
    await samCard.getByTestId('police-response-save').click();
    await samCard.getByTestId('card-said').waitFor();
    await samCard.getByTestId('triage-waiting').waitFor({ state: 'detached', timeout: 15_000 });
    await sam.getByTestId('inbox-refresh').click();
    await samCard.getByText('Police response added, by PC Sam Jones').waitFor();
    await phone.goto(`${server.url}/reports/${code}`);
    await phone.getByTestId('police-response').getByText('Patrols added after dark').waitFor();
    assert.equal(await phone.getByTestId('response-signed').textContent(), '— The ward team');
    assert.equal(await phone.getByTestId('report-ward').textContent(), 'Ward: Mill Lane');
    // The councillor saves again with the same words: they keep the
    // signature they were given, whatever the form says now.
    await adaCard.getByTestId('triage-open').click();
    assert.ok(await adaCard.getByTestId('triage-signed-team').isChecked(), 'the form starts as the words were signed');
    await adaCard.getByTestId('triage-signed-name').check();
    await adaCard.getByTestId('triage-note').fill('Met the PCSO on site.');
    await adaCard.getByTestId('triage-save').click();
    await adaCard.getByTestId('card-said').waitFor();
    await adaCard.getByTestId('triage-waiting').waitFor({ state: 'detached', timeout: 15_000 });
    await ada.getByTestId('inbox-refresh').click();
    await adaCard.getByText('Met the PCSO on site.').waitFor();
    const held = await (await fetch(`${server.url}/api/v1/reports/${code}`, { headers: { 'beatbook-protocol': '3' } })).json();
    assert.equal(held.response_signed, 'The ward team');
    await resident.close();

    // The panel member sees the public status and response, no names, and
    // has no notebook: its screens open the inbox, and meetings cannot be
    // changed.
    await pat.getByTestId('inbox-refresh').click();
    const patCard = pat.getByTestId('inbox-report');
    await patCard.getByText('Raised with the Safer Neighbourhood team.').waitFor();
    const patSees = await patCard.textContent();
    for (const hidden of ['underpass lights', 'Cllr Ada Shaw', 'robin@example.org']) {
      assert.ok(!patSees.includes(hidden), `the panel member is shown ${hidden}`);
    }
    assert.equal(await pat.getByTestId('nav-capture').count(), 0);
    assert.equal(await pat.getByTestId('triage-open').count(), 0);
    await pat.goto(`${server.url}/notes`);
    await pat.getByRole('heading', { name: 'Inbox' }).waitFor();
    // The councillor records a meeting's concern; the panel member reads
    // it, under its ward's name, and cannot add one.
    await ada.goto(`${server.url}/meetings`);
    await ada.getByTestId('concern-new').click();
    await ada.getByTestId('concern-title').fill('Lighting in the underpass');
    await ada.getByTestId('concern-description').fill('Raised by four residents');
    await ada.getByTestId('concern-date').fill('2026-11-20');
    await ada.getByTestId('concern-save').click();
    await ada.getByTestId('concern').getByText('Lighting in the underpass').waitFor();
    await ada.getByTestId('pending-count').getByText(/^All sent/).waitFor({ timeout: 15_000 });
    await pat.getByTestId('nav-meetings').click();
    await pat.getByTestId('concern-meta').getByText('Mill Lane · Raised at the meeting of').waitFor();
    assert.equal(await pat.getByTestId('concern-new').count(), 0, 'no form for a new concern');
    // The councillor records progress; the officer sees who did what, the
    // panel member sees what was done and not by whom.
    await ada.getByTestId('concern-open').click();
    await ada.getByTestId('concern-status-select').selectOption('in_progress');
    await ada.getByTestId('concern-note').fill('Asked the council to fix the lights');
    await ada.getByTestId('concern-update').click();
    await ada.getByTestId('pending-count').getByText(/^All sent/).waitFor({ timeout: 15_000 });
    await sam.goto(`${server.url}/meetings`);
    const who = sam.getByTestId('concern-who');
    await who.getByText('Who did what (raised by Cllr Ada Shaw)').click();
    const steps = await who.getByTestId('concern-step').allTextContents();
    assert.equal(steps.length, 3, steps.join('\n'));
    assert.match(steps[0], /Cllr Ada Shaw · Raised$/);
    assert.match(steps[1], /Cllr Ada Shaw · Progress: Asked the council to fix the lights$/);
    assert.match(steps[2], /Cllr Ada Shaw · Status: Being worked on$/);
    await pat.reload();
    await pat.getByTestId('concern-progress').getByText('Asked the council to fix the lights').waitFor();
    assert.equal(await pat.getByTestId('concern-who').count(), 0, 'the panel is not told who');
    assert.ok(!(await pat.getByTestId('concerns').textContent()).includes('Ada'));
    await ada.getByTestId('nav-inbox').click();

    // Riverside's councillor does not see Mill Lane's report, but does see
    // one made with no location by a resident who chose Riverside.
    const walker = await browser.newContext();
    const noGps = await walker.newPage();
    await noGps.goto(`${server.url}/report`);
    await noGps.getByTestId('kind-poor_lighting').check();
    await noGps.getByTestId('report-place').fill('Towpath under the rail bridge');
    await noGps.getByTestId('report-ward').selectOption('Riverside');
    await noGps.getByTestId('when-afterdark').check();
    await noGps.getByTestId('report-description').fill('No lights at all on the towpath');
    await noGps.getByTestId('send-report').click();
    await noGps.getByTestId('report-code').waitFor({ timeout: 15_000 });
    await walker.close();
    await rita.getByTestId('nav-inbox').click();
    await rita.getByTestId('inbox-report').getByText('Towpath under the rail bridge').waitFor();
    assert.equal(await rita.getByTestId('inbox-report').count(), 1, 'only the report that chose Riverside');

    // A night shift together: each shares theirs with the team, and each
    // sees the other's shared notes, never the private ones.
    for (const [page, who] of [[ada, 'Ada'], [sam, 'Sam']]) {
      await page.getByTestId('nav-capture').click();
      await saveNote(page, `${who}'s private note, before the shift`);
      await waitForSaved(page);
      await startShift(page, 'night_shift', `Night patrol (${who})`);
      await saveNote(page, `${who}: broken light on the footbridge`);
      await waitForSaved(page);
      await page.getByTestId('nav-shifts').click();
      await page.getByTestId('shift-item').filter({ hasText: 'Night patrol' }).getByTestId('shift-share').check();
      await page.getByTestId('pending-count').getByText(/^All sent/).waitFor({ timeout: 15_000 });
    }
    for (const [page, other, self] of [[ada, 'Sam', 'Ada'], [sam, 'Ada', 'Sam']]) {
      await page.getByTestId('team-shifts-refresh').click();
      const shared = page.getByTestId('team-shift');
      await shared.getByText(`${other}: broken light on the footbridge`).waitFor();
      const seen = await page.getByTestId('team-shifts').textContent();
      assert.ok(!seen.includes(`${other}'s private note`), `${self} sees ${other}'s private note`);
      assert.ok(!seen.includes(`${self}:`), `${self}'s own shift is not in the team's list`);
    }
    assert.match(await ada.getByTestId('team-shift').textContent(), /PC Sam Jones/);
    assert.ok(await sam.evaluate((key) => localStorage.getItem(key), TEAM_SHIFTS_KEY));

    // Revoking the officer empties his phone of the team's data.
    assert.ok(await sam.evaluate((key) => localStorage.getItem(key), INBOX_KEY), 'the inbox is kept for offline use');
    assert.ok(await sam.evaluate((key) => localStorage.getItem(key), TEAM_CONCERNS_KEY), 'who did what too');
    const people = await host(server.data, ['people']);
    const samId = people.out.match(/^(\d+)\tPC Sam Jones\t/m)?.[1];
    assert.ok(samId, people.out);
    const revoked = await host(server.data, ['revoke', '--person', samId]);
    assert.ok(revoked.ok, revoked.out);
    await sam.getByTestId('nav-inbox').click();
    await sam.getByTestId('inbox-refresh').click();
    await sam.getByTestId('inbox-error').getByText('copy of the inbox kept on this phone has been removed').waitFor();
    assert.equal(await sam.evaluate((key) => localStorage.getItem(key), INBOX_KEY), null);
    assert.equal(await sam.evaluate((key) => localStorage.getItem(key), TEAM_SHIFTS_KEY), null);
    assert.equal(await sam.evaluate((key) => localStorage.getItem(key), TEAM_CONCERNS_KEY), null);
    assert.equal(await sam.getByTestId('inbox-report').count(), 0);
    await waitForWorker(ada);
    await server.stop();
  });
});
