// The field app, for real, in two browser profiles (two station staff of one commune):
// sign in, keep the roster, open the assessment, see each other present, go offline (the server goes away too), edit different criteria
// and the same one, type in the same note, reload in the middle of typing; reconnect; both
// show the merged result with the conflict; one resolves it and the other sees it resolved.
// Then a cold start with the network off opens the app with the data.
import { launch, waitForTest, check, main, openItem, signIn, synced, watch } from './browser.mjs';

const PASSWORD = process.env.TRAMYTE_TEST_PASSWORD;
const TIMEOUT = 30000;

async function openAssessment(context, baseUrl, user, errors) {
  const page = await signIn(context, baseUrl, user, PASSWORD, errors);
  await page.getByRole('link', { name: 'Mở phiếu đánh giá' }).click();
  await openItem(page, 'TC1');
  await scoreInput(page, 'TC1').waitFor({ timeout: TIMEOUT });
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: TIMEOUT });
  await synced(page);
  return page;
}

async function score(page, item, value) {
  await openItem(page, item);
  const input = scoreInput(page, item);
  await input.fill(String(value));
  await input.press('Enter');
  await input.blur();
}

function scoreInput(page, id) {
  return page.getByLabel(`Điểm tự chấm ${id}`, { exact: true });
}

function item(page, id) {
  return page.locator(`[data-item="${id}"]`);
}

