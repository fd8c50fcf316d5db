// On-site appraisal without network: the station head submits; the district reviewer, at a desk
// before the visit, keeps the commune's dossier on the device from the overview; offline (the
// app reloaded from the service worker, the dossier from the device), they score a criterion
// and comment on it (the desk's table shows both sides and the comment side by side), then
// change the score and add to the comment inside that table, by keyboard; back online it syncs,
// and the station sees the review.
import { launch, check, main, openItem, signIn, synced } from './browser.mjs';

const PASSWORD = process.env.TRAMYTE_TEST_PASSWORD;
const TIMEOUT = 30000;
const MAXIMA = { TC1: 14, TC2: 10, TC3: 12, TC4: 9, TC5: 19, TC6: 12, TC7: 6, TC8: 11, TC9: 3, TC10: 4 };
const COMMENT = 'Đã kiểm tra tại trạm: thiếu sổ giao ban tháng 9.';
const ADDED = ' Đã đối chiếu sổ khám bệnh.';

const item = (page, id) => page.locator(`[data-item="${id}"]`);

await main(async (baseUrl) => {
  const browser = await launch();
  const errors = [];
  const head = await signIn(await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'vi-VN' }),
    baseUrl, 'tt1', PASSWORD, errors);
  await head.getByRole('link', { name: 'Mở phiếu đánh giá' }).click();
  await head.getByTestId('status').waitFor({ timeout: TIMEOUT });
  for (const [id, max] of Object.entries(MAXIMA)) {
    await openItem(head, id);
    const input = head.getByLabel(`Điểm tự chấm ${id}`, { exact: true });
    await input.fill(String(max));
    await input.press('Enter');
  }
  await head.getByRole('button', { name: 'Nộp hồ sơ' }).click();
  await synced(head);

  // At the desk: the reviewer keeps the dossier on the device.
  const deskContext = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
  const desk = await signIn(deskContext, baseUrl, 'rv1', PASSWORD, errors);
  await desk.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: TIMEOUT });
  await desk.goto(baseUrl + '/overview');
  const row = desk.locator('[data-testid=desk-table] tr[data-commune="16024"]');
  await row.waitFor({ timeout: TIMEOUT });
  const href = await row.locator('th a').getAttribute('href');
  const keep = row.getByTestId('keep-offline');
  check(await keep.getAttribute('data-here') === 'false', 'the dossier is not on the device before');
  await keep.click();
  await row.locator('[data-testid=keep-offline][data-here=true]').waitFor({ timeout: TIMEOUT });
  await synced(desk);

  // At the station, without network: the app and the dossier open from the device.
  await deskContext.setOffline(true);
  await desk.goto(baseUrl + href);
  await desk.getByTestId('status').waitFor({ timeout: TIMEOUT });
  check(await desk.getByTestId('status').textContent() === 'Đã nộp', 'the submitted dossier opens offline');
  await openItem(desk, 'TC1');
  const score = desk.getByLabel('Điểm thẩm định TC1', { exact: true });
  await score.fill('12');
  await score.press('Enter');
  await item(desk, 'TC1').getByTestId('review-comment').fill(COMMENT);
  await desk.waitForFunction(() => Number(document.querySelector('[data-testid=sync-status]')?.dataset.pending) > 0,
    null, { timeout: TIMEOUT });
  // On a desk the two sides stand side by side, the comment beside them.
  const side = desk.locator('[data-testid=side-by-side] tr[data-criterion=TC1]');
  await desk.waitForFunction(() => {
    const row = document.querySelector('[data-testid=side-by-side] tr[data-criterion=TC1]');
    return row && row.querySelector('[data-testid=side-review]').textContent === '12';
  }, null, { timeout: TIMEOUT });
  check(await side.getByTestId('side-self').textContent() === '14', 'the station\'s 14 beside the review');
  check((await side.getByTestId('side-comments').textContent()).includes('sổ giao ban'), 'the comment inline');
  // The review is edited in the table itself too, by keyboard: its inputs hold the dossier's
  // review score and comment; a score typed there and Tab go on to the comment, Enter writes
  // it, and the section below shows both.
  const inline = desk.getByLabel('Điểm thẩm định TC1 (bảng)', { exact: true });
  check(await inline.inputValue() === '12', `the table's input holds the review score (${await inline.inputValue()})`);
  await inline.fill('11.5');
  await desk.keyboard.press('Tab');
  const focused = await desk.evaluate(() => document.activeElement?.getAttribute('aria-label'));
  check(focused === 'Nhận xét của đơn vị thẩm định về TC1 (bảng)', `Tab goes from the score to the comment (${focused})`);
  check(await desk.evaluate(() => document.activeElement.value) === COMMENT, 'the comment typed below is in the table');
  await desk.keyboard.press('End');
  await desk.keyboard.type(ADDED);
  await desk.keyboard.press('Enter');
  await desk.waitForFunction(() => document.querySelector('[data-testid=side-by-side] tr[data-criterion=TC1] [data-testid=side-review]')
    ?.textContent === '11,5', null, { timeout: TIMEOUT });
  check(await score.inputValue() === '11.5', `the section below holds the table's score (${await score.inputValue()})`);
  await desk.waitForFunction((text) => document.querySelector('[data-item="TC1"] [data-testid=review-comment]')?.value === text,
    COMMENT + ADDED, { timeout: TIMEOUT });
  check(await desk.evaluate(() => document.activeElement?.getAttribute('aria-label'))
    === 'Nhận xét của đơn vị thẩm định về TC1 (bảng)', 'the comment keeps the focus after it is written');
  check((await side.getByTestId('side-comments').textContent()).includes(ADDED.trim()), 'the table\'s comment line follows');
  const link = await desk.getByTestId('sync-status').getAttribute('data-link');
  check(link !== 'online', `the app knows it is offline while the review waits on the device (${link})`);

  // Back online: the review reaches the server and the station.
  await deskContext.setOffline(false);
  await synced(desk);
  await head.reload();
  await head.getByTestId('status').waitFor({ timeout: TIMEOUT });
  await openItem(head, 'TC1');
  await head.waitForFunction((text) => document.querySelector('[data-item="TC1"] [data-testid=review-comment]')?.value === text,
    COMMENT + ADDED, { timeout: TIMEOUT });
  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  await browser.close();
});
