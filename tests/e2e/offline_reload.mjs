// The app loads, its service worker takes control, the server goes away, and a reload still
// renders the app from the service worker's cache, the reviewer's pages (wasm files of their own,
// loaded on demand) included.
import { openApp, waitForTest, check, main } from './browser.mjs';

await main(async (baseUrl) => {
  const { browser, page, errors } = await openApp(baseUrl);
  const manifest = await page.evaluate(() => document.querySelector('link[rel=manifest]')?.href);
  check(manifest && manifest.endsWith('/manifest.webmanifest'), 'the page links its manifest');

  await waitForTest('server-down');
  const health = await page.evaluate(async () => {
    try { return (await fetch('/healthz')).status; } catch { return 'unreachable'; }
  });
  check(health === 'unreachable', `the server is really gone (healthz: ${health})`);

  await page.reload();
  await page.getByRole('heading', { name: 'Trạm Y tế xã' }).waitFor({ timeout: 30000 });
  const controlled = await page.evaluate(() => navigator.serviceWorker.controller !== null);
  check(controlled, 'the reloaded page is controlled by the service worker');
  await page.getByRole('button', { name: 'Chuyển sang tiếng Anh' }).click();
  await page.getByRole('heading', { name: 'Commune health station' }).waitFor({ timeout: 5000 });
  // The reviewer's pages load their own wasm on demand; the service worker precached it.
  for (const [path, heading] of [['/overview', 'Round overview'], ['/reports', 'Reports'], ['/admin', 'Administration']]) {
    await page.goto(baseUrl + path);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: 10000 });
  }
  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  await browser.close();
});