await main(async (baseUrl) => {
  check(PASSWORD, 'TRAMYTE_TEST_PASSWORD is set');
  const browser = await launch();
  const options = { viewport: { width: 360, height: 740 }, locale: 'vi-VN' };
  const profileA = await browser.newContext(options);
  const profileB = await browser.newContext(options);
  const errors = [];
  let a = await openAssessment(profileA, baseUrl, 'nv1', errors);
  const b = await openAssessment(profileB, baseUrl, 'nv2', errors);

  // The roster: a village, its health worker with six months of training, then marked as left.
  await a.goto(baseUrl + '/');
  await a.getByRole('link', { name: 'Nhân lực và y tế thôn bản' }).click();
  await a.getByLabel('Tên thôn, bản').fill('Thôn Một (thử)');
  await a.getByRole('button', { name: 'Thêm thôn' }).click();
  await a.getByLabel('Họ và tên').fill('Nguyễn Văn Thôn (thử)');
  await a.getByLabel('Thuộc').selectOption('village');
  await a.getByLabel('Thôn, bản phụ trách').selectOption({ label: 'Thôn Một (thử)' });
  await a.getByRole('button', { name: 'Thêm', exact: true }).click();
  const worker = a.locator('ul.people li').filter({ hasText: 'Nguyễn Văn Thôn (thử)' });
  await worker.getByLabel('Khoá đào tạo').fill('Y tế thôn bản');
  await worker.getByLabel('Số tháng').fill('6');
  await worker.getByRole('button', { name: 'Thêm đào tạo' }).click();
  const facts = a.getByTestId('staffing-facts');
  await facts.filter({ hasText: 'đào tạo ≥ 6 tháng: 1 / 1' }).waitFor({ timeout: TIMEOUT });
  await worker.getByRole('button', { name: 'Đánh dấu đã nghỉ việc' }).click();
  await facts.filter({ hasText: 'đào tạo ≥ 6 tháng: 0 / 1' }).waitFor({ timeout: TIMEOUT });
  await synced(a);
  await a.goto(baseUrl + '/');
  await a.getByRole('link', { name: 'Mở phiếu đánh giá' }).click();
  await openItem(a, 'TC1');
  await scoreInput(a, 'TC1').waitFor({ timeout: TIMEOUT });
  // The editor shows the staffing facts beside the staffing criterion.
  check((await a.locator('[data-criterion=TC2] [data-testid=staffing-facts]').textContent()).includes('0/1'),
    'the staffing criterion shows the roster\'s facts');

  // Online, each sees who else has the assessment open.
  await a.getByTestId('presence').filter({ hasText: 'nv2 (thử)' }).waitFor({ timeout: TIMEOUT });
  await b.getByTestId('presence').filter({ hasText: 'nv1 (thử)' }).waitFor({ timeout: TIMEOUT });

  // Offline: the browsers lose the network and the server goes away.
  await profileA.setOffline(true);
  await profileB.setOffline(true);
  await waitForTest('server-down');
  for (const page of [a, b]) {
    await page.waitForFunction(() => document.querySelector('[data-testid=sync-status]')?.dataset.link !== 'online',
      null, { timeout: TIMEOUT });
  }

  await score(a, 'TC1', 12);
  await score(b, 'TC2', 8.5);
  await score(a, 'TC3', 10);
  await score(b, 'TC3', 11);
  await openItem(a, 'TC1');
  await item(a, 'TC1').getByTestId('note').fill('Alpha đã họp.');
  await openItem(b, 'TC1');
  await item(b, 'TC1').getByTestId('note').fill('Beta kiểm tra.');
  const pendingA = await a.getByTestId('sync-status').getAttribute('data-pending');
  check(Number(pendingA) >= 3, `A counts its unsynced changes (${pendingA})`);
  check((await a.getByTestId('total').textContent()) === '22', 'A\'s total updates as it types');

  // A reload in the middle of typing, offline: nothing typed is lost.
  await openItem(a, 'TC2');
  await item(a, 'TC2').getByTestId('note').fill('Đang gõ dở');
  await a.reload();
  await openItem(a, 'TC1');
  await scoreInput(a, 'TC1').waitFor({ timeout: TIMEOUT });
  check(await item(a, 'TC2').getByTestId('note').inputValue() === 'Đang gõ dở', 'the note typed before the reload is still there');
  check(await scoreInput(a, 'TC1').inputValue() === '12', 'the score set before the reload is still there');
  // Typed and reloaded while IndexedDB is still busy (another transaction holds the store, as
  // a slow phone's earlier save would): the save cannot happen before the page goes, but the
  // edit was journaled synchronously, so it is still there.
  await a.evaluate(() => new Promise((resolve) => {
    const open = indexedDB.open('tramyte');
    open.onsuccess = () => {
      const store = open.result.transaction('docs', 'readwrite').objectStore('docs');
      const started = Date.now();
      const spin = () => {
        if (Date.now() - started < 3000) store.count().onsuccess = spin;
      };
      spin();
      const note = document.querySelector('[data-item="TC4"] [data-testid=note]');
      note.value = 'Gõ rồi tải lại ngay';
      note.dispatchEvent(new Event('input', { bubbles: true }));
      setTimeout(() => { location.reload(); resolve(); }, 100);
    };
  })).catch(() => {});
  await a.waitForLoadState();
  await openItem(a, 'TC1');
  await scoreInput(a, 'TC1').waitFor({ timeout: TIMEOUT });
  const sameMoment = await item(a, 'TC4').getByTestId('note').inputValue();
  check(sameMoment === 'Gõ rồi tải lại ngay', `a note typed in the same moment as the reload is still there (${JSON.stringify(sameMoment)})`);

  // Back online.
  await waitForTest('server-up');
  await profileA.setOffline(false);
  await profileB.setOffline(false);
  await synced(a);
  await synced(b);
  // Each sees the other's edits once the server has relayed them.
  await a.waitForFunction(() => document.querySelector('[aria-label="Điểm tự chấm TC2"]')?.value === '8.5', null, { timeout: TIMEOUT });
  await b.waitForFunction(() => document.querySelector('[aria-label="Điểm tự chấm TC1"]')?.value === '12', null, { timeout: TIMEOUT });
  for (const [name, page] of [['A', a], ['B', b]]) {
    const note = await item(page, 'TC1').getByTestId('note').inputValue();
    check(note.includes('Alpha đã họp.') && note.includes('Beta kiểm tra.'), `${name} shows both notes merged: ${note}`);
    await openItem(page, 'TC3');
    const conflict = item(page, 'TC3').getByTestId('conflict');
    await conflict.waitFor({ timeout: TIMEOUT });
    const text = await conflict.textContent();
    check(text.includes('10') && text.includes('11') && text.includes('nv1') && text.includes('nv2'),
      `${name} shows both conflicting values with who set them: ${text}`);
    check(await page.getByTestId('conflicts').isVisible(), `${name} lists the open conflicts`);
  }

  // A keeps B's value; B sees the conflict resolved.
  await item(a, 'TC3').getByRole('button', { name: /Giữ 11 điểm/ }).click();
  await synced(a);
  await item(b, 'TC3').getByTestId('conflict').waitFor({ state: 'detached', timeout: TIMEOUT });
  check(await scoreInput(b, 'TC3').inputValue() === '11', 'B shows the kept value');
  check(await b.getByTestId('conflicts').count() === 0, 'B has no open conflicts left');

  // Cold start with the network off: a new tab of A's profile opens the app with the data.
  await a.close();
  await waitForTest('server-down-again');
  await profileA.setOffline(true);
  a = await profileA.newPage();
  watch(a, errors, 'cold');
  const started = Date.now();
  await a.goto(baseUrl + '/');
  await a.getByRole('link', { name: 'Mở phiếu đánh giá' }).waitFor({ timeout: TIMEOUT });
  process.stderr.write(`cold start offline to the commune card: ${Date.now() - started} ms\n`);
  await a.getByRole('link', { name: 'Mở phiếu đánh giá' }).click();
  await openItem(a, 'TC1');
  await scoreInput(a, 'TC1').waitFor({ timeout: TIMEOUT });
  check(await scoreInput(a, 'TC2').inputValue() === '8.5', 'offline cold start shows the merged data');
  check(await scoreInput(a, 'TC3').inputValue() === '11', 'offline cold start shows the resolution');

  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  await browser.close();
});
