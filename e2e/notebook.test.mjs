// The offline notebook in a real browser against the real server.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, test } from 'node:test';

import {
  gotoApp, listedNotes, noSignalToSend, openApp, saveNote, startServer, startShift, useBrowser, waitForSaved,
} from './helpers.mjs';
import { NOTE_PREFIX } from './keys.mjs';

let server;
const browser = useBrowser();

// A server per test: each test pairs its phone, and the server allows one
// address only a few pairings a minute.
beforeEach(async () => {
  server = await startServer();
});

afterEach(async () => {
  await server?.stop();
});

describe('the offline notebook', () => {
  test('a note saved in a running shift is still there after a reload', async () => {
    const context = await browser.newContext();
    const page = await openApp(context, server);
    await noSignalToSend(context);
    await startShift(page, 'night_shift', 'Town centre');
    await assert.doesNotReject(page.getByTestId('running-shift').getByText('Night shift · Town centre').waitFor());
    await saveNote(page, 'Street light out on Mill Lane', { category: 'poor_lighting', place: 'Mill Lane' });
    await waitForSaved(page);
    assert.equal(await page.getByTestId('note-text').inputValue(), '', 'the form is ready for the next note');

    await page.reload();
    await page.getByTestId('note-text').waitFor();
    assert.equal(await page.getByTestId('running-shift').textContent(), 'Night shift · Town centre');
    assert.deepEqual(await listedNotes(page), ['Street light out on Mill Lane']);
    assert.match(await page.getByTestId('pending-count').textContent(), /2 saved on this phone, not sent yet/);

    await page.getByTestId('nav-shifts').click();
    const shift = page.getByTestId('shift-item');
    assert.match(await shift.textContent(), /Night shift · Town centre.*1 note/);
    await context.close();
  });

  test('a note saved in one tab appears in a second, and both tabs\' notes survive', async () => {
    const context = await browser.newContext();
    const first = await openApp(context, server);
    const second = await openApp(context, server);
    await second.getByTestId('nav-notes').click();

    await saveNote(first, 'Saved in the first tab');
    await second.getByTestId('note-item-text').getByText('Saved in the first tab').waitFor();

    await saveNote(second, 'Saved in the second tab');
    await first.getByTestId('nav-notes').click();
    await first.getByTestId('note-item-text').getByText('Saved in the second tab').waitFor();

    for (const page of [first, second]) {
      await page.reload();
      assert.deepEqual(
        (await listedNotes(page)).sort(),
        ['Saved in the first tab', 'Saved in the second tab'],
      );
    }
    await context.close();
  });

  test('note text that looks like HTML is shown as text and runs nothing', async () => {
    const context = await browser.newContext();
    const page = await openApp(context, server);
    const dialogs = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      dialog.dismiss();
    });
    const attack = '<img src=x onerror=alert(1)>';
    await saveNote(page, attack);
    await waitForSaved(page);
    assert.deepEqual(await listedNotes(page), [attack]);
    await page.getByTestId('note-item-text').click();
    assert.equal(await page.getByTestId('note-detail-text').textContent(), attack);
    assert.equal(await page.locator('img').count(), 0, 'no image element was created');
    // The note has its own address: a reload opens it again.
    await page.reload();
    assert.equal(await page.getByTestId('note-detail-text').textContent(), attack);
    await listedNotes(page);
    assert.equal(await page.locator('img').count(), 0);
    assert.deepEqual(dialogs, [], 'no script ran');
    await context.close();
  });

  test('a note of 4,001 characters is refused with a message and stays on screen', async () => {
    const context = await browser.newContext();
    const page = await openApp(context, server);
    const long = 'a'.repeat(4001);
    await saveNote(page, long);
    const error = page.getByTestId('note-text-error');
    await error.waitFor();
    assert.equal(await page.getByTestId('note-text').getAttribute('aria-invalid'), 'true');
    assert.match(await error.textContent(), /4001 characters long; the limit is 4,000\. Shorten it by 1/);
    assert.match(await page.getByTestId('note-count').textContent(), /4001 \/ 4,000 — 1 too many/);
    assert.equal(await page.getByTestId('note-text').inputValue(), long, 'the text stays to be shortened');
    assert.deepEqual(await listedNotes(page), []);

    await page.getByTestId('nav-capture').click();
    await page.getByTestId('note-text').fill('a'.repeat(4000));
    await page.getByTestId('save-note').click();
    await waitForSaved(page);
    assert.equal((await listedNotes(page)).length, 1);
    await context.close();
  });

  test('a GPS fix is attached when allowed; without permission the note still saves', async () => {
    const allowed = await browser.newContext({
      permissions: ['geolocation'],
      geolocation: { latitude: 51.5072, longitude: -0.1276, accuracy: 12 },
    });
    const page = await openApp(allowed, server);
    // Never asked for on opening: only when the councillor taps "Add location".
    await page.getByTestId('location-state').getByText('Location not attached').waitFor();
    await page.getByTestId('add-location').click();
    await page.getByTestId('location-state').getByText('Location attached').waitFor();
    await saveNote(page, 'Group gathering by the bins');
    await waitForSaved(page);
    await listedNotes(page);
    await page.getByTestId('note-item-text').click();
    assert.match(await page.locator('.details').textContent(), /51\.50720, -0\.12760 \(within 12 m\)/);
    await allowed.close();

    const denied = await browser.newContext();
    const other = await openApp(denied, server);
    await other.getByTestId('add-location').click();
    await other.getByTestId('location-state').getByText('not allowed').waitFor();
    await saveNote(other, 'No GPS but a place', { place: 'By the station underpass' });
    await waitForSaved(other);
    await listedNotes(other);
    await other.getByTestId('note-item-text').click();
    const details = await other.locator('.details').textContent();
    assert.match(details, /By the station underpass/);
    assert.doesNotMatch(details, /Location/);
    await denied.close();
  });

  test('an unreadable stored entry is set aside and reported, never deleted', async () => {
    const context = await browser.newContext();
    const page = await openApp(context, server);
    await saveNote(page, 'A good note');
    await waitForSaved(page);
    const badKey = `${NOTE_PREFIX}00000000-0000-4000-8000-000000000001`;
    await page.evaluate((key) => localStorage.setItem(key, '{"v":1,"record":{"id":'), badKey);
    await page.reload();
    await page.getByTestId('unreadable-banner').waitFor();
    assert.equal(
      await page.evaluate((key) => localStorage.getItem(`beatbook/unreadable/${key}`), badKey),
      '{"v":1,"record":{"id":',
    );
    assert.equal(await page.evaluate((key) => localStorage.getItem(key), badKey), null);
    assert.deepEqual(await listedNotes(page), ['A good note'], 'the readable note is untouched');
    await page.getByTestId('nav-settings').click();
    assert.match(await page.getByTestId('unreadable-list').textContent(), new RegExp(badKey));
    await context.close();
  });

  test('notes can be found, edited and deleted until they are sent', async () => {
    const context = await browser.newContext();
    const page = await openApp(context, server);
    await noSignalToSend(context);
    // Each typed once the last is saved, as a person would.
    for (const [text, category] of [
      ['Dealing near the skate park', 'drugs'],
      ['Broken lamp on the footbridge', 'poor_lighting'],
      ['PCSOs on foot, good to see', 'police_visibility'],
    ]) {
      await saveNote(page, text, { category });
      await waitForSaved(page);
    }
    await page.getByTestId('save-status').getByText('3 waiting').waitFor();

    assert.deepEqual(await listedNotes(page), [
      'PCSOs on foot, good to see', 'Broken lamp on the footbridge', 'Dealing near the skate park',
    ]);
    await page.getByTestId('notes-tools').click();
    await page.getByTestId('filter-category').selectOption('poor_lighting');
    assert.deepEqual(await page.getByTestId('note-item-text').allTextContents(), ['Broken lamp on the footbridge']);
    await page.getByTestId('filter-category').selectOption('');
    await page.getByTestId('filter-search').fill('SKATE dealing');
    await page.getByTestId('match-count').getByText('1 note').waitFor();
    assert.deepEqual(await page.getByTestId('note-item-text').allTextContents(), ['Dealing near the skate park']);

    await page.getByTestId('note-item-text').click();
    await page.getByTestId('edit-note').click();
    await page.getByTestId('note-text').fill('Dealing near the skate park, two people');
    await page.getByTestId('save-note').click();
    assert.equal(await page.getByTestId('note-detail-text').textContent(), 'Dealing near the skate park, two people');
    await page.getByTestId('delete-note').click();
    await page.getByTestId('confirm-delete').click();
    await page.getByTestId('filter-search').fill('');
    await page.reload();
    await page.getByTestId('match-count').waitFor();
    assert.deepEqual(await listedNotes(page), ['PCSOs on foot, good to see', 'Broken lamp on the footbridge']);
    await context.close();
  });

  test('notes export as CSV and GeoJSON', async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await openApp(context, server);
    await saveNote(page, 'Graffiti, "fresh" tags', { category: 'vandalism_or_graffiti', place: 'Bus shelter' });
    await waitForSaved(page);
    await page.getByTestId('nav-notes').click();

    await page.getByTestId('notes-tools').click();
    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    assert.match(csvDownload.suggestedFilename(), /^beatbook-notes-\d{8}-\d{4}\.csv$/);
    const csv = await readFile(await csvDownload.path(), 'utf8');
    assert.match(csv, /^id,created_at_utc,/);
    assert.match(csv, /,vandalism_or_graffiti,"Graffiti, ""fresh"" tags",Bus shelter,/);

    const [geoDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-geojson').click()]);
    const geojson = JSON.parse(await readFile(await geoDownload.path(), 'utf8'));
    assert.equal(geojson.type, 'FeatureCollection');
    assert.equal(geojson.features.length, 1);
    assert.equal(geojson.features[0].properties.text, 'Graffiti, "fresh" tags');
    await context.close();
  });
});

