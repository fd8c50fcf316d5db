// The reviewer's overview sorts communes by name in Vietnamese alphabetical order (the
// browser's Intl.Collator("vi")): An, Ân; D, Đ; Ngọc before Nguyên; Tân before Thiệu; U, Ư.
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
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
  const errors = [];
  const page = await signIn(context, baseUrl, 'rv1', PASSWORD, errors);
  // The browser has Vietnamese collation data (else the check below would prove nothing).
  const locale = await page.evaluate(() => new Intl.Collator('vi').resolvedOptions().locale);
  check(locale === 'vi', `Chromium collates in Vietnamese (resolved ${locale})`);
  await page.goto(baseUrl + '/overview');
  const rows = page.locator('[data-testid=overview-rows] li strong');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=overview-rows] li').length === n,
    EXPECTED.length, { timeout: TIMEOUT });
  const names = await rows.allTextContents();
  check(JSON.stringify(names) === JSON.stringify(EXPECTED),
    `Vietnamese order:\n  got      ${names.join(' | ')}\n  expected ${EXPECTED.join(' | ')}`);
  // Sorted another way and back, the order is the same.
  const sort = page.getByLabel('Sắp xếp');
  await sort.selectOption('activity');
  await sort.selectOption('commune');
  const again = await rows.allTextContents();
  check(JSON.stringify(again) === JSON.stringify(EXPECTED), `the same order again: ${again.join(' | ')}`);
  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  await browser.close();
});
