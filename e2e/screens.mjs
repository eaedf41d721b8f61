// The app's screens at phone size, for the tests and the benchmark that walk
// through all of them: where each lives, the heading it shows, and tours that
// stop at every screen with something on it.

import { expectAppErrors, saveNote, startShift } from './helpers.mjs';

/** A phone the size of most in use: 390 × 844 CSS pixels, touch. */
export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

/** A resident's phone (not paired): each path and the heading it shows. */
export const RESIDENT_SCREENS = [
  { name: 'home', path: '/', heading: 'Feel unsafe somewhere?' },
  { name: 'report', path: '/report', heading: 'Report a place' },
  { name: 'reports', path: '/reports', heading: 'Your reports' },
  { name: 'meetings', path: '/meetings', heading: 'Public meetings: concerns and progress' },
  { name: 'privacy', path: '/privacy', heading: 'Your report and your privacy' },
  { name: 'pair', path: '/pair', heading: 'Pair this phone' },
];

/** A paired phone: the notebook, and the residents' pages it can still open. */
export const NOTEBOOK_SCREENS = [
  { name: 'capture', path: '/', heading: 'New note' },
  { name: 'notes', path: '/notes', heading: 'Notes' },
  { name: 'shifts', path: '/shifts', heading: 'Shifts' },
  { name: 'inbox', path: '/inbox', heading: 'Inbox' },
  { name: 'settings', path: '/settings', heading: 'Settings' },
  { name: 'meetings', path: '/meetings', heading: 'Public meetings: concerns and progress' },
  { name: 'residents', path: '/residents', heading: 'Feel unsafe somewhere?' },
  { name: 'report', path: '/report', heading: 'Report a place' },
  { name: 'reports', path: '/reports', heading: 'Your reports' },
  { name: 'privacy', path: '/privacy', heading: 'Your report and your privacy' },
];

export const CODE = /^[A-HJKMNP-Z2-9]{5}-[A-HJKMNP-Z2-9]{5}$/;

