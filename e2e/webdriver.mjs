// A small W3C WebDriver client, for WebKitGTK's MiniBrowser through
// WebKitWebDriver (Playwright cannot drive a system WebKit): a session per
// browser, and the handful of commands the WebKit tests use, each a plain
// HTTP request. Elements are found by CSS selector and waited for, as a
// person would wait for a screen.

import { spawn } from 'node:child_process';
import { once } from 'node:events';

import { freePort } from './helpers.mjs';

export const MINIBROWSER = process.env.MINIBROWSER || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const DRIVER = process.env.WEBKIT_WEBDRIVER || '/usr/bin/WebKitWebDriver';
/** The element reference's key in W3C WebDriver answers. */
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

/** WebKitWebDriver on a display of its own (MiniBrowser cannot run
 * headless here), stopped with `stop()`. */
export async function startDriver() {
  const port = await freePort();
  const proc = spawn('xvfb-run', ['-a', '-s', '-screen 0 1280x1024x24', DRIVER, `--port=${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let said = '';
  proc.stderr.on('data', (chunk) => { said += chunk; });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i += 1) {
    try {
      const status = await (await fetch(`${url}/status`)).json();
      if (status.value?.ready !== undefined) break;
    } catch {
      // Not listening yet.
    }
    if (proc.exitCode !== null || i > 100) throw new Error(`WebKitWebDriver did not start: ${said}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async stop() {
      if (proc.exitCode === null) {
        // The whole group: xvfb-run, Xvfb, the driver and its browsers.
        try { process.kill(-proc.pid, 'SIGTERM'); } catch { /* gone */ }
        await once(proc, 'exit');
      }
    },
  };
}

class WebDriverError extends Error {}

async function command(url, method, path, body) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new WebDriverError(`${method} ${path}: ${answer.value?.error ?? response.status}: ${answer.value?.message ?? ''}`);
  }
  return answer.value;
}

/**
 * A MiniBrowser window in automation mode. `args` are MiniBrowser's own
 * (`--enable-javascript-markup=false` leaves only the page's HTML, while
 * the driver's scripts still run).
 */
export async function openBrowser(driver, { args = [] } = {}) {
  const capabilities = {
    alwaysMatch: {
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation', ...args] },
    },
  };
  const { sessionId } = await command(driver.url, 'POST', '/session', { capabilities });
  const base = `/session/${sessionId}`;
  const run = (method, path, body) => command(driver.url, method, `${base}${path}`, body);
  const browser = {
    async goto(url) {
      await run('POST', '/url', { url });
    },
    async url() {
      return run('GET', '/url');
    },
    async reload() {
      await run('POST', '/refresh', {});
    },
    /** Runs `script` (a function's body) in the page with `args`. */
    async evaluate(script, ...args) {
      return run('POST', '/execute/sync', { script, args });
    },
    /** Runs `script`, which calls `arguments[arguments.length - 1]` with its answer. */
    async evaluateAsync(script, ...args) {
      return run('POST', '/execute/async', { script, args });
    },
    /** The first element matching `selector`, waited for up to `timeout` ms. */
    async find(selector, { timeout = 15_000 } = {}) {
      const until = Date.now() + timeout;
      for (;;) {
        // Asked while a page is being left (after a form is sent), the
        // driver answers with an error: the next page is waited for.
        const found = await run('POST', '/elements', { using: 'css selector', value: selector })
          .catch((e) => { if (e instanceof WebDriverError) return []; throw e; });
        if (found.length > 0) return element(found[0][ELEMENT], selector);
        if (Date.now() > until) throw new Error(`no element matches ${selector} after ${timeout} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async count(selector) {
      return (await run('POST', '/elements', { using: 'css selector', value: selector })).length;
    },
    /** Waits until `script` (a function's body) returns something truthy, and returns it. */
    async waitFor(script, { timeout = 15_000, what = script } = {}, ...args) {
      const until = Date.now() + timeout;
      for (;;) {
        const value = await browser.evaluate(script, ...args).catch(() => undefined);
        if (value) return value;
        if (Date.now() > until) throw new Error(`waited ${timeout} ms for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async screenshot() {
      return Buffer.from(await run('GET', '/screenshot'), 'base64');
    },
    async setWindowRect(rect) {
      await run('POST', '/window/rect', rect);
    },
    async close() {
      await command(driver.url, 'DELETE', base).catch(() => {});
    },
  };
  const element = (id, selector) => ({
    selector,
    async click() {
      await run('POST', `/element/${id}/click`, {});
    },
    async type(text) {
      await run('POST', `/element/${id}/value`, { text });
    },
    async clear() {
      await run('POST', `/element/${id}/clear`, {});
    },
    async text() {
      return run('GET', `/element/${id}/text`);
    },
    async property(name) {
      return run('GET', `/element/${id}/property/${name}`);
    },
    async displayed() {
      return run('GET', `/element/${id}/displayed`);
    },
  });
  return browser;
}
