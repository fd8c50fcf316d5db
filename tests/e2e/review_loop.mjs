// The review loop in three browser profiles: the station head scores and submits; the district
// reviewer sees it in the overview, comments on one criterion and returns it; station staff see
// the comment and add the missing evidence; the head resubmits and the station's side turns
// read-only; a note typed offline on a phone that had not heard of the resubmission arrives and
// is reported to the reviewer as changed after submission, who acknowledges it; the reviewer
// sets the zone, appraises and approves, and the overview shows it approved and everyone sees it
// read-only; the province recognizes it by decision; the report counts it and its XLSX holds it;
// the province adds a user who signs in, then disables them and their open app asks to sign in.
import { writeFileSync } from 'node:fs';
import { launch, check, main, openItem, signIn, synced, waitForTest } from './browser.mjs';

const PASSWORD = process.env.TRAMYTE_TEST_PASSWORD;
const ROUND = process.env.TRAMYTE_ROUND;
const TIMEOUT = 30000;
const MAXIMA = { TC1: 14, TC2: 10, TC3: 12, TC4: 9, TC5: 19, TC6: 12, TC7: 6, TC8: 11, TC9: 3, TC10: 4 };

function item(page, id) {
  return page.locator(`[data-item="${id}"]`);
}

async function openAssessment(page) {
  await page.getByRole('link', { name: 'Mở phiếu đánh giá' }).click();
  await page.getByTestId('status').waitFor({ timeout: TIMEOUT });
}

async function status(page, expected) {
  await page.waitForFunction((text) => document.querySelector('.summary [data-testid=status]')?.textContent === text,
    expected, { timeout: TIMEOUT });
}

async function overviewRow(page, baseUrl, expectedStatus) {
  await page.goto(baseUrl + '/overview');
  const row = page.locator(`[data-testid=overview-rows] li[data-commune="16024"][data-status="${expectedStatus}"]`);
  await row.waitFor({ timeout: TIMEOUT });
  return row;
}