/** Sends a report through the public API, as any phone would; returns its code. */
export async function submitReport(url, {
  kind = 'poor_lighting', place = 'Footpath behind the library', when = 'after_dark',
  description = 'Two lamps out; the path is pitch dark after 5pm',
} = {}) {
  const response = await fetch(`${url}/api/v1/reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      report: {
        id: crypto.randomUUID(),
        created_at: new Date().toISOString(),
        kind,
        location: null,
        location_rounded: false,
        place,
        when,
        when_detail: null,
        description,
        contact: null,
      },
    }),
  });
  if (!response.ok) throw new Error(`the report was answered ${response.status}: ${await response.text()}`);
  return (await response.json()).code;
}

/** Opens `path` in the app and waits for its screen's heading. */
export async function openScreen(page, url, { path, heading }) {
  await page.goto(new URL(path, url).href);
  await page.locator('#main h2', { hasText: heading }).first().waitFor();
}

/** The focused element, described for an assertion: tag and text. */
export async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    return el ? `${el.tagName.toLowerCase()}: ${el.textContent.trim().slice(0, 60)}` : 'nothing';
  });
}

/** Waits until the screen's heading has focus, as the app moves it after a move. */
export async function headingFocused(page, heading) {
  await page.waitForFunction(
    (text) => document.activeElement?.tagName === 'H2' && document.activeElement.textContent.trim() === text,
    heading,
    { timeout: 5_000 },
  ).catch(async () => {
    throw new Error(`expected the heading "${heading}" to have focus, found ${await focused(page)}`);
  });
}

/** Holds back every wasm download of `page` until the returned function is called. */
export async function holdWasm(page) {
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route('**/*.wasm', async (route) => {
    await held;
    // A request the page gave up when it moved on is not continued.
    await route.continue().catch(() => {});
  });
  return release;
}

/** The server's plain pages, which a resident's phone shows while it
 * downloads the app (and all a phone with no script or no WebAssembly
 * gets), then index.html's own lines: the wasm is held back (or refused) so
 * that they stay. */
export async function* firstScreensTour(page, url) {
  const release = await holdWasm(page);
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.locator('#first-page').waitFor();
  yield 'home';
  await page.getByTestId('plain-home-report').tap();
  await page.getByTestId('plain-send-report').waitFor();
  yield 'report-form';
  await page.getByTestId('plain-send-report').tap();
  await page.getByTestId('plain-report-problem-count').waitFor();
  yield 'report-problems';
  for (const [path, name] of [['/reports', 'look-up'], ['/meetings', 'meetings'], ['/privacy', 'privacy']]) {
    await page.goto(`${url}${path}`, { waitUntil: 'domcontentloaded' });
    await page.locator('#first-page').waitFor();
    yield name;
  }
  // A screen the server has no plain page for.
  await page.goto(`${url}/pair`, { waitUntil: 'domcontentloaded' });
  await page.locator('#first-opening').waitFor();
  yield 'opening';
  // Refused from now on (the newest route wins); the held one is let go once
  // its page is gone.
  await page.route('**/*.wasm', (route) => route.abort('internetdisconnected'));
  // The start-up script passes the failure on, after marking the page.
  expectAppErrors(/Failed to fetch/);
  await page.goto(`${url}/pair`);
  release();
  await page.locator('#first-failed').waitFor();
  yield 'could-not-start';
}

/**
 * Every residents' screen, each with something on it. Yields a name at each
 * stop, for an audit or a screenshot. `code` is a report already on the
 * server; the tour makes one more through the form.
 */
export async function* residentTour(page, url, code) {
  for (const screen of RESIDENT_SCREENS) {
    await openScreen(page, url, screen);
    yield screen.name;
  }

  await openScreen(page, url, { path: `/reports/${code}`, heading: `Report ${code}` });
  await page.getByTestId('looked-up').waitFor();
  yield 'report-status';

  await openScreen(page, url, { path: '/report', heading: 'Report a place' });
  // A name with no way to reach its owner is one of the problems.
  await page.locator('details.contact summary').tap();
  await page.getByTestId('report-name').fill('Sam');
  await page.getByTestId('send-report').tap();
  await page.getByTestId('report-problem-count').waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  yield 'report-problems';

  await page.getByTestId('kind-poor_lighting').tap();
  await page.getByTestId('report-place').fill('Car park stairs');
  await page.getByTestId('when-always').tap();
  await page.getByTestId('report-description').fill('The stairwell light flickers and goes out');
  await page.getByTestId('report-reach').fill('sam@example.org');
  await page.getByTestId('send-report').tap();
  await page.getByTestId('my-report').getByTestId('report-status-label').waitFor({ timeout: 15_000 });
  yield 'reports-made-here';

  await page.getByTestId('request-erasure').first().tap();
  await page.getByTestId('confirm-erasure').waitFor();
  yield 'reports-erasure-confirm';

  await page.goto(new URL('/nowhere', url).href);
  await page.getByTestId('not-found-home').waitFor();
  yield 'not-found';
}

/**
 * Every notebook screen of a paired `page`, each with something on it: a
 * running shift, a note, the inbox with `code`'s report and its charts open.
 */
export async function* notebookTour(page, url, code) {
  await startShift(page, 'walkabout', 'High Street');
  await saveNote(page, 'Shop shutters down early; groups gathering by the cashpoint', { place: 'High Street' });
  await page.getByTestId('save-status').waitFor();
  yield 'capture-saved';

  await page.getByTestId('save-note').tap();
  await page.getByTestId('note-text-error').waitFor();
  yield 'capture-problem';

  for (const screen of NOTEBOOK_SCREENS.filter((s) => s.path !== '/')) {
    await openScreen(page, url, screen);
    if (screen.path === '/inbox') {
      await page.getByTestId('inbox-report').first().waitFor();
      const charts = page.getByTestId('charts');
      if (!await charts.evaluate((d) => d.open)) await charts.locator('summary').tap();
      await page.getByTestId('chart').first().waitFor();
      await page.getByTestId('triage-open').first().tap();
      await page.getByTestId('triage-status').waitFor();
    }
    if (screen.path === '/notes') await page.getByTestId('note-item').first().waitFor();
    if (screen.path === '/shifts') await page.getByTestId('shift-item').first().waitFor();
    yield screen.name;
  }

  await openScreen(page, url, { path: `/reports/${code}`, heading: `Report ${code}` });
  await page.getByTestId('looked-up').waitFor();
  yield 'report-status';

  await openScreen(page, url, { path: '/notes', heading: 'Notes' });
  await page.getByTestId('note-item').first().locator('a').first().tap();
  await page.getByTestId('note-detail-text').waitFor();
  yield 'note';
  await page.getByTestId('edit-note').tap();
  await page.getByTestId('note-text').waitFor();
  yield 'note-editing';
}
