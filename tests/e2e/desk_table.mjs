// The reviewer's desk on a wide screen: a round of 10,000 generated communes opens as a table
// with only the rows in view in the page; it sorts by name in Vietnamese order and by any
// column (both ways), filters by reviewing unit and by status, moves with the keyboard, and its charts draw the
// overview's own numbers. A phone-sized window keeps the cards. Timings are printed, not checked.
import { launch, check, main, signIn } from './browser.mjs';

const PASSWORD = process.env.TRAMYTE_TEST_PASSWORD;
const COMMUNES = Number(process.env.TRAMYTE_TEST_COMMUNES);
const ROUND = Number(process.env.TRAMYTE_TEST_ROUND);
const TIMEOUT = 60000;
const ROWS = '[data-testid=desk-table] tbody tr[data-commune]';

const shownNames = (page) => page.$$eval(`${ROWS} th`, (cells) => cells.map((c) => c.textContent.trim()));
const count = (page) => page.$$eval(ROWS, (rows) => rows.length);

await main(async (baseUrl) => {
  const browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'vi-VN' });
  const errors = [];
  const page = await signIn(context, baseUrl, 'rvdesk', PASSWORD, errors);
  // The home page shows a few communes and sends to the overview for the rest.
  await page.getByTestId('more-communes').waitFor({ timeout: TIMEOUT });
  const cards = await page.locator('section.commune').count();
  check(cards <= 30, `the home page shows a few of the ${COMMUNES} communes (${cards})`);
  check((await page.getByTestId('more-communes').textContent()).includes(String(COMMUNES - cards)),
    'and says how many more the overview holds');

  let started = Date.now();
  await page.goto(baseUrl + '/overview');
  try {
    await page.getByTestId('desk-count').filter({ hasText: `${COMMUNES} xã` }).waitFor({ timeout: TIMEOUT });
  } catch (error) {
    const shown = await page.locator('main').innerText().catch(() => '(no main)');
    throw new Error(`${error.message}\nthe page shows:\n${shown.slice(0, 2000)}`);
  }
  process.stdout.write(`INFO table of ${COMMUNES} communes shown ${Date.now() - started} ms after navigation\n`);
  const requests = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => e.name.includes('/api/'))
    .map((e) => `${new URL(e.name).pathname}${new URL(e.name).search}: ${Math.round(e.startTime)}–${Math.round(e.responseEnd)} ms, ${e.transferSize} B over the wire, ${e.decodedBodySize} B`));
  process.stdout.write(`INFO requests since the page opened: ${requests.join('; ')}\n`);
  const inPage = await count(page);
  check(inPage > 10 && inPage < 120, `only the rows in view are in the page (${inPage})`);
  const rowCount = await page.locator('[data-testid=desk-table] table').getAttribute('aria-rowcount');
  check(rowCount === String(COMMUNES + 1), `the grid says how many rows it has (${rowCount})`);

  // The server sends the communes in Vietnamese order (ICU4X's collation): the browser's own
  // Intl.Collator("vi") puts every one of the generated names in that same order.
  const order = await page.evaluate(async (round) => {
    const answer = await (await fetch(`/api/overview?round=${round}`)).json();
    const names = answer.documents.map((d) => d.commune_name ?? d.commune);
    const collator = new Intl.Collator('vi');
    const wrong = [];
    for (let i = 1; i < names.length; i += 1) {
      if (collator.compare(names[i - 1], names[i]) >= 0) wrong.push(`${names[i - 1]} ≥ ${names[i]}`);
    }
    return { count: names.length, said: answer.count, wrong };
  }, ROUND);
  check(order.count === COMMUNES && order.said === COMMUNES,
    `the answer lists and counts every commune (${order.count}, count ${order.said})`);
  check(order.wrong.length === 0,
    `the answer's order is Intl.Collator("vi")'s on all ${order.count} names: ${order.wrong.length} out of order ${order.wrong.slice(0, 5).join('; ')}`);

  // Vietnamese order: An before Ân before Dương before Đông …; numbers within a stem.
  let names = await shownNames(page);
  check(names[0] === 'Xã An 00000 (thử)' && names[1] === 'Xã An 00001 (thử)', `first rows: ${names.slice(0, 3)}`);
  // The keyboard: End goes to the last commune, which is then in view and marked.
  await page.locator('[data-testid=desk-table] table').focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('End');
  const last = page.locator(`${ROWS}.active`);
  await last.waitFor({ timeout: TIMEOUT });
  check((await last.locator('th').textContent()).trim() === 'Xã Ưng 00999 (thử)', 'End reaches the last commune');
  check(await last.isVisible(), 'the last commune is scrolled into view');
  const activeId = await page.locator('[data-testid=desk-table] table').getAttribute('aria-activedescendant');
  check(activeId === await last.getAttribute('id'), `aria-activedescendant names the active row (${activeId})`);
  const stem = (name) => name.split(' ')[1];
  // The rows just above it, in order: the last of Uy come before Ưng.
  await page.keyboard.press('PageUp');
  names = await shownNames(page);
  const stems = [...new Set(names.map(stem))];
  check(stems.join() === 'Uy,Ưng' || stems.join() === 'Ưng', `the end of the list is Uy then Ưng: ${stems}`);

  // A click on the commune header turns the order round.
  started = Date.now();
  await page.getByRole('button', { name: /^Xã/ }).click();
  await page.waitForFunction((sel) => document.querySelector(sel + ' th')?.textContent.trim() === 'Xã Ưng 00999 (thử)',
    ROWS, { timeout: TIMEOUT });
  process.stdout.write(`INFO sorted by name (descending) in ${Date.now() - started} ms\n`);
  check(await page.locator('th[aria-sort=descending]').count() === 1, 'the sorted column says so');

  // Sorting by a criterion puts the highest points first, then turns round.
  started = Date.now();
  await page.getByRole('button', { name: 'TC3' }).click();
  await page.waitForSelector('th[aria-sort=descending] >> text=TC3', { timeout: TIMEOUT });
  process.stdout.write(`INFO sorted by TC3 in ${Date.now() - started} ms\n`);
  const tc3 = async () => page.$$eval(ROWS, (rows) => rows.map((r) => Number(r.querySelectorAll('td.heat')[2].textContent.replace(',', '.'))));
  let values = await tc3();
  check(values[0] === 10 && values.every((v, i) => i === 0 || values[i - 1] >= v), `TC3 highest first: ${values.slice(0, 12)}`);
  await page.getByRole('button', { name: 'TC3' }).click();
  await page.waitForSelector('th[aria-sort=ascending] >> text=TC3', { timeout: TIMEOUT });
  values = await tc3();
  check(values[0] === 0 && values.every((v, i) => i === 0 || values[i - 1] <= v), `TC3 lowest first: ${values.slice(0, 12)}`);
  // The heat map: below the minimum (5) is marked so.
  const belowClass = await page.locator(`${ROWS} td.heat`).nth(2).getAttribute('class');
  check(belowClass.includes('below'), `0 of TC3 is coloured below its minimum (${belowClass})`);

  // Scrolling to the end keeps the page small and shows the last rows.
  await page.locator('[data-testid=desk-table]').evaluate((el) => { el.scrollTop = el.scrollHeight; });
  await page.waitForFunction((sel) => {
    const rows = document.querySelectorAll(sel);
    return rows.length > 0 && rows[rows.length - 1].getAttribute('aria-rowindex') === String(document.querySelector('[data-testid=desk-table] table').getAttribute('aria-rowcount'));
  }, ROWS, { timeout: TIMEOUT });
  check(await count(page) < 120, 'after scrolling to the end, still only the rows in view');

  // The filter by reviewing unit: the regional centre covers every fiftieth commune (codes
  // 80000, 80050, …), as the overview lists it.
  const unitSelect = page.locator('label', { hasText: 'Đơn vị thẩm định' }).locator('select');
  const unitOptions = await unitSelect.locator('option').allTextContents();
  check(unitOptions.includes('Trung tâm Y tế khu vực Thử') && unitOptions.includes('Sở Y tế Thử'),
    `the units to filter by: ${unitOptions}`);
  await unitSelect.selectOption({ label: 'Trung tâm Y tế khu vực Thử' });
  await page.getByTestId('desk-count').filter({ hasText: `${COMMUNES / 50} xã` }).waitFor({ timeout: TIMEOUT });
  const unitCodes = await page.$$eval(ROWS, (rows) => rows.map((r) => Number(r.dataset.commune)));
  check(unitCodes.length > 0 && unitCodes.every((c) => (c - 80000) % 50 === 0),
    `only the communes the centre covers: ${unitCodes.slice(0, 8)}`);
  await unitSelect.selectOption({ label: 'Sở Y tế Thử' });
  await page.getByTestId('desk-count').filter({ hasText: `${COMMUNES} xã` }).waitFor({ timeout: TIMEOUT });
  await unitSelect.selectOption('');
  await page.getByTestId('desk-count').filter({ hasText: `${COMMUNES} xã` }).waitFor({ timeout: TIMEOUT });

  // The status filter.
  await page.locator('label', { hasText: 'Trạng thái' }).locator('select').selectOption('approved');
  await page.getByTestId('desk-count').filter({ hasText: `${COMMUNES / 5} xã` }).waitFor({ timeout: TIMEOUT });
  const statuses = await page.$$eval(ROWS, (rows) => [...new Set(rows.map((r) => r.dataset.status))]);
  check(statuses.join() === 'approved', `only approved dossiers: ${statuses}`);

  // The charts draw the overview's own numbers.
  const overview = await page.evaluate(async (round) => (await fetch(`/api/overview?round=${round}`)).json(), ROUND);
  const byStatus = overview.by_status;
  const n = (s) => byStatus[s] || 0;
  const all = Object.values(byStatus).reduce((a, b) => a + b, 0);
  const expected = {
    draft: all,
    submitted: all - n('draft'),
    appraised: n('appraised') + n('approved') + n('recognized') + n('maintained') + n('withdrawn'),
    approved: n('approved') + n('recognized') + n('maintained') + n('withdrawn'),
  };
  for (const [stage, want] of Object.entries(expected)) {
    const got = await page.locator(`[data-testid=chart-funnel] g[data-stage=${stage}]`).getAttribute('data-count');
    check(got === String(want), `funnel ${stage}: ${got}, the overview says ${want}`);
  }
  const total = await page.getByTestId('chart-totals').getAttribute('data-total');
  check(total === String(all), `the distribution counts every scored dossier (${total} of ${all})`);
  check(await page.getByTestId('pass-line').getAttribute('data-percent') === '80', 'the pass line of QĐ 1300 is at 80 %');
  // Each dossier is read on one side: the review's once the reviewer scored anything. A
  // criterion travels as [id, max, required, self, review].
  check(JSON.stringify(overview.documents[0].criteria[0].slice(0, 3)) === '["TC1",10,5]',
    `criteria travel as short arrays: ${JSON.stringify(overview.documents[0].criteria[0])}`);
  const side = (d) => (d.criteria.some((c) => c[4] != null) ? 4 : 3);
  const tc1 = overview.documents.map((d) => d.criteria[0][side(d)]).filter((p) => p != null);
  const average = tc1.reduce((a, b) => a + b, 0) / tc1.length;
  const drawn = Number(await page.locator('[data-testid=chart-criteria] g[data-criterion=TC1]').getAttribute('data-average'));
  check(Math.abs(drawn - average) < 0.01, `TC1's average is drawn as ${drawn}, the rows say ${average}`);
  const label = await page.getByTestId('chart-funnel').getAttribute('aria-label');
  check(label.includes(String(all)), `the funnel has a spoken name with its numbers: ${label}`);

  // Enter opens the active commune's dossier.
  await page.locator('[data-testid=desk-table] table').focus();
  await page.keyboard.press('Home');
  const first = await page.locator(`${ROWS}.active`).getAttribute('id');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/assessment\//, { timeout: TIMEOUT });
  check(page.url().endsWith(first.replace('desk-row-', '')), `Enter opened ${page.url()}`);

  // An answer cut off after its first rows (the network gone mid-answer, a proxy's limit): the
  // page says so and does not show the rows it read as the round.
  await page.route('**/api/overview?*', async (route) => {
    const whole = await (await route.fetch()).body();
    await route.fulfill({ status: 200, contentType: 'application/json', body: whole.subarray(0, Math.floor(whole.length * 0.6)) });
  });
  await page.goto(baseUrl + '/overview');
  const said = page.locator('main p[role=status]');
  await said.filter({ hasText: 'Không đọc được câu trả lời của máy chủ' }).waitFor({ timeout: TIMEOUT });
  const countText = (await page.getByTestId('desk-count').allTextContents()).join();
  check(await page.locator(ROWS).count() === 0 && !countText.startsWith(`${COMMUNES} `),
    `a cut-off answer shows no rows (${await said.textContent()}; ${countText})`);
  await page.unroute('**/api/overview?*');

  // A phone keeps one card per commune.
  const phone = await browser.newContext({ viewport: { width: 390, height: 800 }, locale: 'vi-VN' });
  const small = await signIn(phone, baseUrl, 'rvdesk', PASSWORD, errors);
  await small.goto(baseUrl + '/overview');
  await small.locator('[data-testid=overview-rows] li').first().waitFor({ timeout: TIMEOUT });
  check(await small.getByTestId('desk-table').count() === 0, 'no table on a phone');

  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  await browser.close();
});
