// A new version is deployed while the app is open: the app says so, keeps running the version
// it has until the person chooses, and "Tải lại" (reload) brings the new version in, its service
// worker in control and the old version's cache gone.
import { openApp, waitForTest, check, main } from './browser.mjs';

const shellCaches = () => caches.keys().then((keys) => keys.filter((k) => k.startsWith('tramyte-shell-')));

await main(async (baseUrl) => {
  const { browser, page, errors } = await openApp(baseUrl);
  const before = await page.evaluate(shellCaches);
  check(before.length === 1 && !before[0].includes('next-'), `one shell cache of this version: ${before}`);
  const banner = page.getByRole('alert').filter({ hasText: 'Có phiên bản mới.' });
  check(await banner.count() === 0, 'no banner while the version is current');

  // The same version asked again: nothing new, no banner.
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
  await page.waitForTimeout(500);
  check(await banner.count() === 0, 'no banner when nothing was deployed');

  await waitForTest('deploy');
  // The app asks for a new version when it becomes visible again and every hour; here the test
  // asks at once.
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
  await banner.waitFor({ timeout: 30000 });
  const waiting = await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    return registration.waiting !== null;
  });
  check(waiting, 'the new version waits for the person instead of taking over');
  check((await page.evaluate(shellCaches)).some((k) => k === before[0]), 'the running version keeps its cache');

  const reloaded = page.waitForEvent('load', { timeout: 30000 });
  await banner.getByRole('button', { name: 'Tải lại' }).click();
  await reloaded;
  await page.getByRole('heading', { name: 'Trạm Y tế xã' }).waitFor({ timeout: 30000 });
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30000 });
  const after = await page.evaluate(shellCaches);
  check(after.length === 1 && after[0] === before[0].replace('tramyte-shell-', 'tramyte-shell-next-'),
    `only the new version's cache is left: ${after}`);
  const registration = await page.evaluate(async () => {
    const r = await navigator.serviceWorker.getRegistration();
    return { waiting: r.waiting !== null, active: r.active !== null };
  });
  check(registration.active && !registration.waiting, 'the new version is active, nothing waits');
  check(await banner.count() === 0, 'no banner after the reload');
  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  await browser.close();
});
