// Benchmark (not a test): a station phone attaches camera-sized photos offline, then syncs them
// (see tests/benches/evidence.rs). Photos: 4000×3000 JPEGs of a gradient under noise, 3–4 MB
// each, made on a canvas and written to files, picked through the gallery input all at once.
// Measures the time to downscale and keep each (from the pick to every entry written, divided by
// the count), the bytes kept on the phone, then, online, the time until every file is on the
// server and the bytes uploaded (the phone's own record of what it sent).
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, check, main, openItem, signIn, waitForTest } from './browser.mjs';

const PASSWORD = process.env.TRAMYTE_TEST_PASSWORD;
const COUNT = Number(process.env.EVIDENCE_PHOTOS || 50);
const TIMEOUT = 600000;

await main(async (baseUrl) => {
  const browser = await launch();
  const errors = [];
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'vi-VN' });
  const page = await signIn(context, baseUrl, 'nv1', PASSWORD, errors);
  await page.getByRole('link', { name: 'Mở phiếu đánh giá' }).click();
  await page.getByTestId('status').waitFor({ timeout: 30000 });
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30000 });

  const dir = mkdtempSync(join(tmpdir(), 'tramyte-photos-'));
  const paths = [];
  let originalBytes = 0;
  for (let i = 0; i < COUNT; i += 1) {
    const bytes = Buffer.from(await page.evaluate(async (seed) => {
      const canvas = new OffscreenCanvas(4000, 3000);
      const context = canvas.getContext('2d');
      const gradient = context.createLinearGradient(0, 0, 4000, 3000);
      gradient.addColorStop(0, `hsl(${(seed * 37) % 360} 60% 40%)`);
      gradient.addColorStop(1, `hsl(${(seed * 37 + 120) % 360} 60% 70%)`);
      context.fillStyle = gradient;
      context.fillRect(0, 0, 4000, 3000);
      // Sensor-like noise, drawn at half resolution and scaled up (a camera JPEG's weight).
      const noise = new ImageData(2000, 1500);
      let state = seed * 2654435761 >>> 0;
      for (let p = 0; p < noise.data.length; p += 4) {
        state = (state * 1664525 + 1013904223) >>> 0;
        const v = state >>> 24;
        noise.data[p] = v; noise.data[p + 1] = (v * 7) & 255; noise.data[p + 2] = (v * 13) & 255; noise.data[p + 3] = 72;
      }
      const layer = new OffscreenCanvas(2000, 1500);
      layer.getContext('2d').putImageData(noise, 0, 0);
      context.drawImage(layer, 0, 0, 4000, 3000);
      const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
      const url = await new Promise((resolve) => {
        const reader = new FileReader();
        reader.onload = () => resolve(reader.result);
        reader.readAsDataURL(blob);
      });
      return url.slice(url.indexOf(',') + 1);
    }, i + 1), 'base64');
    originalBytes += bytes.length;
    const path = join(dir, `IMG_${String(i + 1).padStart(4, '0')}.jpg`);
    writeFileSync(path, bytes);
    paths.push(path);
  }

  await waitForTest('photos-made');

  await context.setOffline(true);
  await openItem(page, 'TC1');
  const details = page.locator('[data-item="TC1"] details.evidence');
  if (!(await details.evaluate((d) => d.open))) await details.locator(':scope > summary').click();
  const started = Date.now();
  await page.locator('[data-item="TC1"] [data-testid=evidence-file]').setInputFiles(paths);
  await page.waitForFunction((count) => document.querySelectorAll('[data-item="TC1"] [data-testid=evidence-entry]').length >= count,
    COUNT, { timeout: TIMEOUT, polling: 200 });
  const attachMs = Date.now() - started;
  const kept = await page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open('tramyte');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const list = await new Promise((resolve) => {
      const request = db.transaction('file_meta').objectStore('file_meta').getAll();
      request.onsuccess = () => resolve(request.result);
    });
    db.close();
    return list;
  });
  check(kept.length === 2 * COUNT, `every photo and its thumbnail kept (${kept.length})`);
  check(kept.every((m) => m.state === 'local'), 'all only on the phone while offline');
  const keptBytes = kept.reduce((sum, m) => sum + m.size, 0);
  const largest = Math.max(...kept.map((m) => m.size));
  await waitForTest('attached');

  await context.setOffline(false);
  const online = Date.now();
  await page.waitForFunction((count) => {
    const states = document.querySelectorAll('[data-item="TC1"] [data-testid=evidence-entry] [data-testid=file-state]');
    return states.length >= count && Array.from(states).every((s) => s.dataset.state === 'server');
  }, COUNT, { timeout: TIMEOUT, polling: 200 });
  const uploadMs = Date.now() - online;
  rmSync(dir, { recursive: true, force: true });
  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  const mb = (b) => (b / 1048576).toFixed(1);
  process.stdout.write(`RESULT ${COUNT} photos of 4000x3000 (${mb(originalBytes)} MB, ${mb(originalBytes / COUNT)} MB each) attached offline: `
    + `${attachMs} ms in all, ${(attachMs / COUNT).toFixed(0)} ms each to downscale and keep; kept ${mb(keptBytes)} MB `
    + `(photos and thumbnails, largest file ${(largest / 1024).toFixed(0)} KB); online, all on the server after ${uploadMs} ms, `
    + `${mb(keptBytes)} MB uploaded in ${2 * COUNT} PUTs\n`);
  await browser.close();
});