await main(async (baseUrl) => {
  check(PASSWORD, 'TRAMYTE_TEST_PASSWORD is set');
  check(ROUND, 'TRAMYTE_ROUND is set');
  const browser = await launch();
  const options = { viewport: { width: 360, height: 740 }, locale: 'vi-VN' };
  const errors = [];
  const head = await signIn(await browser.newContext(options), baseUrl, 'tt1', PASSWORD, errors);
  const reviewer = await signIn(await browser.newContext(options), baseUrl, 'rv1', PASSWORD, errors);
  const staff = await signIn(await browser.newContext(options), baseUrl, 'nv1', PASSWORD, errors);

  // The head scores every criterion at its maximum and submits.
  await openAssessment(head);
  for (const [id, max] of Object.entries(MAXIMA)) {
    await openItem(head, id);
    const input = head.getByLabel(`Điểm tự chấm ${id}`, { exact: true });
    await input.fill(String(max));
    await input.press('Enter');
  }
  check(await head.getByTestId('verdict').textContent() === 'Đạt', 'a full score passes');
  await head.getByRole('button', { name: 'Nộp hồ sơ' }).click();
  await status(head, 'Đã nộp');
  await synced(head);

  // The reviewer finds it in the overview, comments on TC3 and returns it.
  await reviewer.getByRole('link', { name: 'Tổng quan kỳ đánh giá' }).click();
  await overviewRow(reviewer, baseUrl, 'submitted');
  // It is this year's target of the reviewer's unit.
  await reviewer.locator('details.targets-editor summary').click();
  await reviewer.getByLabel('Mục tiêu Xã Thiệu Vận (thử)').selectOption('reach');
  // A local minimum that is not in half points is refused (the field's own check), not dropped.
  const minimum = reviewer.getByLabel('Điểm tối thiểu địa phương Xã Thiệu Vận (thử)');
  await minimum.fill('92.3');
  await reviewer.getByRole('button', { name: 'Lưu mục tiêu' }).click();
  check(!(await minimum.evaluate((input) => input.validity.valid)), 'a minimum of 92.3 is not accepted');
  check(await reviewer.locator('.targets-editor [role=status]').count() === 0, 'nothing was saved');
  await minimum.fill('');
  await reviewer.getByRole('button', { name: 'Lưu mục tiêu' }).click();
  await reviewer.getByTestId('targets').filter({ hasText: 'Mục tiêu năm: 0 / 1 xã đã được thông qua' })
    .waitFor({ timeout: TIMEOUT });
  const submitted = await overviewRow(reviewer, baseUrl, 'submitted');
  check((await submitted.textContent()).includes('100'), 'the overview shows the self score');
  await submitted.getByRole('link').click();
  await status(reviewer, 'Đã nộp');
  check((await item(reviewer, 'TC3').getByTestId('station-score').textContent()).includes('12 điểm'),
    'the reviewer sees the station\'s score beside their own');
  await openItem(reviewer, 'TC3');
  await item(reviewer, 'TC3').getByTestId('review-comment').fill('Thiếu biên bản kiểm tra cơ sở hạ tầng.');
  await reviewer.getByLabel('Ý kiến kèm theo').fill('Bổ sung minh chứng cho TC3.');
  await reviewer.getByRole('button', { name: 'Trả lại' }).click();
  await status(reviewer, 'Bị trả lại');
  await synced(reviewer);

  // Station staff see the comments and add the evidence.
  await openAssessment(staff);
  await status(staff, 'Bị trả lại');
  check((await staff.getByTestId('return-comment').textContent()).includes('Bổ sung minh chứng cho TC3.'),
    'staff see why it was returned');
  check(await item(staff, 'TC3').getByTestId('review-comment').inputValue() === 'Thiếu biên bản kiểm tra cơ sở hạ tầng.',
    'staff see the comment on the criterion it concerns');
  await openItem(staff, 'TC3');
  await item(staff, 'TC3').locator('details.evidence summary').click();
  await item(staff, 'TC3').getByLabel('Tên minh chứng').fill('Biên bản kiểm tra cơ sở hạ tầng 2024');
  await item(staff, 'TC3').getByRole('button', { name: 'Thêm minh chứng' }).click();
  await synced(staff);

  // The staff member's phone loses the network and the app is closed.
  const staffContext = staff.context();
  await staff.close();
  await staffContext.setOffline(true);

  // The head sees it returned with the evidence now there, and resubmits: the station's side
  // turns read-only and says who can open it again.
  await head.reload();
  await status(head, 'Bị trả lại');
  await openItem(head, 'TC3');
  await item(head, 'TC3').locator('details.evidence summary').filter({ hasText: '(1)' }).waitFor({ timeout: TIMEOUT });
  await head.getByRole('button', { name: 'Nộp hồ sơ' }).click();
  await status(head, 'Đã nộp');
  await synced(head);
  check((await head.getByTestId('frozen').textContent()).includes('trả lại'),
    'the submitted dossier says it is read-only until the reviewing body returns it');
  check(await head.getByLabel('Điểm tự chấm TC1', { exact: true }).isDisabled(), 'the station\'s scores are read-only');
  check(await item(head, 'TC2').getByTestId('note').isDisabled(), 'the station\'s notes are read-only');

  // Offline, before hearing of the resubmission, the staff member adds to a note; back online,
  // it is kept and reported to the reviewer.
  const offline = await staffContext.newPage();
  offline.on('pageerror', (error) => errors.push(`nv1 offline: ${error}`));
  await offline.goto(baseUrl + '/');
  await openAssessment(offline);
  await status(offline, 'Bị trả lại');
  await openItem(offline, 'TC1');
  await item(offline, 'TC1').getByTestId('note').fill('Bổ sung khi mất mạng.');
  await staffContext.setOffline(false);
  await synced(offline);

  // The reviewer sees the change, acknowledges it, sets the zone, appraises, then approves; the
  // overview shows it approved.
  const again = await overviewRow(reviewer, baseUrl, 'submitted');
  await again.getByTestId('changed-after-submission').waitFor({ timeout: TIMEOUT });
  await again.getByRole('link').click();
  await status(reviewer, 'Đã nộp');
  // What changed after the submission, and who (named by the server: a note is not signed).
  const late = reviewer.getByTestId('changed-after-submission');
  await late.filter({ hasText: 'TC1' }).filter({ hasText: 'nv1' }).waitFor({ timeout: TIMEOUT });
  await late.getByRole('button', { name: 'Đã xem các thay đổi' }).click();
  await late.waitFor({ state: 'detached', timeout: TIMEOUT });
  await reviewer.getByLabel('Vùng').selectOption('2');
  check(await reviewer.getByRole('button', { name: 'Thông qua' }).count() === 0, 'no approval before the appraisal');
  await reviewer.getByRole('button', { name: 'Đã thẩm định' }).click();
  await status(reviewer, 'Đã thẩm định');
  await reviewer.getByRole('button', { name: 'Thông qua' }).click();
  await status(reviewer, 'Đã thông qua');
  await synced(reviewer);
  const approved = await overviewRow(reviewer, baseUrl, 'approved');
  await reviewer.getByTestId('targets').filter({ hasText: 'Mục tiêu năm: 1 / 1 xã đã được thông qua' })
    .waitFor({ timeout: TIMEOUT });
  // The month-by-month chart shows it approved this month (Vietnam time), of one commune.
  const month = Number(new Intl.DateTimeFormat('en', { timeZone: 'Asia/Ho_Chi_Minh', month: 'numeric' }).format(new Date()));
  const bar = reviewer.locator(`[data-testid=chart-months] g[data-month="${month}"]`);
  await bar.waitFor({ timeout: TIMEOUT });
  check(await bar.getAttribute('data-approved') === '1' && await bar.getAttribute('data-communes') === '1',
    `this month's bar: ${await bar.getAttribute('data-approved')} of ${await bar.getAttribute('data-communes')}`);

  // Approved, it is read-only for everyone: the station and the reviewer alike.
  await status(offline, 'Đã thông qua');
  check((await offline.getByTestId('frozen').textContent()).includes('mở lại'),
    'the approved dossier says a reviewer can reopen it');
  check(await item(offline, 'TC1').getByTestId('note').isDisabled(), 'an approved note is read-only');
  await approved.getByRole('link').click();
  await status(reviewer, 'Đã thông qua');
  check(await reviewer.getByLabel('Điểm thẩm định TC1', { exact: true }).isDisabled(), 'approved review scores are read-only');
  check(await reviewer.getByRole('button', { name: 'Mở lại (kèm lý do)' }).count() === 1, 'the reviewer may reopen it');

  // The province recognizes it by decision; the recognition is valid three years.
  const province = await signIn(await browser.newContext(options), baseUrl, 'syt1', PASSWORD, errors);
  const row = await overviewRow(province, baseUrl, 'approved');
  await row.getByRole('link').click();
  await status(province, 'Đã thông qua');
  check(await province.getByLabel('Vùng').inputValue() === '2', 'the reviewer set the zone');
  check(await province.getByLabel('Vùng').isDisabled(), 'the zone of an approved dossier is read-only');
  await province.getByLabel('Số quyết định').fill('1234/QĐ-UBND');
  await province.getByLabel('Ngày quyết định').fill('2024-12-20');
  await province.getByRole('button', { name: 'Công nhận' }).click();
  await status(province, 'Đã công nhận');
  check((await province.getByTestId('recognition').textContent()).includes('2027-12-20'),
    'the recognition shows its expiry');
  await synced(province);
  await overviewRow(province, baseUrl, 'recognized');

  // The report shows it; its XLSX goes to the test, which reads it back.
  await reviewer.goto(baseUrl + '/reports');
  await reviewer.getByLabel('Năm', { exact: true }).fill(ROUND);
  await reviewer.getByLabel('Năm', { exact: true }).press('Enter');
  await reviewer.getByTestId('approved').filter({ hasText: /^1 / }).waitFor({ timeout: TIMEOUT });
  check((await reviewer.getByTestId('communes').textContent()) === '1', 'the report counts the round\'s commune');
  const asOf = await reviewer.getByTestId('as-of').textContent();
  check(asOf.includes('Kỳ báo cáo chưa kết thúc') && asOf.includes('điểm và kết quả theo hồ sơ hiện tại'),
    `this year's report says its statuses are so far and its points current (${asOf})`);
  const xlsx = await reviewer.request.get(baseUrl + `/api/reports.xlsx?year=${ROUND}&period=year`);
  check(xlsx.ok(), `the XLSX downloads (${xlsx.status()})`);
  writeFileSync(process.env.TRAMYTE_XLSX_OUT, await xlsx.body());
  await waitForTest('xlsx-written');

  // The province adds a user, who signs in with the password shown once.
  await province.goto(baseUrl + '/admin');
  await province.getByLabel('Tên đăng nhập mới').fill('nv9');
  await province.getByLabel('Họ và tên').fill('Nhân viên Chín (thử)');
  await province.getByLabel('Vai trò').selectOption('station_staff');
  await province.getByLabel('Mã đơn vị (cách nhau bởi dấu phẩy)').fill('16024');
  await province.getByRole('button', { name: 'Thêm người dùng' }).click();
  const notice = await province.getByTestId('admin-notice').textContent({ timeout: TIMEOUT });
  const password = notice.split(': ').pop().trim();
  check(password.length === 14, `a generated password is shown once: ${notice}`);
  await province.locator('[data-user="nv9"]').waitFor({ timeout: TIMEOUT });
  const newcomer = await signIn(await browser.newContext(options), baseUrl, 'nv9', password, errors);
  await newcomer.getByRole('link', { name: 'Mở phiếu đánh giá' }).waitFor({ timeout: TIMEOUT });
  await synced(newcomer);

  // Disabled by the province, the newcomer's open app asks them to sign in again.
  await province.locator('[data-user="nv9"]').getByRole('button', { name: 'Khoá' }).click();
  await newcomer.getByText('Phiên đăng nhập đã hết hạn', { exact: false }).waitFor({ timeout: TIMEOUT });
  check(await newcomer.getByLabel('Mật khẩu').isVisible(), 'the sign-in form is offered again');

  // The reviewer opens the round for every commune covered; twice creates nothing new.
  await reviewer.goto(baseUrl + '/overview');
  await overviewRow(reviewer, baseUrl, 'recognized');
  const open = reviewer.getByRole('button', { name: `Mở kỳ đánh giá ${ROUND} cho các xã phụ trách` });
  await open.click();
  await reviewer.getByTestId('round-opened').filter({ hasText: `Kỳ ${ROUND}: 1 phiếu đánh giá mới, 1 phiếu đã có; 2 danh sách nhân lực mới, 0 danh sách đã có.` })
    .waitFor({ timeout: TIMEOUT });
  await reviewer.locator('[data-testid=overview-rows] li[data-commune="16025"][data-status="draft"]')
    .waitFor({ timeout: TIMEOUT });
  await open.click();
  await reviewer.getByTestId('round-opened').filter({ hasText: `Kỳ ${ROUND}: 0 phiếu đánh giá mới, 2 phiếu đã có; 0 danh sách nhân lực mới, 2 danh sách đã có.` })
    .waitFor({ timeout: TIMEOUT });

  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  await browser.close();
});
