// Writes the photo fixtures the tests read (crates/core/tests/fixtures/photos):
// a street scene drawn on a canvas and encoded by Chromium's own encoders (the
// ones the app uses), and a copy of the JPEG with an EXIF block holding a GPS
// position, as a phone camera writes it. Run once: node make-photo-fixtures.mjs
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchBrowser } from './helpers.mjs';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'crates', 'core', 'tests', 'fixtures', 'photos');

/** An EXIF APP1 segment (big-endian TIFF) with Make and a GPS IFD:
 * 51°30'N 0°7'W, the kind of position that gives a resident away. */
function exifGps() {
  const entries = (list) => list; // [tag, type, count, valueBytes]
  const ascii = (s) => Buffer.from(`${s}\0`, 'latin1');
  const rational = (pairs) => Buffer.concat(pairs.map(([n, d]) => { const b = Buffer.alloc(8); b.writeUInt32BE(n, 0); b.writeUInt32BE(d, 4); return b; }));
  // Lays out an IFD at `offset` with out-of-line values after it.
  function ifd(offset, list, next = 0) {
    const head = Buffer.alloc(2 + list.length * 12 + 4);
    head.writeUInt16BE(list.length, 0);
    let extra = Buffer.alloc(0);
    let extraAt = offset + head.length;
    list.forEach(([tag, type, count, value], i) => {
      const at = 2 + i * 12;
      head.writeUInt16BE(tag, at); head.writeUInt16BE(type, at + 2); head.writeUInt32BE(count, at + 4);
      if (value.length <= 4) value.copy(head, at + 8);
      else { head.writeUInt32BE(extraAt, at + 8); extra = Buffer.concat([extra, value]); extraAt += value.length; }
    });
    head.writeUInt32BE(next, head.length - 4);
    return Buffer.concat([head, extra]);
  }
  const make = ascii('PhoneMaker');
  // IFD0 at 8: Make, GPSInfo pointer; the GPS IFD follows it.
  const ifd0Size = 2 + 2 * 12 + 4 + make.length;
  const gpsAt = 8 + ifd0Size;
  const pointer = Buffer.alloc(4); pointer.writeUInt32BE(gpsAt);
  const ifd0 = ifd(8, entries([[0x010f, 2, make.length, make], [0x8825, 4, 1, pointer]]));
  const gps = ifd(gpsAt, entries([
    [0x0001, 2, 2, ascii('N')], [0x0002, 5, 3, rational([[51, 1], [30, 1], [0, 1]])],
    [0x0003, 2, 2, ascii('W')], [0x0004, 5, 3, rational([[0, 1], [7, 1], [0, 1]])],
  ]));
  const tiff = Buffer.concat([Buffer.from('MM\0\x2a\0\0\0\x08', 'latin1'), ifd0, gps]);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]); head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}

const browser = await launchBrowser();
const page = await browser.newPage();
const files = await page.evaluate(async () => {
  const canvas = document.createElement('canvas');
  canvas.width = 320; canvas.height = 240;
  const g = canvas.getContext('2d');
  g.fillStyle = '#1b2a3a'; g.fillRect(0, 0, 320, 240);
  g.fillStyle = '#f2c14e'; g.beginPath(); g.arc(250, 50, 22, 0, Math.PI * 2); g.fill();
  g.fillStyle = '#555'; g.fillRect(0, 170, 320, 70);
  g.fillStyle = '#ddd'; for (let x = 10; x < 320; x += 60) g.fillRect(x, 200, 30, 6);
  g.fillStyle = '#fff'; g.font = 'bold 28px sans-serif'; g.fillText('AB12 CDE', 20, 120);
  const out = {};
  for (const [name, type] of [['street.jpg', 'image/jpeg'], ['street.png', 'image/png'], ['street.webp', 'image/webp']]) {
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, type, 0.8));
    out[name] = Array.from(new Uint8Array(await blob.arrayBuffer()));
  }
  return out;
});
await browser.close();
for (const [name, bytes] of Object.entries(files)) await writeFile(join(OUT, name), Buffer.from(bytes));
// The camera's EXIF goes straight after the start-of-image marker.
const jpeg = Buffer.from(files['street.jpg']);
await writeFile(join(OUT, 'street-gps.jpg'), Buffer.concat([jpeg.subarray(0, 2), exifGps(), jpeg.subarray(2)]));
console.log(`wrote ${Object.keys(files).length + 1} fixtures to ${OUT}`);
