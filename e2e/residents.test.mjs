// The two faces at phone size: a resident's first visit, the screens' paths
// (the back gesture, reloads, old links, starting with no server), Save in
// reach above the keyboard, and the report form's problems beside each field.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  councillorToken, expectAppErrors, makeReport, openApp, pairingCode, saveNote, startServer, useBrowser, waitForWorker,
} from './helpers.mjs';
import {
  CODE, NOTEBOOK_SCREENS, PHONE, RESIDENT_SCREENS, headingFocused, holdWasm, openScreen, submitReport,
} from './screens.mjs';
import { NOTE_PREFIX, POSTED_PREFIX } from './keys.mjs';

const browser = useBrowser();

const HOME_TITLE = 'Beatbook: report a place that feels unsafe';
const PHOTO = new URL('../crates/core/tests/fixtures/photos/street.png', import.meta.url).pathname;

const path = (page) => new URL(page.url()).pathname;

async function shows(page, { heading, title, pathname }) {
  await page.locator('#main h2', { hasText: heading }).first().waitFor();
  if (pathname) assert.equal(path(page), pathname);
  if (title) {
    // The title is set in the frame after the screen is drawn.
    await page.waitForFunction((t) => document.title === t, title, { timeout: 5000 }).catch(() => {});
    assert.equal(await page.title(), title);
  }
}

