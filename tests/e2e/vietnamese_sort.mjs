// The reviewer's overview sorts communes by name in Vietnamese alphabetical order (the
// browser's Intl.Collator("vi")): An, Ân; D, Đ; Ngọc before Nguyên; Tân before Thiệu; U, Ư —
// in the desk's table on a wide screen and in the cards on a phone.
import { launch, check, main, signIn } from './browser.mjs';

const PASSWORD = process.env.TRAMYTE_TEST_PASSWORD;
const TIMEOUT = 30000;
const EXPECTED = [
  'Xã An Khánh (thử)',
  'Xã Ân Thi (thử)',
  'Xã Dương Liễu (thử)',
  'Xã Đông Sơn (thử)',
  'Xã Tân Châu (thử)',
  'Xã Thiệu Giao (thử)',
  'Xã Thiệu Ngọc (thử)',
  'Xã Thiệu Nguyên (thử)',
  'Xã Thiệu Vận (thử)',
  'Xã Uy Nỗ (thử)',
  'Xã Ưng Hòa (thử)',
];

await main(async (baseUrl) => {
  const browser = await launch();
  const errors = [];
  for (const [viewport, rowSelector, sortBy] of [
    [{ width: 1280, height: 900 }, '[data-testid=desk-table] tbody tr[data-commune] th', 'header'],
    [{ width: 390, height: 800 }, '[data-testid=overview-rows] li strong', 'select'],
  ]) {
    const context = await browser.newContext({ viewport, locale: 'vi-VN' });
    const page = await signIn(context, baseUrl, 'rv1', PASSWORD, errors);
    // The browser has Vietnamese collation data (else the check below would prove nothing).
    const locale = await page.evaluate(() => new Intl.Collator('vi').resolvedOptions().locale);
    check(locale === 'vi', `Chromium collates in Vietnamese (resolved ${locale})`);
    await page.goto(baseUrl + '/overview');
    await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length === n,
      [rowSelector, EXPECTED.length], { timeout: TIMEOUT });
    const names = (await page.locator(rowSelector).allTextContents()).map((n) => n.trim());
    check(JSON.stringify(names) === JSON.stringify(EXPECTED),
      `${viewport.width} px, Vietnamese order:\n  got      ${names.join(' | ')}\n  expected ${EXPECTED.join(' | ')}`);
    // Sorted another way and back, the order is the same.
    if (sortBy === 'select') {
      const sort = page.getByLabel('Sắp xếp');
      await sort.selectOption('activity');
      await sort.selectOption('commune');
    } else {
      await page.getByRole('button', { name: 'Hoạt động gần nhất' }).click();
      await page.getByRole('button', { name: /^Xã/ }).click();
      await page.waitForSelector('th[aria-sort=ascending] >> text=Xã', { timeout: TIMEOUT });
    }
    const again = (await page.locator(rowSelector).allTextContents()).map((n) => n.trim());
    check(JSON.stringify(again) === JSON.stringify(EXPECTED), `the same order again: ${again.join(' | ')}`);
    await context.close();
  }
  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  await browser.close();
});
