// Benchmark (not a test): a station phone's first visit and a repeat visit on a slow network
// (see tests/benches/first_visit.rs). Chromium at 360×740 with Lighthouse's "Slow 4G" (1.6 Mbps
// down, 750 kbps up, 150 ms round trip) and a 4× CPU slowdown, a fresh profile each run: time
// from navigation to the sign-in form, and the bytes that crossed the network; then a reload
// (the service worker serves the shell). Prints min / median / max over the runs.
import { launch, main } from './browser.mjs';

const RUNS = Number(process.env.FIRST_VISIT_RUNS || 3);
const stats = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `min ${sorted[0].toFixed(0)} / median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} / max ${sorted[sorted.length - 1].toFixed(0)}`;
};

await main(async (baseUrl) => {
  const first = []; const bytes = []; const repeat = [];
  for (let run = 0; run < RUNS; run += 1) {
    const browser = await launch();
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'vi-VN' });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    let received = 0;
    cdp.on('Network.loadingFinished', (event) => { received += event.encodedDataLength; });
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8,
    });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    let started = Date.now();
    await page.goto(baseUrl + '/');
    await page.getByLabel('Tên đăng nhập').waitFor({ timeout: 120000 });
    first.push(Date.now() - started);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 120000 });
    bytes.push(received / 1024);
    started = Date.now();
    await page.reload();
    await page.getByLabel('Tên đăng nhập').waitFor({ timeout: 120000 });
    repeat.push(Date.now() - started);
    await browser.close();
  }
  process.stdout.write(`RESULT first visit to the sign-in form ${stats(first)} ms; KB over the network until the service worker controls the page ${stats(bytes)}; `
    + `repeat visit ${stats(repeat)} ms (${RUNS} runs, Slow 4G, 4x CPU slowdown, 360x740)\n`);
});