describe("residents' face at phone size", () => {
  test("a resident's phone downloads only the residents' entry; pairing opens the notebook's, and it stays", async () => {
    const server = await startServer();
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    const wasm = [];
    const watchWasm = (tab) => tab.on('request', (request) => {
      const { pathname } = new URL(request.url());
      if (pathname.endsWith('.wasm')) wasm.push(pathname);
    });
    watchWasm(page);
    await page.goto(server.url);
    await page.getByTestId('home-report').waitFor();
    assert.equal(wasm.length, 1, `one entry started: ${wasm.join(' ')}`);
    assert.match(wasm[0], /^\/entries\/residents-[0-9a-f]{16}_bg\.wasm$/);
    // The notebook's own screens are not in this entry: its path shows the residents' face.
    await page.goto(`${server.url}/notes`);
    await page.getByTestId('nav-home').waitFor();
    assert.equal(await page.getByTestId('nav-notes').count(), 0);

    await page.getByTestId('home-pair').click();
    await page.getByTestId('pair-code').fill(await pairingCode(server.data));
    await page.getByTestId('pair').click();
    await page.getByTestId('note-text').waitFor();
    assert.match(wasm.at(-1), /^\/beatbook-[0-9a-f]{8,16}_bg\.wasm$/, `then the notebook: ${wasm.join(' ')}`);

    // Started again in a new tab, the paired phone goes straight to the notebook.
    wasm.length = 0;
    const again = await context.newPage();
    watchWasm(again);
    await again.goto(server.url);
    await again.getByTestId('note-text').waitFor();
    assert.deepEqual(wasm.map((p) => p.split('-')[0]), ['/beatbook'], `one entry, the notebook's: ${wasm.join(' ')}`);
  });

  test('a first visit lands on the home and reports a place with four answers and Send, and the report gets a code', async () => {
    const server = await startServer();
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    await page.goto(server.url);
    await shows(page, { heading: 'Feel unsafe somewhere?', title: HOME_TITLE, pathname: '/' });
    await page.getByTestId('emergency').waitFor();

    await page.getByTestId('home-report').tap();
    await shows(page, { heading: 'Report a place', title: 'Report a place · Beatbook', pathname: '/report' });
    // What kind, where, when and what: nothing else is asked before Send.
    await page.getByTestId('kind-poor_lighting').tap();
    await page.getByTestId('report-place').fill('Alley behind the post office');
    await page.getByTestId('when-afterdark').tap();
    await page.getByTestId('report-description').fill('The only lamp has been out for a month');
    await page.getByTestId('send-report').tap();

    // The form is done with: the phone shows the report, saved, then its code.
    await shows(page, { heading: 'Your reports', pathname: '/reports' });
    await page.getByTestId('my-report').getByText('Alley behind the post office').waitFor();
    const code = (await page.getByTestId('report-code').textContent({ timeout: 15_000 })).trim();
    assert.match(code, CODE);

    const token = await councillorToken(server.url, server.data);
    const inbox = await (await fetch(`${server.url}/api/v1/inbox`, { headers: { authorization: `Bearer ${token}` } })).json();
    assert.deepEqual(inbox.reports.map((r) => [r.code, r.report.place]), [[code, 'Alley behind the post office']]);
  });

  test("on an iPhone's Safari, not from the home screen, My reports says how to keep the codes; elsewhere it does not", async () => {
    const server = await startServer();
    const iphone = await browser.newContext(PHONE);
    // Safari alone has navigator.standalone: false in a tab.
    await iphone.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'standalone', { get: () => false });
    });
    const page = await iphone.newPage();
    await page.goto(server.url);
    await page.getByTestId('home-report').waitFor();
    await makeReport(page, { place: 'Lane behind the church', description: 'No lights since October' });
    await page.getByTestId('add-to-home-screen').getByText('add Beatbook to your home screen').waitFor();

    const other = await (await browser.newContext(PHONE)).newPage();
    await other.goto(server.url);
    await other.getByTestId('home-report').waitFor();
    await makeReport(other, { place: 'Lane behind the church', description: 'Still no lights' });
    await other.getByTestId('my-report').first().waitFor();
    assert.equal(await other.getByTestId('add-to-home-screen').count(), 0);
  });

  test('an unpaired phone offers no notebook: no notebook tabs, and notebook paths show the home', async () => {
    const server = await startServer();
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    await page.goto(server.url);
    await page.getByTestId('home-report').waitFor();
    for (const tab of ['nav-home', 'nav-report', 'nav-reports', 'nav-meetings']) {
      assert.equal(await page.getByTestId(tab).count(), 1, tab);
    }
    for (const tab of ['nav-capture', 'nav-notes', 'nav-shifts', 'nav-inbox', 'nav-settings']) {
      assert.equal(await page.getByTestId(tab).count(), 0, tab);
    }
    for (const notebookPath of ['/notes', '/settings', '/shifts', '/inbox', `/notes/${crypto.randomUUID()}`]) {
      await page.goto(`${server.url}${notebookPath}`);
      await shows(page, { heading: 'Feel unsafe somewhere?', title: HOME_TITLE });
      assert.equal(await page.getByTestId('home-report').count(), 1, notebookPath);
      assert.equal(await page.getByTestId('note-text').count(), 0, `${notebookPath} shows no note form`);
      assert.equal(await page.getByTestId('nav-notes').count(), 0, `${notebookPath} shows no notebook tabs`);
    }
  });

  test('the back gesture walks back through three screens, each titled and its heading focused', async () => {
    const server = await startServer();
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    await page.goto(server.url);
    await page.getByTestId('home-report').waitFor();

    const home = { heading: 'Feel unsafe somewhere?', title: HOME_TITLE, pathname: '/' };
    const meetings = { heading: 'Public meetings: concerns and progress', title: 'Meetings · Beatbook', pathname: '/meetings' };
    const reports = { heading: 'Your reports', title: 'Your reports · Beatbook', pathname: '/reports' };
    const privacy = { heading: 'Your report and your privacy', title: 'Your privacy · Beatbook', pathname: '/privacy' };

    await page.getByTestId('home-meetings').tap();
    await shows(page, meetings);
    await headingFocused(page, meetings.heading);
    await page.getByTestId('nav-reports').tap();
    await shows(page, reports);
    await headingFocused(page, reports.heading);
    await page.getByTestId('open-privacy').tap();
    await shows(page, privacy);
    await headingFocused(page, privacy.heading);

    for (const screen of [reports, meetings, home]) {
      await page.goBack();
      await shows(page, screen);
      await headingFocused(page, screen.heading);
    }
  });

  test('a reload keeps the screen', async () => {
    const server = await startServer();
    const code = await submitReport(server.url);
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    await page.goto(server.url);
    await page.getByTestId('home-meetings').tap();
    await shows(page, { heading: 'Public meetings', pathname: '/meetings' });
    await page.reload();
    await shows(page, { heading: 'Public meetings', title: 'Meetings · Beatbook', pathname: '/meetings' });

    await page.getByTestId('nav-reports').tap();
    await page.getByTestId('look-up-code').fill(code.toLowerCase());
    await page.getByTestId('look-up').tap();
    await shows(page, { heading: `Report ${code}`, pathname: `/reports/${code}` });
    await page.getByTestId('looked-up').getByText('Footpath behind the library').waitFor();
    await page.reload();
    await shows(page, { heading: `Report ${code}`, title: `Report ${code} · Beatbook`, pathname: `/reports/${code}` });
    await page.getByTestId('looked-up').getByTestId('report-status-label').getByText('New').waitFor();

    // The notebook's screens too.
    const paired = await openApp(await browser.newContext(PHONE), server);
    await paired.getByTestId('nav-shifts').tap();
    await shows(paired, { heading: 'Shifts', pathname: '/shifts' });
    await paired.reload();
    await shows(paired, { heading: 'Shifts', title: 'Shifts · Beatbook', pathname: '/shifts' });
  });

  test('the report form shows each problem beside its field, focuses the first, and clears each when fixed', async () => {
    const server = await startServer();
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    await page.goto(`${server.url}/report`);
    await page.getByTestId('report-description').fill('Someone keeps following people from the bus stop');
    await page.getByTestId('send-report').tap();

    const errors = ['report-kind-error', 'report-place-error', 'report-when-error'];
    for (const id of errors) await page.getByTestId(id).waitFor();
    assert.equal(await page.locator('.field-error').count(), 3);
    assert.equal(await page.getByTestId('report-description-error').count(), 0);
    assert.match(await page.getByTestId('report-problem-count').textContent(), /3 things to fix/);
    await page.waitForFunction(() => document.activeElement?.matches('input[name=kind]'), null, { timeout: 5_000 });
    assert.equal(path(page), '/report', 'nothing was sent');

    // Each message is tied to its field for a screen reader.
    const place = page.getByTestId('report-place');
    assert.equal(await place.getAttribute('aria-invalid'), 'true');
    assert.equal(await place.getAttribute('aria-describedby'), 'report-place-error');
    const kinds = page.locator('fieldset.categories');
    assert.equal(await kinds.getAttribute('aria-invalid'), 'true');
    assert.equal(await kinds.getAttribute('aria-describedby'), 'report-kind-error');

    await page.getByTestId('kind-harassment_or_intimidation').tap();
    await page.getByTestId('report-kind-error').waitFor({ state: 'detached' });
    assert.equal(await kinds.getAttribute('aria-invalid'), null);
    assert.equal(await page.locator('.field-error').count(), 2);

    await place.fill('Bus stop on Mill Road');
    await page.getByTestId('report-place-error').waitFor({ state: 'detached' });
    assert.equal(await place.getAttribute('aria-invalid'), null);
    assert.equal(await place.getAttribute('aria-describedby'), null);
    assert.equal(await page.locator('.field-error').count(), 1);

    await page.getByTestId('when-particulartime').tap();
    await page.getByTestId('report-when-error').waitFor({ state: 'detached' });
    // A particular time needs saying which.
    await page.getByTestId('send-report').tap();
    await page.getByTestId('report-when-detail-error').waitFor();
    await page.waitForFunction(() => document.activeElement?.id === 'report-when-detail', null, { timeout: 5_000 });
    await page.getByTestId('report-when-detail').fill('Weekday evenings after 9');
    await page.getByTestId('report-when-detail-error').waitFor({ state: 'detached' });
    assert.equal(await page.locator('.field-error').count(), 0);

    await page.getByTestId('send-report').tap();
    await shows(page, { heading: 'Your reports', pathname: '/reports' });
    assert.match((await page.getByTestId('report-code').textContent({ timeout: 15_000 })).trim(), CODE);
  });

  test('links from before screens had paths open the right screen at its path', async () => {
    const server = await startServer();
    const code = await submitReport(server.url);
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    const cases = [
      ['/?screen=report', '/report', 'Report a place'],
      ['/?screen=reports', '/reports', 'Your reports'],
      [`/?screen=reports&code=${code.toLowerCase().replace('-', '')}`, `/reports/${code}`, `Report ${code}`],
      ['/?screen=meetings', '/meetings', 'Public meetings'],
      ['/?screen=privacy', '/privacy', 'Your report and your privacy'],
    ];
    for (const [old, pathname, heading] of cases) {
      await page.goto(`${server.url}${old}`);
      await shows(page, { heading, pathname });
      assert.equal(new URL(page.url()).search, '', `${old} leaves no query behind`);
    }

    const paired = await openApp(await browser.newContext(PHONE), server);
    for (const [old, pathname, heading] of [
      ['/?screen=notes', '/notes', 'Notes'],
      ['/?screen=shifts', '/shifts', 'Shifts'],
      ['/?screen=inbox', '/inbox', 'Inbox'],
      ['/?screen=settings', '/settings', 'Settings'],
      ['/index.html?screen=notes', '/notes', 'Notes'],
    ]) {
      await paired.goto(`${server.url}${old}`);
      await shows(paired, { heading, pathname });
    }
  });
});

