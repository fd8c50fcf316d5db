// Evidence on the roster (a person's training certificate) and the files a phone or the server
// refuses: a PDF certificate attached to a new person is uploaded and opens with the same bytes;
// a PDF over the phone's 10 MB limit is refused with a clear message and no entry; a PDF within
// the phone's limit but over this server's (TRAMYTE_TEST_SERVER_MAX bytes) is kept, shown as
// refused by the server, and stays so after a reload.
import { launch, check, main, signIn, fetchedDigest } from './browser.mjs';

const PASSWORD = process.env.TRAMYTE_TEST_PASSWORD;
const SERVER_MAX = Number(process.env.TRAMYTE_TEST_SERVER_MAX);
const TIMEOUT = 30000;
const NAME = 'Nguyễn Thị Chứng (thử)';

// A small well-formed PDF of about `size` bytes (padded in a comment before the trailer).
function pdf(size, tag) {
  const head = `%PDF-1.4\n% ${tag}\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n` +
    '2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n';
  const tail = 'trailer << /Root 1 0 R >>\n%%EOF\n';
  const padding = Math.max(0, size - head.length - tail.length - 2);
  return Buffer.from(head + '%' + 'x'.repeat(padding) + '\n' + tail);
}

function person(page) {
  return page.locator('ul.people > li').filter({ has: page.getByText(NAME, { exact: true }) });
}

function entries(page) {
  return person(page).locator('[data-testid=person-evidence] [data-testid=evidence-entry]');
}

async function waitState(page, index, state) {
  const s = entries(page).nth(index).getByTestId('file-state');
  await page.waitForFunction(([el, state]) => el && el.dataset.state === state,
    [await s.elementHandle({ timeout: TIMEOUT }), state], { timeout: TIMEOUT });
}

await main(async (baseUrl) => {
  const browser = await launch();
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'vi-VN' });
  const errors = [];
  const page = await signIn(context, baseUrl, 'nv1', PASSWORD, errors);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: TIMEOUT });
  await page.getByRole('link', { name: 'Nhân lực và y tế thôn bản' }).click();
  await page.getByTestId('new-person-group').waitFor({ timeout: TIMEOUT });
  await page.getByLabel('Họ và tên').fill(NAME);
  await page.getByRole('button', { name: 'Thêm', exact: true }).click();
  await person(page).waitFor({ timeout: TIMEOUT });

  // A training certificate as a PDF: kept, uploaded, opened with the same bytes.
  const certificate = pdf(4000, 'chung chi');
  await person(page).getByTestId('evidence-file').setInputFiles({
    name: 'chung-chi-dao-tao.pdf', mimeType: 'application/pdf', buffer: certificate,
  });
  await entries(page).first().waitFor({ timeout: TIMEOUT });
  check((await entries(page).first().textContent()).includes('chung-chi-dao-tao.pdf'),
    'the entry is named after the file');
  await waitState(page, 0, 'server');
  check((await entries(page).first().textContent()).includes('Đã lên máy chủ'), 'the certificate is on the server');
  const href = await entries(page).first().getByTestId('evidence-open').getAttribute('href');
  const served = await fetchedDigest(page, href);
  check(served.status === 200 && served.length === certificate.length && href.endsWith(served.sha),
    `the certificate opens with its own bytes (${JSON.stringify(served)})`);

  // Over the phone's 10 MB: refused on the phone, said so, no entry written.
  await person(page).getByTestId('evidence-file').setInputFiles({
    name: 'qua-lon.pdf', mimeType: 'application/pdf', buffer: pdf(11 * 1024 * 1024, 'qua lon'),
  });
  const alert = person(page).getByRole('alert');
  await alert.waitFor({ timeout: TIMEOUT });
  check((await alert.textContent()).includes('lớn hơn 10 MB'), `the phone says the PDF is too large (${await alert.textContent()})`);
  check(await entries(page).count() === 1, 'no entry for the refused PDF');

  // Within the phone's limit, over the server's: kept, then refused by the server, said so.
  await person(page).getByTestId('evidence-file').setInputFiles({
    name: 'bien-ban.pdf', mimeType: 'application/pdf', buffer: pdf(SERVER_MAX + 5000, 'bien ban'),
  });
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=person-evidence] [data-testid=evidence-entry]').length === 2,
    null, { timeout: TIMEOUT });
  const refusedIndex = (await entries(page).nth(0).textContent()).includes('bien-ban.pdf') ? 0 : 1;
  await waitState(page, refusedIndex, 'refused');
  const said = await entries(page).nth(refusedIndex).getByTestId('file-state').textContent();
  check(said.includes('Máy chủ từ chối'), `the entry says the server refused the file (${said})`);

  // After a reload both entries are there, in the same states.
  await page.reload();
  await person(page).waitFor({ timeout: TIMEOUT });
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=person-evidence] [data-testid=evidence-entry]').length === 2,
    null, { timeout: TIMEOUT });
  await waitState(page, 1 - refusedIndex, 'server');
  await waitState(page, refusedIndex, 'refused');
  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  await browser.close();
});
