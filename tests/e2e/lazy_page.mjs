// The reviewer's pages are wasm files of their own, loaded on demand. When one cannot be
// fetched (here: blocked, with no service worker to serve it), its route says so and the rest of
// the app keeps working; once the file can be fetched, the page opens.
import { launch, watch, check, main } from './browser.mjs';

await main(async (baseUrl) => {
  const browser = await launch();
  const context = await browser.newContext({ serviceWorkers: 'block', locale: 'vi-VN' });
  const page = await context.newPage();
  const errors = [];
  watch(page, errors);
  let blocked = true;
  await page.route(/\/pkg\/split_.*\.wasm$/, (route) => (blocked ? route.abort() : route.continue()));

  await page.goto(baseUrl + '/reports');
  await page.getByRole('heading', { level: 1, name: 'Chưa tải được trang này' }).waitFor({ timeout: 30000 });
  // The app still runs: the home link navigates and renders.
  await page.getByRole('link', { name: 'Về trang chính' }).click();
  await page.getByRole('heading', { name: 'Trạm Y tế xã' }).waitFor({ timeout: 10000 });

  blocked = false;
  await page.evaluate(() => {
    history.pushState(null, '', '/reports');
    window.dispatchEvent(new PopStateEvent('popstate'));
  });
  await page.getByRole('heading', { level: 1, name: 'Báo cáo' }).waitFor({ timeout: 10000 });
  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  await browser.close();
});