/** What a screen says, with its white space made plain. */
const words = (locator) => locator.evaluate((el) => el.innerText.replace(/\s+/g, ' ').trim());

/** What the councillor's inbox holds: each report's code and place. */
async function inboxPlaces(server) {
  const token = await councillorToken(server.url, server.data);
  const inbox = await (await fetch(`${server.url}/api/v1/inbox`, { headers: { authorization: `Bearer ${token}` } })).json();
  return inbox.reports.map((r) => [r.code, r.report.place]);
}

describe("the server's plain pages, while a resident's phone downloads the app", () => {
  test("the home is the server's page before the app starts, in the app's words; the app takes it over", async () => {
    const server = await startServer();
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    const release = await holdWasm(page);
    await page.goto(server.url, { waitUntil: 'domcontentloaded' });
    const first = page.locator('#first-page');
    await first.waitFor();
    const before = await words(first);
    assert.equal(await page.locator('#first-page a[href="tel:999"]').isVisible(), true);
    assert.equal(await page.title(), HOME_TITLE);
    // The inlined style sheet applies under the server's CSP (its hash).
    const report = page.getByTestId('plain-home-report');
    assert.equal(await report.evaluate((el) => getComputedStyle(el).minHeight), '64px');
    assert.equal(await page.locator('#main').count(), 0, 'the app has not started');

    release();
    await shows(page, { heading: 'Feel unsafe somewhere?', title: HOME_TITLE, pathname: '/' });
    assert.equal(await page.locator('#first').count(), 0, 'the app took its place');
    assert.equal(await words(page.locator('#main section.home')), before);
  });

  test("the app is fetched once the plain page's paint is timed, and taking it over is no new paint", async () => {
    const server = await startServer();
    for (const path of ['/report', '/']) {
      // A phone's first visit each time (a second visit would be answered
      // by the service worker, which holds no plain page).
      const context = await browser.newContext(PHONE);
      const page = await context.newPage();
      // A cheap phone, where the app's start-up and the browser's timing of
      // the first paint contend for the page's one thread.
      const cdp = await context.newCDPSession(page);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
      await page.addInitScript(() => {
        window.largest = [];
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) {
            const { element } = entry;
            const where = !element ? 'removed' : element.closest('#first-page') ? 'plain' : element.closest('#main') ? 'app' : 'other';
            window.largest.push({ at: entry.startTime, where });
          }
        }).observe({ type: 'largest-contentful-paint', buffered: true });
      });
      await page.goto(`${server.url}${path}`);
      await page.waitForFunction(() => performance.getEntriesByName('beatbook-ready').length > 0);
      const { largest, wasm } = await page.evaluate(() => ({
        largest: window.largest,
        wasm: performance.getEntriesByType('resource').find((r) => r.name.endsWith('.wasm'))?.startTime,
      }));
      assert.ok(largest.length > 0, `${path}: a largest paint is timed`);
      // Each timed while the plain page was there, and none of the app's
      // screen, which says what the page said in the same place.
      assert.deepEqual(largest.map((l) => l.where), largest.map(() => 'plain'), `${path}: every largest paint is the plain page's`);
      assert.ok(wasm >= largest[0].at, `${path}: the wasm was asked for at ${wasm} ms, after the paint at ${largest[0].at} ms`);
      await context.close();
    }
  });

  test('a report half typed into the plain form is taken over by the app with every value, the focus and the caret, and sent once', async () => {
    const server = await startServer();
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    const release = await holdWasm(page);
    await page.goto(`${server.url}/report`, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('plain-kind-poor_lighting').check();
    await page.getByTestId('plain-report-place').fill('Steps down to the canal');
    await page.getByTestId('plain-when-particulartime').check();
    await page.getByTestId('plain-report-when-detail').fill('Weekday evenings');
    const description = page.getByTestId('plain-report-description');
    await description.fill('The handrail lamp is out');
    await page.getByTestId('plain-report-photo').setInputFiles(PHOTO);
    await description.evaluate((el) => { el.focus(); el.setSelectionRange(4, 13); });
    // The app's frame is drawn a task before its screen: once it is on the
    // page, the plain page is still what shows, and what is typed into it
    // then is still taken over.
    await page.evaluate(() => {
      const seen = new MutationObserver(() => {
        const main = document.getElementById('main');
        if (!main) return;
        seen.disconnect();
        const plain = document.querySelector('#first [data-testid=plain-report-place]');
        window.frameDrawn = { plainThere: plain !== null, frameShown: main.getClientRects().length > 0 };
        if (plain) plain.value += ' by the lock';
      });
      seen.observe(document.body, { childList: true });
      // Where a key pressed just after the plain page goes would land: the
      // focus and caret are back before the task that removed it ends (a
      // microtask after this one), not a frame later.
      const gone = new MutationObserver(() => {
        if (document.getElementById('first')) return;
        gone.disconnect();
        queueMicrotask(() => {
          const el = document.activeElement;
          window.whenPlainWent = [el.dataset.testid ?? el.localName, el.selectionStart, el.selectionEnd];
        });
      });
      gone.observe(document.body, { childList: true });
    });

    release();
    const taken = page.getByTestId('report-description');
    await taken.waitFor();
    assert.equal(await page.locator('#first').count(), 0);
    assert.deepEqual(await page.evaluate(() => window.frameDrawn), { plainThere: true, frameShown: false });
    assert.deepEqual(await page.evaluate(() => window.whenPlainWent), ['report-description', 4, 13]);
    assert.equal(await page.getByTestId('kind-poor_lighting').isChecked(), true);
    assert.equal(await page.getByTestId('report-place').inputValue(), 'Steps down to the canal by the lock');
    assert.equal(await page.getByTestId('when-particulartime').isChecked(), true);
    assert.equal(await page.getByTestId('report-when-detail').inputValue(), 'Weekday evenings');
    assert.equal(await taken.inputValue(), 'The handrail lamp is out');
    assert.deepEqual(
      await page.evaluate(() => {
        const el = document.activeElement;
        return [el.dataset.testid, el.selectionStart, el.selectionEnd];
      }),
      ['report-description', 4, 13],
    );
    // The photo chosen there is on the app's form, kept on the phone.
    await page.getByTestId('picked-photo').waitFor();
    // Typing carries on where the caret was.
    await page.keyboard.type('old ');
    assert.equal(await taken.inputValue(), 'The old lamp is out');

    await page.getByTestId('send-report').tap();
    const code = (await page.getByTestId('report-code').textContent({ timeout: 15_000 })).trim();
    assert.match(code, CODE);
    assert.deepEqual(await inboxPlaces(server), [[code, 'Steps down to the canal by the lock']]);
    // The photo follows the words, once.
    const token = await councillorToken(server.url, server.data);
    const listing = `${server.url}/api/v1/reports/${code}/photos`;
    let photos = [];
    for (let i = 0; i < 100 && photos.length === 0; i += 1) {
      await new Promise((r) => setTimeout(r, 100));
      photos = (await (await fetch(listing, { headers: { authorization: `Bearer ${token}` } })).json()).photos;
    }
    assert.equal(photos.length, 1);
  });

  test('a field the app shows only on a choice, or keeps folded, stays in view with its words and the focus when the app takes over', async () => {
    const server = await startServer();
    const cases = [
      {
        // Words about a time typed before any choice is made, then the
        // contact details opened and the name field entered, still empty.
        plain: async (page) => {
          await page.getByTestId('plain-report-when-detail').fill('Weekday evenings');
          await page.locator('#first details.contact summary').click();
          await page.getByTestId('plain-report-name').focus();
        },
        focused: 'report-name',
        typed: 'Sam',
        after: async (page) => {
          assert.equal(await page.locator('#main details.contact').evaluate((d) => d.open), true);
          assert.equal(await page.getByTestId('report-when-detail').inputValue(), 'Weekday evenings');
          // With no choice made, the field says which it goes with.
          assert.equal(await page.locator('#main label[for=report-when-detail]').innerText(), 'Which time? (at a particular time)');
          await page.getByTestId('when-particulartime').check();
          assert.equal(await page.locator('#main label[for=report-when-detail]').innerText(), 'Which time?');
          // Another choice, with words there: they stay in view, and
          // sending asks which, rather than dropping them unsaid.
          await page.getByTestId('when-afterdark').check();
          assert.equal(await page.getByTestId('report-when-detail').inputValue(), 'Weekday evenings');
          await page.getByTestId('send-report').tap();
          assert.equal(
            await page.locator('#main [data-testid=report-when-detail-error]').innerText(),
            'These words go with \u201cAt a particular time\u201d: choose it, or clear them.',
          );
        },
      },
      {
        // Half a report typed, the app takes over, and the page is
        // reloaded before another key: the draft holds what was taken over,
        // shown as it was left.
        plain: async (page) => {
          await page.getByTestId('plain-kind-poor_lighting').check();
          await page.getByTestId('plain-report-place').fill('Steps by the lock');
          await page.getByTestId('plain-report-when-detail').fill('Weekday evenings');
          await page.locator('#first details.contact summary').click();
          await page.getByTestId('plain-report-name').fill('Sam');
        },
        focused: 'report-name',
        after: async (page) => {
          // Journalled a moment after the form changes, as when typing stops.
          await page.waitForTimeout(800);
          await page.reload();
          await page.getByTestId('report-draft-recovered').waitFor();
          assert.equal(await page.getByTestId('report-place').inputValue(), 'Steps by the lock');
          assert.equal(await page.getByTestId('report-when-detail').inputValue(), 'Weekday evenings');
          assert.equal(await page.locator('#main details.contact').evaluate((d) => d.open), true);
          assert.equal(await page.getByTestId('report-name').inputValue(), 'Sam');
        },
      },
      {
        // In the words about a time, nothing typed and no choice made.
        plain: (page) => page.getByTestId('plain-report-when-detail').focus(),
        focused: 'report-when-detail',
        typed: 'Late',
      },
      {
        // On the photo field, nothing chosen.
        plain: (page) => page.getByTestId('plain-report-photo').focus(),
        focused: 'photo-gallery',
      },
    ];
    for (const { plain, focused, typed, after } of cases) {
      const context = await browser.newContext(PHONE);
      const page = await context.newPage();
      const release = await holdWasm(page);
      await page.goto(`${server.url}/report`, { waitUntil: 'domcontentloaded' });
      await plain(page);
      release();
      await page.locator('#first').waitFor({ state: 'detached' });
      assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), focused, focused);
      if (typed) {
        await page.keyboard.type(typed);
        assert.equal(await page.getByTestId(focused).inputValue(), typed);
      }
      await after?.(page);
      await context.close();
    }
  });

  test("a report sent by the plain form before the app arrived: the app's page says so with its code, and offers its maker erasure", async () => {
    const server = await startServer();
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    const release = await holdWasm(page);
    await page.goto(`${server.url}/report`, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('plain-kind-poor_lighting').check();
    await page.getByTestId('plain-report-place').fill('Ramp to the footbridge');
    await page.getByTestId('plain-when-afterdark').check();
    await page.getByTestId('plain-report-description').fill('Both lamps out');
    await page.getByTestId('plain-send-report').tap();
    const code = (await page.getByTestId('plain-report-code').textContent()).trim();
    assert.match(code, CODE);

    const sentToApi = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname.startsWith('/api/')) sentToApi.push(request.url());
    });
    release();
    await page.getByTestId('report-sent').waitFor();
    assert.equal(await page.getByTestId('report-code').textContent(), code);
    await page.getByTestId('request-erasure').waitFor();
    assert.deepEqual(await inboxPlaces(server), [[code, 'Ramp to the footbridge']]);

    // Opened again later: no "sent" any more, still its maker's.
    assert.equal(new URL(page.url()).search, '', 'said once');
    await page.reload();
    await page.getByTestId('looked-up').waitFor();
    assert.equal(await page.getByTestId('report-sent').count(), 0);
    await page.getByTestId('request-erasure').waitFor();
    const stranger = await (await browser.newContext(PHONE)).newPage();
    await stranger.goto(`${server.url}/reports/${code}`);
    await stranger.getByTestId('looked-up').waitFor();
    assert.equal(await stranger.getByTestId('request-erasure').count(), 0);

    // The app keeps it as one of this phone's reports, with its code and
    // words, without sending it again.
    await page.goto(`${server.url}/reports`);
    const mine = page.getByTestId('my-report');
    await mine.waitFor();
    assert.equal(await mine.count(), 1);
    assert.equal(await mine.getByTestId('report-code').textContent(), code);
    await mine.getByText('Ramp to the footbridge').waitFor();
    assert.deepEqual(sentToApi, [], 'nothing sent again');
    assert.deepEqual(await inboxPlaces(server), [[code, 'Ramp to the footbridge']]);
    assert.deepEqual(
      await page.evaluate((prefix) => Object.keys(localStorage).filter((k) => k.startsWith(prefix)), POSTED_PREFIX),
      [],
      'the page kept it only until the app did',
    );
  });

  test("a paired phone never shows it, and a resident's other paths show the server's page until the app opens", async () => {
    const server = await startServer();
    const context = await browser.newContext(PHONE);
    await openApp(context, server, { pairWith: server.data });
    // The service worker answers this page's requests, so its wasm cannot be
    // held back: what the page's first script decided is checked instead.
    const paired = await context.newPage();
    await paired.goto(server.url, { waitUntil: 'domcontentloaded' });
    const decided = await paired.evaluate(() => [
      document.documentElement.getAttribute('data-start'),
      document.documentElement.getAttribute('data-first'),
    ]);
    assert.deepEqual(decided, ['notebook', null]);
    await paired.getByTestId('note-text').waitFor();

    // A resident's phone: the server's own page for the path.
    const resident = await (await browser.newContext(PHONE)).newPage();
    const go = await holdWasm(resident);
    await resident.goto(`${server.url}/meetings`, { waitUntil: 'domcontentloaded' });
    await resident.locator('#first-page').getByText('Public meetings: concerns and progress').waitFor();
    assert.equal(await resident.locator('#first-opening').isVisible(), false);
    go();
    await shows(resident, { heading: 'Public meetings', pathname: '/meetings' });
  });

  test("a page whose first script chose no entry starts none, and says it could not start", async () => {
    const server = await startServer();
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    const wasm = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.endsWith('.wasm')) wasm.push(request.url());
    });
    // index.html as served, less its first script (the one that chooses).
    await page.route(`${server.url}/`, async (route) => {
      const response = await route.fetch();
      const html = (await response.text()).replace(/<script>[\s\S]*?<\/script>/, '');
      await route.fulfill({ response, body: html });
    });
    // The start-up script says why it started nothing.
    expectAppErrors(/did not choose an entry/);
    await page.goto(server.url);
    await page.locator('#first-failed').getByText('Beatbook could not start').waitFor();
    assert.deepEqual(wasm, [], 'no entry was guessed');
  });

  test('an app that cannot be downloaded leaves the plain page to use, or where there is none says so, with a way to try again', async () => {
    const server = await startServer();
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    await page.route('**/*.wasm', (route) => route.abort('internetdisconnected'));
    expectAppErrors(/Failed to fetch/);
    await page.goto(`${server.url}/report`);
    await page.waitForFunction(() => document.documentElement.hasAttribute('data-failed'));
    assert.equal(await page.getByTestId('plain-send-report').isVisible(), true);
    assert.equal(await page.locator('#first-failed').isVisible(), false);

    await page.goto(`${server.url}/pair`);
    await page.locator('#first-failed').getByText('Beatbook could not start').waitFor();
    assert.equal(await page.locator('#first-opening').isVisible(), false);
    await page.unroute('**/*.wasm');
    await page.getByTestId('first-retry').tap();
    await page.getByTestId('pair-code').waitFor();
  });
});

