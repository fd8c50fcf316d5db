// The official forms of one dossier print on A4: the appraisal minutes and the self-scoring
// sheet of the demo's approved 2024 dossier of Thiệu Toán show the totals the overview lists,
// the verdict, and the signature blocks with who submitted and who appraised; printed to PDF
// (Chromium's own print path, with the print stylesheet) each is a page or two of A4, and a
// screenshot of each form as printed is kept beside the PDFs.
import { writeFileSync } from 'node:fs';
import { launch, check, main, signIn } from './browser.mjs';

const USER = process.env.TRAMYTE_TEST_USER;
const PASSWORD = process.env.TRAMYTE_TEST_PASSWORD;
const OUT = process.env.TRAMYTE_TEST_OUT;
const TIMEOUT = 30000;

const comma = (n) => String(n).replace('.', ',');
const pages = (pdf) => (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;

await main(async (baseUrl) => {
  const browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
  const errors = [];
  const page = await signIn(context, baseUrl, USER, PASSWORD, errors);
  const listed = await page.evaluate(async () => (await fetch('/api/documents')).json());
  const row = listed.documents.find((d) => d.commune === '99101' && d.kind === 'assessment' && d.round === 2024);
  check(row && row.status === 'approved', `the approved 2024 dossier of 99101 is listed: ${JSON.stringify(row)}`);

  for (const [form, total, totalId] of [
    ['minutes', row.review_total, 'review-total'],
    ['self-sheet', row.self_total, 'self-total'],
  ]) {
    await page.goto(`${baseUrl}/assessment/${row.id}/${form}`);
    const sheet = page.getByTestId('official-form');
    await sheet.waitFor({ timeout: TIMEOUT });
    const title = await sheet.locator('h1').textContent();
    check(title === (form === 'minutes' ? 'BIÊN BẢN THẨM ĐỊNH' : 'BẢNG TỰ CHẤM ĐIỂM'), `the title: ${title}`);
    const rows = await sheet.locator('tbody tr').count();
    check(rows === 10, `one row per criterion (${rows})`);
    const printed = (await page.getByTestId(totalId).textContent()).trim();
    check(printed === comma(total), `the ${form}'s total ${printed} is the overview's ${total}`);
    const verdict = await page.getByTestId('form-verdict').textContent();
    check(verdict.includes('Đạt'), `the verdict: ${verdict}`);
    const names = await sheet.locator('.signature .name').allTextContents();
    check(names.some((n) => n.includes('(hư cấu)')), `a signature block names who signed: ${names}`);
    await page.emulateMedia({ media: 'print' });
    check(!(await page.locator('.topbar').isVisible()), 'the app bar is not printed');
    await page.screenshot({ path: `${OUT}/${form}.png`, fullPage: true });
    await page.emulateMedia({ media: 'screen' });
    const pdf = await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
    writeFileSync(`${OUT}/${form}.pdf`, pdf);
    const count = pages(pdf);
    process.stdout.write(`INFO ${form}: ${count} A4 page(s), ${pdf.length} bytes\n`);
    check(count >= 1 && count <= 2, `the ${form} prints on one or two A4 pages (${count})`);
  }
  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  await browser.close();
});