describe('focus after every action, for a screen reader', () => {
  const focused = (page) => page.evaluate(() => document.activeElement?.dataset?.testid ?? document.activeElement?.tagName);

  test('starting and ending a shift, a correction, and going back to the same place in a long list', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await openApp(context, server);
    await startShift(page, 'night_shift', 'Town centre');
    await page.getByTestId('running-shift').waitFor();
    await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'running-shift');

    await page.getByTestId('end-shift').click();
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'end-shift');
    await page.getByTestId('end-shift').click();
    await page.getByTestId('confirm-end-shift').click();
    await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'start-shift');

    for (let i = 1; i <= 14; i += 1) {
      await saveNote(page, `Walkabout note ${i}`);
      // Saved: the form empties itself for the next note.
      await page.waitForFunction(() => document.querySelector('[data-testid=note-text]').value === '');
    }
    await waitForSaved(page);
    // The toast says so, and Escape takes it away.
    await page.keyboard.press('Escape');
    await page.getByTestId('save-status').waitFor({ state: 'detached' });

    await page.getByTestId('nav-notes').click();
    await page.getByTestId('note-item-text').nth(13).waitFor();
    const oldest = page.getByTestId('note-item-text').filter({ hasText: /^Walkabout note 1$/ });
    await oldest.scrollIntoViewIfNeeded();
    const before = await page.evaluate(() => window.scrollY);
    assert.ok(before > 300, `scrolled down the list (${before})`);
    await oldest.click();
    await page.getByTestId('edit-note').click();
    await page.getByTestId('note-text').fill('Walkabout note 1, corrected');
    await page.getByTestId('save-note').click();
    await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'note-detail-text');
    assert.equal(await focused(page), 'note-detail-text');

    await page.getByTestId('back').click();
    await page.getByTestId('note-list').waitFor();
    await page.waitForFunction((y) => Math.abs(window.scrollY - y) < 40, before);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'notes-title', 'the heading is announced');
    await context.close();
  });

  test('after each save, the page is back at its top with the note box focused, for the next note', async () => {
    // A small phone, where Save is below the fold once the form is filled.
    const context = await browser.newContext({ viewport: { width: 320, height: 568 } });
    const page = await openApp(context, server);
    const atTopAndFocused = () => page.waitForFunction(
      () => window.scrollY === 0 && document.activeElement?.dataset?.testid === 'note-text',
    );
    const save = async (text, { place, scrollTo } = {}) => {
      await page.getByTestId('note-text').fill(text);
      if (place) await page.getByTestId('note-place').fill(place);
      else await page.getByTestId('note-text').focus();
      if (scrollTo !== undefined) await page.evaluate((y) => window.scrollTo(0, y), scrollTo);
      else await page.getByTestId('save-note').scrollIntoViewIfNeeded();
      assert.ok(await page.evaluate(() => window.scrollY) > 0, `the page is scrolled down before "${text}" is saved`);
      // A thumb taps a frame or more after the scroll, whose event has
      // told the app by then.
      await page.evaluate(() => new Promise((resolve) => { requestAnimationFrame(() => requestAnimationFrame(resolve)); }));
      // A tap, where Save is now: the page does not move first.
      await page.getByTestId('save-note').dispatchEvent('click');
      await waitForSaved(page);
      await atTopAndFocused();
    };
    await save('Typed, then scrolled down to Save');
    await save('The place typed last', { place: 'Bus station' });
    // A save from the top, with the box focused: nothing needs moving.
    await page.getByTestId('note-text').fill('Saved from the top');
    await page.getByTestId('save-note').dispatchEvent('click');
    await waitForSaved(page);
    await atTopAndFocused();
    // Then a scroll by hand, and a save with the box still focused.
    await save('Scrolled by hand', { scrollTo: 200 });
    await context.close();
  });
});