describe('with the server stopped, after one visit', () => {
  test("every residents' path starts from the service worker", async () => {
    const server = await startServer();
    const code = await submitReport(server.url);
    const context = await browser.newContext(PHONE);
    const first = await context.newPage();
    await first.goto(server.url);
    await first.getByTestId('home-report').waitFor();
    await waitForWorker(first);
    // A status page seen once reads again with no server.
    await openScreen(first, server.url, { path: `/reports/${code}`, heading: `Report ${code}` });
    await first.getByTestId('looked-up').waitFor();
    await first.close();
    await server.stop();

    const page = await context.newPage();
    for (const screen of [...RESIDENT_SCREENS, { path: `/reports/${code}`, heading: `Report ${code}` }]) {
      await openScreen(page, server.url, screen);
      assert.equal(path(page), screen.path);
    }
    await page.getByTestId('looked-up').getByText('Footpath behind the library').waitFor();
    await page.getByTestId('look-up-message').getByText('Showing the status last seen').waitFor();
    assert.equal(await page.getByTestId('nav-notes').count(), 0);
  });

  test("every notebook path starts from the service worker", async () => {
    const server = await startServer();
    const context = await browser.newContext(PHONE);
    const first = await openApp(context, server);
    await waitForWorker(first);
    await saveNote(first, 'Graffiti on the footbridge again');
    await first.getByTestId('save-status').waitFor();
    const id = await first.evaluate((prefix) => Object.keys(localStorage).find((k) => k.startsWith(prefix)).slice(prefix.length), NOTE_PREFIX);
    await first.close();
    await server.stop();

    const page = await context.newPage();
    for (const screen of [...NOTEBOOK_SCREENS, { path: `/notes/${id}`, heading: 'Note' }]) {
      await openScreen(page, server.url, screen);
      assert.equal(path(page), screen.path);
    }
    await page.getByTestId('note-detail-text').getByText('Graffiti on the footbridge again').waitFor();
    await page.getByTestId('nav-capture').waitFor();
  });
});

