// The reports page: opens on the latest year with data (2025 here, not the calendar's year);
// when the answer for an earlier choice (2024) arrives after the answer for a later one (2025),
// the page keeps showing 2025, and the download links are for 2025. The earlier answer is held
// back in the browser (a route handler) until the later one is shown. The report (printed too)
// draws the year's targets month by month with the API's numbers. Answers that arrive after
// their page was left (the reports page, the overview) are dropped without an error.
import { launch, check, hold, main, signIn } from './browser.mjs';

const PASSWORD = process.env.TRAMYTE_TEST_PASSWORD;
const TIMEOUT = 30000;

// Lets the page run what is queued: its promise continuations and a rendering pass.
async function settle(page) {
  for (let i = 0; i < 3; i += 1) {
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))));
  }
}

async function shown(page, year) {
  await page.locator(`[data-testid=report][data-year="${year}"]`).waitFor({ timeout: TIMEOUT });
}

await main(async (baseUrl) => {
  const browser = await launch();
  // No service worker, so that the route handler sees the app's requests.
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 }, locale: 'vi-VN', serviceWorkers: 'block',
  });
  const errors = [];
  const page = await signIn(context, baseUrl, 'rv1', PASSWORD, errors);
  await page.goto(baseUrl + '/reports');
  await shown(page, '2025');
  const year = page.getByLabel('Năm', { exact: true });
  check(await year.inputValue() === '2025', 'the year field opens on the latest year with data');

  // Hold the answer for 2024 until we let it go.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  let heldSeen;
  const seen = new Promise((resolve) => { heldSeen = resolve; });
  await page.route(/\/api\/reports\?year=2024/, async (route) => {
    heldSeen();
    await held;
    await route.continue();
  });
  await year.fill('2024');
  await year.press('Tab');
  await seen;
  await year.fill('2025');
  await year.press('Tab');
  await shown(page, '2025');

  // The earlier answer arrives last.
  const late = page.waitForResponse((response) => response.url().includes('year=2024'));
  release();
  await (await late).finished();
  await settle(page);
  check(await page.locator('[data-testid=report][data-year="2025"]').count() === 1,
    'the later year stays shown after the earlier answer arrived');
  check(await page.locator('[data-testid=report][data-year="2024"]').count() === 0,
    'the earlier answer did not replace it');
  check(await page.getByTestId('communes').textContent() === '1', 'the 2025 figures (one commune)');
  check(await year.inputValue() === '2025', 'the field says 2025');
  // The printed report carries the period's charts: one dossier opened, none submitted.
  const opened = await page.locator('[data-testid=chart-funnel] g[data-stage=draft]').getAttribute('data-count');
  const submitted = await page.locator('[data-testid=chart-funnel] g[data-stage=submitted]').getAttribute('data-count');
  check(opened === '1' && submitted === '0', `the report's funnel: ${opened} opened, ${submitted} submitted`);
  check(await page.getByTestId('chart-totals').count() === 1, 'the distribution of totals is drawn');
  check(await page.getByTestId('chart-criteria').count() === 1, 'the criteria chart is drawn');
  // And the year's targets month by month, with the numbers the API gives (2025 has ended:
  // all twelve months; its one commune has a target and is not approved).
  const months = await page.evaluate(async () => (await fetch('/api/overview/months?round=2025')).json());
  check(months.length === 12, `the API gives twelve months of 2025 (${months.length})`);
  const report = page.getByTestId('report');
  await report.getByTestId('chart-months').waitFor({ timeout: TIMEOUT });
  const drawn = await report.locator('[data-testid=chart-months] g[data-month]').evaluateAll((bars) => bars.map((b) => ({
    month: Number(b.dataset.month), communes: Number(b.dataset.communes), approved: Number(b.dataset.approved),
  })));
  check(JSON.stringify(drawn) === JSON.stringify(months.map(({ month, communes, approved }) => ({ month, communes, approved }))),
    `the report's months chart draws the API's numbers: ${JSON.stringify(drawn)}`);
  check(months.every((m) => m.communes === 1 && m.approved === 0), `one commune with a target, none approved: ${JSON.stringify(months)}`);
  check(await report.getByTestId('chart-months').evaluate((svg) => getComputedStyle(svg).display !== 'none'),
    'the months chart is not hidden');
  await page.emulateMedia({ media: 'print' });
  check(await report.getByTestId('chart-months').isVisible(), 'the months chart is printed');
  await page.emulateMedia({ media: 'screen' });
  // The first half year's report shows January to June.
  await page.getByLabel('Kỳ báo cáo').selectOption('h1');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=report] [data-testid=chart-months] g[data-month]').length === 6,
    null, { timeout: TIMEOUT });
  await page.getByLabel('Kỳ báo cáo').selectOption('year');
  await report.locator('[data-testid=chart-months] g[data-month="12"]').waitFor({ timeout: TIMEOUT });
  const csv = await page.getByRole('link', { name: 'CSV' }).getAttribute('href');
  check(csv.includes('year=2025'), `the CSV link is for 2025: ${csv}`);

  // A page left while its answers are in flight drops them when they arrive (its values are
  // gone; reading them would panic the app): the reports page after a change of year, then the
  // overview as it opens, each left for the home page by its own link.
  const left = async (patterns, leave) => {
    const holds = await Promise.all(patterns.map((pattern) => hold(page, pattern)));
    await leave();
    await Promise.all(holds.map((h) => h.seen()));
    await page.getByRole('link', { name: '← Trang chính' }).click();
    await page.getByTestId('signed-in-as').waitFor({ timeout: TIMEOUT });
    const answered = patterns.map((pattern) => page.waitForResponse((response) => pattern.test(response.url())));
    await Promise.all(holds.map((h) => h.release()));
    await Promise.all((await Promise.all(answered)).map((response) => response.finished()));
    await settle(page);
  };
  await left([/\/api\/reports\?year=2024/, /\/api\/overview\/months\?round=2024/], async () => {
    await year.fill('2024');
    await year.press('Tab');
  });
  await left([/\/api\/overview\?/, /\/api\/overview\/months\?/], async () => {
    await page.getByRole('link', { name: 'Tổng quan kỳ đánh giá' }).click();
  });
  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  await browser.close();
});
