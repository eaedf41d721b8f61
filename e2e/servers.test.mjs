// Past one machine: two Beatbook servers on one PostgreSQL database behind
// Caddy, as a council's deployment runs them. A councillor's phone syncs
// through the proxy to both, then through each alone while the other is
// stopped (as an upgrade does, one server at a time), and every note is
// held once, whichever server is asked; a resident's report sent through
// the proxy is found on both.

import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import {
  freePort, makeReport, newDataDir, pairingCode, saveNote, startProgram, startServer, until, useBrowser,
  waitForWorker,
} from './helpers.mjs';
import { deviceToken } from './keys.mjs';
import { startPostgres } from './postgres.mjs';

const browser = useBrowser();

/** The notes a server holds, asked of it directly with the phone's token. */
async function notesOn(server, token) {
  const response = await fetch(`${server.url}/api/v1/notes`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200, `${server.url} lists the notes`);
  return (await response.json()).notes;
}

/** Waits until `server` holds as many notes as `texts`, then asserts that
 * they are exactly those, each once. A wait that times out says what the
 * phone and the proxy said meanwhile. */
async function holdsEachOnce(server, token, texts, when, { page, caddy }) {
  const notes = await until(`${when}: ${texts.length} notes reach ${server.url}`, async () => {
    const held = await notesOn(server, token);
    return held.length >= texts.length && held;
  }, 45_000).catch(async (e) => {
    const phone = await page.getByTestId('pending-count').textContent({ timeout: 1_000 }).catch((why) => why.message);
    const held = await notesOn(server, token).then((n) => n.map((x) => x.text), (why) => why.message);
    const kept = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('beatbook/note/'))
      .map((k) => localStorage.getItem(k))).catch((why) => why.message);
    const form = await page.getByTestId('note-text').inputValue({ timeout: 1_000 }).catch((why) => why.message);
    throw new Error(`${e.message}\nthe phone says: ${phone}\nthe server holds: ${JSON.stringify(held)}
the phone keeps: ${JSON.stringify(kept)}\nthe note box holds: ${JSON.stringify(form)}
the proxy's log (its end):\n${caddy.log().slice(-4000)}`);
  });
  const held = notes.map((n) => n.text).sort();
  assert.deepEqual(held, [...texts].sort(), `${when}: ${server.url} holds each note once`);
  assert.equal(new Set(notes.map((n) => n.id)).size, notes.length, `${when}: no id twice on ${server.url}`);
}

describe('two servers, one PostgreSQL database', () => {
  test('a phone syncs through a proxy to both servers, and to each while the other is stopped', async () => {
    const postgres = await startPostgres();
    const [firstPort, secondPort, proxyPort] = await Promise.all([1, 2, 3].map(freePort));
    const start = (port, data) => startServer({
      args: ['--addr', `127.0.0.1:${port}`, '--trusted-proxy', '127.0.0.1/32'], data, database: postgres.url,
    });
    let first = await start(firstPort);
    let second = await start(secondPort);

    // Caddy, configured as deploy/Caddyfile.servers ships, on loopback.
    const dir = await newDataDir();
    const shipped = await readFile(new URL('../deploy/Caddyfile.servers', import.meta.url), 'utf8');
    const config = shipped
      .replace('beat.example.org {', `http://127.0.0.1:${proxyPort} {`)
      .replaceAll('10.0.0.11:8080', `127.0.0.1:${firstPort}`)
      .replaceAll('10.0.0.12:8080', `127.0.0.1:${secondPort}`);
    assert.ok(config.includes(`127.0.0.1:${secondPort}`), 'the shipped file names two servers');
    await writeFile(join(dir, 'Caddyfile'), `{
  admin off
  auto_https off
  http_port ${proxyPort}
  storage file_system ${join(dir, 'caddy')}
}
${config}`);
    const caddy = startProgram('caddy', ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'],
      { env: { HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir }, cwd: dir });
    const url = `http://127.0.0.1:${proxyPort}`;
    await until('Caddy passes requests on', async () => (await fetch(`${url}/healthz`)).ok, 30_000)
      .catch((e) => { throw new Error(`${e.message}\n${caddy.log()}`); });

    // The councillor pairs the phone with a code made on the first server;
    // the phone's pairing request may reach either.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url);
    await waitForWorker(page);
    const code = await pairingCode(first.data, 'Night-shift phone', undefined, postgres.url);
    await page.getByTestId('home-pair').click();
    await page.getByTestId('pair-code').fill(code);
    await page.getByTestId('pair').click();
    await page.getByTestId('note-text').waitFor();
    const token = await deviceToken(page);
    const allSent = () => page.getByTestId('pending-count').getByText('All sent').waitFor({ timeout: 15_000 });

    const texts = [];
    const note = async (text) => {
      texts.push(text);
      await saveNote(page, text);
    };
    for (let i = 1; i <= 6; i++) await note(`Walkabout stop ${i}: lights out by the flats`);
    await holdsEachOnce(first, token, texts, 'both servers up', { page, caddy });
    await holdsEachOnce(second, token, texts, 'both servers up', { page, caddy });
    await allSent();

    // A resident's report through the proxy is looked up on each server.
    const resident = await browser.newContext();
    const residentPage = await resident.newPage();
    await residentPage.goto(url);
    await makeReport(residentPage, {
      place: 'Underpass by the station', description: 'No lights at all after 10pm',
    });
    const reportCode = (await residentPage.getByTestId('report-code').textContent({ timeout: 20_000 })).trim();
    for (const server of [first, second]) {
      const response = await fetch(`${server.url}/api/v1/reports/${reportCode}`);
      assert.equal(response.status, 200, `report ${reportCode} is found on ${server.url}`);
    }

    // The first server is stopped as an upgrade stops it; the phone goes on
    // through the second.
    assert.equal(await first.terminate(), 0, 'the first server stops cleanly');
    for (let i = 1; i <= 3; i++) await note(`Night shift, first server down: note ${i}`);
    await holdsEachOnce(second, token, texts, 'first server stopped', { page, caddy });
    await allSent();

    // It comes back, and the second is stopped: the phone goes on through
    // the first, which holds what the second took in meanwhile.
    first = await start(firstPort, first.data);
    assert.equal(await second.terminate(), 0, 'the second server stops cleanly');
    for (let i = 1; i <= 3; i++) await note(`Night shift, second server down: note ${i}`);
    await holdsEachOnce(first, token, texts, 'second server stopped', { page, caddy });
    await allSent();

    second = await start(secondPort, second.data);
    await holdsEachOnce(second, token, texts, 'both back', { page, caddy });
    assert.equal(texts.length, 12);
  });
});