describe('the capture screen at phone size', () => {
  /** Whether the element's box lies inside the visual viewport (what is on screen above the keyboard). */
  const onScreen = (locator) => locator.evaluate((el) => {
    const box = el.getBoundingClientRect();
    const vv = window.visualViewport;
    const inside = box.top >= vv.offsetTop - 0.5 && box.left >= vv.offsetLeft - 0.5
      && box.bottom <= vv.offsetTop + vv.height + 0.5 && box.right <= vv.offsetLeft + vv.width + 0.5;
    return {
      inside,
      box: [box.left, box.top, box.right, box.bottom].map(Math.round),
      viewport: [vv.offsetLeft, vv.offsetTop, vv.offsetLeft + vv.width, vv.offsetTop + vv.height].map(Math.round),
    };
  });

  test('Save is in view, and stays in view above the keyboard; the toast shows in view after saving', async () => {
    const server = await startServer();
    const context = await browser.newContext(PHONE);
    const page = await openApp(context, server);
    const save = page.getByTestId('save-note');
    assert.equal(await save.locator('xpath=..').getAttribute('class'), 'pinned-action');
    const box = await save.boundingBox();
    assert.ok(box.y >= 0 && box.y + box.height <= 844 && box.x >= 0 && box.x + box.width <= 390, `Save at ${JSON.stringify(box)}`);
    let seen = await onScreen(save);
    assert.ok(seen.inside, `Save ${seen.box} outside ${seen.viewport}`);

    // The keyboard opens: the page resizes to what is left above it.
    await page.setViewportSize({ width: 390, height: 500 });
    await page.getByTestId('note-text').tap();
    await page.getByTestId('note-text').fill('Bin store door propped open');
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'note-text');
    seen = await onScreen(save);
    assert.ok(seen.inside, `Save ${seen.box} outside ${seen.viewport} with the keyboard open`);
    // It is Save that a tap there reaches, not something drawn over it.
    assert.ok(await save.evaluate((el) => {
      const box = el.getBoundingClientRect();
      const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
      return el === hit || el.contains(hit);
    }), 'Save is covered');

    await save.tap();
    const toast = page.getByTestId('save-status');
    // "Saved on this phone", which turns into "Sent." once the server has it.
    await toast.waitFor();
    assert.match(await toast.textContent(), /Saved on this phone|Sent\./);
    seen = await onScreen(toast);
    assert.ok(seen.inside, `the toast ${seen.box} outside ${seen.viewport}`);
    seen = await onScreen(page.locator('.toast'));
    assert.ok(seen.inside, `the toast's box ${seen.box} outside ${seen.viewport}`);
  });
});