/** Fills the page's localStorage until the browser itself refuses more; how many entries it took. */
function fillStorage(page) {
  return page.evaluate(() => {
    let n = 0;
    for (let size = 1 << 20; size >= 1; size = Math.floor(size / 2)) {
      const chunk = 'x'.repeat(size);
      for (;;) {
        try { localStorage.setItem(`filler/${n}`, chunk); n += 1; } catch (e) {
          if (e.name !== 'QuotaExceededError') throw e;
          break;
        }
      }
    }
    return n;
  });
}

/** Takes `fillStorage`'s entries away again. */
function freeStorage(page, entries) {
  return page.evaluate((n) => { for (let i = 0; i < n; i += 1) localStorage.removeItem(`filler/${i}`); }, entries);
}

describe('when the browser refuses storage', () => {
  test('no IndexedDB: notes still save, and the app says they are not crash-proof', async () => {
    const context = await browser.newContext();
    await context.addInitScript(() => {
      Object.defineProperty(window, 'indexedDB', { get: () => null });
    });
    const page = await openApp(context, server);
    await noSignalToSend(context);
    await page.getByTestId('durability-warning').waitFor();
    assert.match(await page.getByTestId('durability-warning').textContent(), /cannot make its crash-proof copy/);
    await saveNote(page, 'Kept without a journal');
    await page.getByTestId('save-status').getByText('not crash-proof').waitFor();
    await page.reload();
    await page.getByTestId('note-text').waitFor();
    assert.deepEqual(await listedNotes(page), ['Kept without a journal']);
    await context.close();
  });

  test("storage full to the browser's real quota: the note and the report stay on screen with a plain message, saved once there is room; nothing saved before is harmed", async () => {
    const context = await browser.newContext();
    const page = await openApp(context, server);
    await noSignalToSend(context);
    await saveNote(page, 'Saved before the storage filled');
    await waitForSaved(page);
    // Fill this site's localStorage until the browser itself refuses more.
    const filler = await fillStorage(page);
    assert.ok(filler > 0);

    await saveNote(page, 'Typed with the storage full');
    await page.getByTestId('form-error').getByText("The phone's storage for Beatbook is full").waitFor();
    assert.equal(await page.getByTestId('note-text').inputValue(), 'Typed with the storage full');
    // What was saved before is still there, and can be exported.
    await page.getByTestId('nav-notes').click();
    await page.getByTestId('notes-tools').click();
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    assert.match(await readFile(await csv.path(), 'utf8'), /Saved before the storage filled/);
    await page.getByTestId('nav-capture').click();
    assert.equal(await page.getByTestId('note-text').inputValue(), 'Typed with the storage full', 'still on screen');

    // Room again: the same tap saves it.
    await freeStorage(page, filler);
    await page.getByTestId('save-note').click();
    await waitForSaved(page);
    await page.reload();
    await page.getByTestId('note-text').waitFor();
    assert.deepEqual((await listedNotes(page)).sort(), ['Saved before the storage filled', 'Typed with the storage full']);
    await context.close();

    // A resident's report, the same.
    const resident = await (await browser.newContext()).newPage();
    await resident.goto(server.url);
    await resident.getByTestId('home-report').waitFor();
    const room = await fillStorage(resident);
    await resident.getByTestId('home-report').click();
    await resident.getByTestId('kind-poor_lighting').check();
    await resident.getByTestId('report-place').fill('Canal towpath');
    await resident.getByTestId('when-afterdark').check();
    await resident.getByTestId('report-description').fill('Sent once there was room');
    await resident.getByTestId('send-report').click();
    await resident.getByTestId('report-error').getByText("storage for Beatbook is full").waitFor();
    assert.equal(await resident.getByTestId('report-description').inputValue(), 'Sent once there was room');
    await freeStorage(resident, room);
    await resident.getByTestId('send-report').click();
    await resident.getByTestId('my-report').getByText('Canal towpath').waitFor();
    await resident.getByTestId('report-code').waitFor({ timeout: 15_000 });
  });

  test('no localStorage: a clear message, and what was typed stays on screen', async () => {
    const context = await browser.newContext();
    await context.addInitScript(() => {
      Object.defineProperty(window, 'localStorage', {
        get: () => { throw new DOMException('The operation is insecure.', 'SecurityError'); },
      });
    });
    // With no storage the phone cannot be paired either: this is a resident's phone.
    const page = await openApp(context, server.url);
    await page.getByTestId('storage-problem').waitFor();
    await page.getByTestId('home-report').click();
    await page.getByTestId('kind-poor_lighting').check();
    await page.getByTestId('report-place').fill('Mill Lane');
    await page.getByTestId('when-afterdark').check();
    await page.getByTestId('report-description').fill('Nowhere to keep this');
    await page.getByTestId('send-report').click();
    await page.getByTestId('report-error').getByText('does not let Beatbook keep anything').waitFor();
    assert.equal(await page.getByTestId('report-description').inputValue(), 'Nowhere to keep this');
    await context.close();
  });
});
