// A province brings its indicator sheet (bảng chấm điểm): the provincial administrator downloads
// the template, uploads a sheet with mistakes and sees every problem at its sheet, row and
// column, uploads the fixed sheet, previews it as it will be scored, publishes it and opens this
// year's round on that revision; a station person keeps the sheet on the phone, goes offline,
// starts the app again offline and scores indicator by indicator; the verdict applies the
// knockout rule (điểm liệt), then passes once the knockout indicator is met; back online, the
// scores reach the server (which the test checks). Then a second revision changes one
// indicator's bands; the round moves to it, the page lists that indicator to score again for
// each dossier, and the station's phone shows it unscored and scores it again.
import { readFileSync } from 'node:fs';
import { launch, check, main, openItem, signIn, synced, waitForTest } from './browser.mjs';

const PASSWORD = process.env.TRAMYTE_TEST_PASSWORD;
const GOOD = process.env.TRAMYTE_GOOD_SHEET;
const BAD = process.env.TRAMYTE_BAD_SHEET;
const SECOND = process.env.TRAMYTE_SECOND_SHEET;
const BAD_CELLS = (process.env.TRAMYTE_BAD_CELLS || '').split('|').filter((c) => c);
const ROUND = process.env.TRAMYTE_ROUND;
const CODE = 'MINHHOA-2026';
const TIMEOUT = 30000;

function item(page, id) {
  return page.locator(`[data-item="${id}"]`);
}

async function fill(page, id, value) {
  await openItem(page, id);
  const input = page.getByLabel(`Điểm tự chấm ${id}`, { exact: true });
  await input.fill(String(value));
  await input.press('Enter');
  await input.blur();
  await item(page, id).getByTestId('outcome').filter({ hasText: '=' }).waitFor({ timeout: TIMEOUT });
}

async function choose(page, id, answer) {
  await openItem(page, id);
  const button = item(page, id).getByRole('button', { name: answer, exact: true });
  await button.click();
  await page.waitForFunction(
    ([id, answer]) => [...document.querySelectorAll(`[data-item="${id}"] button.choice`)]
      .some((b) => b.textContent.trim() === answer && b.getAttribute('aria-pressed') === 'true'),
    [id, answer], { timeout: TIMEOUT });
}

