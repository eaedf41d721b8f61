// Accessibility: axe-core's WCAG 2.2 AA checks on every screen of both faces,
// in the dark and the light theme, at phone size, with each screen showing
// something (a report, a note, a shift, the inbox's charts, the form's errors).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { AxeBuilder } from '@axe-core/playwright';

import { openApp, startServer, useBrowser } from './helpers.mjs';
import {
  PHONE, firstScreensTour, notebookTour, residentTour, submitReport,
} from './screens.mjs';

const browser = useBrowser();

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** Runs axe at each stop of a tour, and `alsoCheck` (problems as words) if
 * given; returns the violations and those problems, each labelled with its
 * screen. */
async function auditTour(page, tour, alsoCheck = async () => []) {
  const found = [];
  const seen = [];
  const problems = [];
  for await (const screen of tour) {
    seen.push(screen);
    const { violations } = await new AxeBuilder({ page }).withTags(TAGS).analyze();
    for (const v of violations) found.push({ screen, ...v });
    for (const p of await alsoCheck(page)) problems.push(`${screen}: ${p}`);
  }
  return { found, seen, problems };
}

/** One entry per rule and screen, and one line per element that fails it. */
function describeViolations(found) {
  return found.map((v) => [
    `${v.screen}: ${v.id} (${v.impact}) ${v.help}`,
    ...v.nodes.map((n) => {
      const related = [...n.any, ...n.all, ...n.none].flatMap((c) => (c.relatedNodes ?? []).map((r) => r.target.join(' > ')));
      return `    at ${n.target.join(' > ')}\n      ${(n.failureSummary ?? '').replaceAll('\n', '\n      ')}`
        + (related.length ? `\n      related: ${[...new Set(related)].join(', ')}` : '');
    }),
    `    ${v.helpUrl}`,
  ].join('\n')).join('\n');
}

function assertNone({ found, seen }) {
  assert.ok(seen.length > 5, `the tour stopped at ${seen.join(', ')}`);
  assert.equal(found.length, 0, `axe found ${found.length} violations:\n${describeViolations(found)}`);
}

for (const colorScheme of ['dark', 'light']) {
  describe(`accessibility, ${colorScheme} theme`, () => {
    test("the server's plain pages and the page's own lines, before the app has started", async () => {
      const server = await startServer();
      const context = await browser.newContext({ ...PHONE, colorScheme });
      const page = await context.newPage();
      const { found, seen } = await auditTour(page, firstScreensTour(page, server.url));
      assert.equal(seen.length, 8);
      assert.equal(found.length, 0, `axe found ${found.length} violations:\n${describeViolations(found)}`);
    });

    test("every residents' screen", async () => {
      const server = await startServer();
      const code = await submitReport(server.url);
      const context = await browser.newContext({ ...PHONE, colorScheme });
      const page = await context.newPage();
      assertNone(await auditTour(page, residentTour(page, server.url, code)));
    });

    test('every notebook screen', async () => {
      const server = await startServer();
      const code = await submitReport(server.url);
      const context = await browser.newContext({ ...PHONE, colorScheme });
      const page = await openApp(context, server);
      assertNone(await auditTour(page, notebookTour(page, server.url, code)));
    });
  });
}

/** The narrowest phone in use: 320 × 640 CSS pixels. */
const NARROW = { viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true };

/** Controls on the screen whose words do not fit them (cut off with "…",
 * or running past their edge). */
function clippedControls(page) {
  return page.evaluate(() => [...document.querySelectorAll('button, a, label.chip, nav.bottom .tab span')]
    .filter((e) => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
    .map((e) => `${e.tagName.toLowerCase()} "${e.textContent.trim()}" (${e.scrollWidth} > ${e.clientWidth})`));
}

describe('accessibility at 320 px', () => {
  for (const face of ['residents', 'notebook']) {
    test(`every ${face} screen: no violation, and every control's words whole`, async () => {
      const server = await startServer();
      const code = await submitReport(server.url);
      const context = await browser.newContext(NARROW);
      const page = face === 'notebook' ? await openApp(context, server) : await context.newPage();
      const tour = face === 'notebook' ? notebookTour(page, server.url, code) : residentTour(page, server.url, code);
      const audit = await auditTour(page, tour, clippedControls);
      assertNone(audit);
      assert.deepEqual(audit.problems, []);
    });
  }
});
