// The connection state tells the truth. A station staff member has the assessment open and in
// sync; then the network goes away, either as the browser sees it (TRAMYTE_TEST_MODE=offline:
// `setOffline`) or silently (TRAMYTE_TEST_MODE=silent: the test's front stops forwarding and
// closes nothing). Within 10 s the status line stops saying "connected"; a note typed key by
// key meanwhile counts as one unsynced edit, a score as another; when the network returns the
// edits sync by themselves, and another person sees them.
import { launch, waitForTest, check, main, openItem, signIn, synced } from './browser.mjs';

const PASSWORD = process.env.TRAMYTE_TEST_PASSWORD;
const MODE = process.env.TRAMYTE_TEST_MODE;
const TIMEOUT = 30000;
const NOTE = 'Họp giao ban sáng thứ hai';

const scoreInput = (page, id) => page.getByLabel(`Điểm tự chấm ${id}`, { exact: true });
const item = (page, id) => page.locator(`[data-item="${id}"]`);
const status = (page) => page.getByTestId('sync-status');

async function openAssessment(context, baseUrl, user, errors) {
  const page = await signIn(context, baseUrl, user, PASSWORD, errors);
  await page.getByRole('link', { name: 'Mở phiếu đánh giá' }).click();
  await openItem(page, 'TC1');
  await scoreInput(page, 'TC1').waitFor({ timeout: TIMEOUT });
  await synced(page);
  return page;
}

await main(async (baseUrl) => {
  check(PASSWORD, 'TRAMYTE_TEST_PASSWORD is set');
  check(MODE === 'offline' || MODE === 'silent', `TRAMYTE_TEST_MODE is offline or silent (${MODE})`);
  const browser = await launch();
  const options = { viewport: { width: 360, height: 740 }, locale: 'vi-VN' };
  const context = await browser.newContext(options);
  const errors = [];
  const page = await openAssessment(context, baseUrl, 'nv1', errors);
  check((await status(page).textContent()).includes('Đã kết nối máy chủ'), 'connected at first');

  // The editor fits a phone: criteria collapsed to a summary line, one open at a time, a jump
  // list with the criteria needing attention first, every control at least 44 px tall.
  check(await page.locator('details.criterion[open]').count() === 1, 'one criterion open');
  await openItem(page, 'TC2');
  check(await page.locator('details.criterion[open]').count() === 1, 'opening another closes the first');
  check(await page.locator('details.criterion[data-criterion=TC2]').evaluate((d) => d.open), 'TC2 is the open one');
  const line = await page.locator('[data-criterion=TC1] [data-testid=criterion-line]').textContent();
  check(line.includes('tối thiểu') && line.includes('mục chưa nhập'), `TC1's summary line: ${line}`);
  await page.getByTestId('jump-list').locator('button[data-criterion=TC5]').click();
  check(await page.locator('details.criterion[data-criterion=TC5]').evaluate((d) => d.open), 'the jump list opens TC5');
  const small = await page.evaluate(() => [...document.querySelectorAll('details.criterion > summary, .jump-to, main button, main input:not([type=checkbox]):not([type=radio]), main select, main textarea')]
    .filter((e) => e.getClientRects().length > 0 && e.getBoundingClientRect().height < 44)
    .map((e) => e.outerHTML.slice(0, 80)));
  check(small.length === 0, `touch targets of at least 44 px: ${small.join(' | ')}`);

  // The network goes away.
  if (MODE === 'offline') {
    await context.setOffline(true);
  } else {
    await waitForTest('silence');
  }
  const gone = Date.now();
  await page.waitForFunction(() => document.querySelector('[data-testid=sync-status]')?.dataset.link !== 'online',
    null, { timeout: 10000 });
  const noticed = Date.now() - gone;
  process.stderr.write(`${MODE}: the status line left "connected" after ${noticed} ms\n`);
  check(noticed < 10000, `the status line says offline within 10 s (${noticed} ms)`);
  check(!(await status(page).textContent()).includes('Đã kết nối máy chủ'), 'not "connected" while the network is gone');

  // A note typed key by key is one edit; a score is another.
  await openItem(page, 'TC1');
  const note = item(page, 'TC1').getByTestId('note');
  await note.click();
  await note.pressSequentially(NOTE, { delay: 15 });
  await page.waitForFunction(() => document.querySelector('[data-testid=sync-status]')?.dataset.pending === '1',
    null, { timeout: TIMEOUT });
  check((await page.getByTestId('pending').textContent()).includes('1 thay đổi chưa đồng bộ'),
    `the note typed offline counts as one edit: ${await page.getByTestId('pending').textContent()}`);
  await openItem(page, 'TC2');
  const score = scoreInput(page, 'TC2');
  await score.fill('8.5');
  await score.press('Enter');
  await score.blur();
  await page.waitForFunction(() => document.querySelector('[data-testid=sync-status]')?.dataset.pending === '2',
    null, { timeout: TIMEOUT });
  // Still offline a little later: nothing claims a connection that is not there.
  await page.waitForTimeout(1500);
  check(await status(page).getAttribute('data-link') !== 'online', 'still not connected while the network is gone');
  check(await status(page).getAttribute('data-pending') === '2', 'the edits wait');

  // The network returns: the edits go by themselves.
  if (MODE === 'offline') {
    await context.setOffline(false);
  } else {
    await waitForTest('restore');
  }
  await synced(page);
  check((await page.getByTestId('pending').textContent()).includes('Mọi thay đổi đã lên máy chủ'), 'every edit on the server');

  // Someone else sees them: the server has them.
  const other = await browser.newContext(options);
  const b = await openAssessment(other, baseUrl, 'nv2', errors);
  await b.waitForFunction((text) => document.querySelector('[data-item="TC1"] [data-testid=note]')?.value === text,
    NOTE, { timeout: TIMEOUT });
  await b.waitForFunction(() => document.querySelector('[aria-label="Điểm tự chấm TC2"]')?.value === '8.5',
    null, { timeout: TIMEOUT });

  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  await browser.close();
});
