// The roster's "add a person" form: after adding a village health worker, the form still says
// "village health worker", and the next person added without touching it is one; switched to
// station staff, the next lands among the staff.
import { launch, check, main, signIn } from './browser.mjs';

const PASSWORD = process.env.TRAMYTE_TEST_PASSWORD;
const TIMEOUT = 30000;

function list(page, heading) {
  return page.locator('section.card').filter({ has: page.getByRole('heading', { name: heading }) });
}

async function add(page, name) {
  await page.getByLabel('Họ và tên').fill(name);
  await page.getByRole('button', { name: 'Thêm', exact: true }).click();
}

await main(async (baseUrl) => {
  const browser = await launch();
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'vi-VN' });
  const errors = [];
  const page = await signIn(context, baseUrl, 'nv1', PASSWORD, errors);
  await page.getByRole('link', { name: 'Nhân lực và y tế thôn bản' }).click();
  const group = page.getByTestId('new-person-group');
  await group.waitFor({ timeout: TIMEOUT });
  check(await group.inputValue() === 'staff', 'the form starts with station staff');

  await group.selectOption('village');
  await add(page, 'Hà Thị Một (thử)');
  const workers = list(page, /^Nhân viên y tế thôn, bản/);
  await workers.getByText('Hà Thị Một (thử)').waitFor({ timeout: TIMEOUT });
  check(await group.inputValue() === 'village', 'after adding, the form still shows a village health worker');

  await add(page, 'Hà Thị Hai (thử)');
  await workers.getByText('Hà Thị Hai (thử)').waitFor({ timeout: TIMEOUT });
  const staff = list(page, /^Nhân viên trạm/);
  check(await staff.getByText('Hà Thị Hai (thử)').count() === 0, 'not among the station staff');

  await group.selectOption('staff');
  await add(page, 'Hà Văn Ba (thử)');
  await staff.getByText('Hà Văn Ba (thử)').waitFor({ timeout: TIMEOUT });
  check(await group.inputValue() === 'staff', 'the form shows station staff');
  check(await workers.getByText('Hà Văn Ba (thử)').count() === 0, 'not among the village health workers');
  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  await browser.close();
});