await main(async (baseUrl) => {
  check(PASSWORD && GOOD && BAD && ROUND, 'the test gives the password, the sheets and the round');
  check(BAD_CELLS.length >= 3, 'the broken sheet has several problems');
  const browser = await launch();
  const options = { viewport: { width: 390, height: 800 }, locale: 'vi-VN', acceptDownloads: true };
  const errors = [];

  // The provincial administrator.
  const office = await browser.newContext({ ...options, viewport: { width: 1200, height: 900 } });
  const admin = await signIn(office, baseUrl, 'syt1', PASSWORD, errors);
  await admin.getByRole('link', { name: 'Bộ tiêu chí và bảng chấm điểm' }).click();
  await admin.locator('[data-testid=catalogs] tr[data-catalog="QD1300-2023"]').waitFor({ timeout: TIMEOUT });

  // The template downloads as a workbook.
  const [download] = await Promise.all([
    admin.waitForEvent('download', { timeout: TIMEOUT }),
    admin.getByTestId('template-link').click(),
  ]);
  check(download.suggestedFilename() === 'bang-cham-diem-mau.xlsx', `template name ${download.suggestedFilename()}`);
  const template = readFileSync(await download.path());
  check(template.length > 1000 && template[0] === 0x50 && template[1] === 0x4b, 'the template is an XLSX (zip) file');

  // A sheet with mistakes: every problem shown at its place, nothing to publish.
  await admin.getByTestId('sheet-file').setInputFiles(BAD);
  await admin.getByTestId('preview').click();
  const problems = admin.getByTestId('sheet-problems');
  await problems.waitFor({ timeout: TIMEOUT });
  const shown = await problems.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.cell));
  check(shown.length === BAD_CELLS.length, `${shown.length} problems shown, ${BAD_CELLS.length} expected`);
  for (const cell of BAD_CELLS) check(shown.includes(cell), `the problem at ${cell} is shown (${shown})`);
  const first = problems.locator(`tr[data-cell="${BAD_CELLS[0]}"] td`);
  check((await first.nth(0).textContent()) === BAD_CELLS[0].split('!')[0], 'the sheet of a problem is shown');
  check(await admin.getByTestId('publish').count() === 0, 'a sheet with problems cannot be published');
  check((await admin.getByTestId('problem-count').textContent()).includes(`${BAD_CELLS.length} lỗi`), 'the count of problems');

  // The fixed sheet: the preview as it will be scored, then published.
  await admin.getByTestId('sheet-file').setInputFiles(GOOD);
  await admin.getByTestId('preview').click();
  const preview = admin.getByTestId('sheet-preview');
  await preview.waitFor({ timeout: TIMEOUT });
  check((await preview.textContent()).includes('MINH HỌA'), 'the preview says it is an illustration');
  const items = await preview.locator('tr[data-item]').evaluateAll((rows) => rows.map((r) => r.dataset.item));
  check(JSON.stringify(items) === JSON.stringify(['1.1', '1.2', '2.1', '2.2', '3.1', '3.2']), `indicators ${items}`);
  check(await preview.getByTestId('knockout').count() === 1, 'one knockout indicator');
  check((await preview.locator('tr[data-item="2.1"]').textContent()).includes('≥ 95%: 30'), 'bands with their thresholds');
  check(await admin.getByTestId('sheet-problems').count() === 0, 'the problems are gone');
  await admin.getByTestId('publish').click();
  await admin.getByTestId('published').filter({ hasText: `${CODE} — lần sửa đổi 1` }).waitFor({ timeout: TIMEOUT });
  await admin.locator(`[data-testid=catalogs] tr[data-catalog="${CODE}"][data-revision="1"]`).waitFor({ timeout: TIMEOUT });
  check((await admin.locator(`tr[data-catalog="${CODE}"] td`).nth(3).textContent()) === '38', 'the revision belongs to the province');

  // This year's round on that revision (the newest is chosen by default).
  await admin.getByTestId('round-year').fill(ROUND);
  await admin.getByTestId('round-year').press('Enter');
  await admin.getByTestId('round-year').blur();
  await admin.getByTestId('round-catalog').selectOption(CODE);
  check(await admin.getByTestId('round-revision').inputValue() === '1', 'the newest revision is chosen');
  await admin.getByTestId('open-round').click();
  const opened = admin.getByTestId('round-opened');
  await opened.waitFor({ timeout: TIMEOUT });
  check((await opened.textContent()).includes(`Kỳ ${ROUND} theo ${CODE} lần sửa đổi 1: 2 phiếu đánh giá mới`), await opened.textContent());

  // A phone that cannot fetch the sheet (here: the catalog route is cut) opens the dossier and
  // is told the criteria set is missing, not that the dossier is.
  const cut = await browser.newContext({ ...options, serviceWorkers: 'block' });
  await cut.route('**/api/catalogs/**', (route) => route.abort());
  const cutPage = await signIn(cut, baseUrl, 'nv1', PASSWORD, []);
  await cutPage.getByRole('link', { name: 'Mở phiếu đánh giá' }).click();
  const missing = cutPage.getByRole('status').filter({ hasText: 'Bộ tiêu chí' });
  await missing.waitFor({ timeout: TIMEOUT });
  check((await missing.textContent()).includes(`${CODE} (lần ban hành 1)`) &&
    (await missing.textContent()).includes('chưa có trên máy'),
    `without its sheet the dossier says the criteria set is missing (${await missing.textContent()})`);
  await cut.close();

  // The station: signs in online, the phone keeps the sheet the round uses.
  const phone = await browser.newContext(options);
  const station = await signIn(phone, baseUrl, 'nv1', PASSWORD, errors);
  await station.getByRole('link', { name: 'Mở phiếu đánh giá' }).waitFor({ timeout: TIMEOUT });
  await station.waitForFunction((key) => localStorage.getItem(key) !== null,
    `tramyte.catalog.${CODE}@1`, { timeout: TIMEOUT });
  await station.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: TIMEOUT });
  await station.getByRole('link', { name: 'Mở phiếu đánh giá' }).click();
  await openItem(station, '1.1');
  await synced(station);

  // Offline, and the app started again without the network.
  await phone.setOffline(true);
  await station.reload();
  await openItem(station, '1.1');
  await fill(station, '1.1', 25);
  await choose(station, '1.2', 'Không đạt');
  await fill(station, '2.1', 96);
  await fill(station, '2.2', 12);
  await fill(station, '3.1', 20);
  await choose(station, '3.2', 'Đạt');
  const total = station.getByTestId('total').first();
  await station.waitForFunction(() => document.querySelector('[data-testid=total]')?.textContent === '95', null, { timeout: TIMEOUT });
  check((await station.getByTestId('verdict').first().textContent()) === 'Không đạt', 'a failed knockout fails the dossier');
  const reasons = await station.locator('ul.reasons').first().textContent();
  check(reasons.includes('Chỉ tiêu điểm liệt 1.2 không đạt'), `the reason names the knockout: ${reasons}`);
  check(!reasons.includes('thấp hơn mức đạt'), `95 of 100 passes the total: ${reasons}`);

  // The licence is found: the knockout indicator is met and the dossier passes.
  await choose(station, '1.2', 'Đạt');
  await station.waitForFunction(() => document.querySelector('[data-testid=total]')?.textContent === '100', null, { timeout: TIMEOUT });
  check((await station.getByTestId('verdict').first().textContent()) === 'Đạt', 'the dossier passes');
  check(await total.textContent() === '100', 'total 100');

  // Back online: every edit reaches the server.
  await phone.setOffline(false);
  await synced(station);
  await waitForTest('scored');

  // A second revision: the sessions indicator counts in other bands. Published, then the
  // round's open dossiers move to it.
  await admin.getByTestId('sheet-file').setInputFiles(SECOND);
  await admin.getByTestId('preview').click();
  await admin.getByTestId('sheet-preview').locator('tr[data-item="2.2"]').filter({ hasText: '≥ 10: 10' }).waitFor({ timeout: TIMEOUT });
  await admin.getByTestId('publish').click();
  await admin.getByTestId('published').filter({ hasText: `${CODE} — lần sửa đổi 2` }).waitFor({ timeout: TIMEOUT });
  await admin.locator(`[data-testid=catalogs] tr[data-catalog="${CODE}"][data-revision="2"]`).waitFor({ timeout: TIMEOUT });
  await admin.getByTestId('round-catalog').selectOption(CODE);
  await admin.waitForFunction(() => document.querySelector('[data-testid=round-revision]')?.value === '2', null, { timeout: TIMEOUT });
  await admin.getByTestId('move-round').click();
  const moved = admin.getByTestId('round-moved');
  await moved.waitFor({ timeout: TIMEOUT });
  check((await moved.locator('p').textContent()).includes('Lần sửa đổi 2: đã chuyển 2 phiếu'), await moved.textContent());
  const ours = await moved.locator('li[data-moved="16024"]').textContent();
  check(ours.includes('từ lần 1') && ours.includes('cần chấm lại: 2.2;') && ours.includes('giữ điểm: 5'), ours);

  // The station's phone follows: 2.2 is to be scored again, then the dossier passes again.
  await station.locator('[data-testid=verdict]').filter({ hasText: 'Chưa đủ' }).waitFor({ timeout: TIMEOUT });
  check((await station.locator('ul.reasons').first().textContent()).includes('Chưa chấm: 2.2'), 'the moved indicator is to be scored');
  await fill(station, '2.2', 10);
  await station.waitForFunction(() => document.querySelector('[data-testid=total]')?.textContent === '100', null, { timeout: TIMEOUT });
  check((await station.getByTestId('verdict').first().textContent()) === 'Đạt', 'the dossier passes on revision 2');
  await synced(station);
  await waitForTest('rescored');
  check(errors.length === 0, `page errors: ${errors.join('; ')}`);
  await browser.close();
});
