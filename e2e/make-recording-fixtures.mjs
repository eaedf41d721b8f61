// Writes the recording fixtures the tests read
// (crates/core/tests/fixtures/recordings): a second of Chromium's fake
// microphone (its beeping test tone), recorded by Chromium's own
// MediaRecorder as the app records, in each container it offers: WebM with
// Opus, and MP4 with Opus. Run once: node make-recording-fixtures.mjs
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { CHROMIUM_FLAGS } from './helpers.mjs';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'crates', 'core', 'tests', 'fixtures', 'recordings');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [...CHROMIUM_FLAGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
});
const page = await browser.newPage();
// The microphone is offered only to a secure context: localhost is one.
await page.route('http://localhost/**', (route) => route.fulfill({ body: '<title>fixtures</title>', contentType: 'text/html' }));
await page.goto('http://localhost/');
const files = await page.evaluate(async () => {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const record = async (mimeType) => {
    const recorder = new MediaRecorder(stream, { mimeType, audioBitsPerSecond: 32_000 });
    const chunks = [];
    recorder.ondataavailable = (e) => chunks.push(e.data);
    const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
    recorder.start(500);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    recorder.stop();
    await stopped;
    return Array.from(new Uint8Array(await new Blob(chunks).arrayBuffer()));
  };
  return {
    'chromium-opus.webm': await record('audio/webm;codecs=opus'),
    'chromium-opus.mp4': await record('audio/mp4;codecs=opus'),
  };
});
for (const [name, bytes] of Object.entries(files)) await writeFile(join(OUT, name), Buffer.from(bytes));
await browser.close();
