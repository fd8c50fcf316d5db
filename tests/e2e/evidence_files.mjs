// Evidence files: a station phone, offline, takes a photo of a criterion's evidence (a JPEG made
// on a canvas, through the camera input); the entry shows its thumbnail and "only on this
// phone"; a reload offline keeps both; back online it is uploaded ("on the server"); a reviewer
// on another phone sees the thumbnail and opens the file, whose bytes are the station's.
import { launch, check, main, openItem, signIn, synced, fetchedDigest } from './browser.mjs';

const PASSWORD = process.env.TRAMYTE_TEST_PASSWORD;
const TIMEOUT = 30000;

const entry = (page) => page.locator('[data-item="TC1"] [data-testid=evidence-entry]');

async function openEvidence(page) {
  await openItem(page, 'TC1');
  const details = page.locator('[data-item="TC1"] details.evidence');
  if (!(await details.evaluate((d) => d.open))) await details.locator(':scope > summary').click();
}

// The file's state as its entry shows it.
async function waitState(page, state) {
  await page.waitForFunction((state) => {
    const s = document.querySelector('[data-item="TC1"] [data-testid=evidence-entry] [data-testid=file-state]');
    return s && s.dataset.state === state;
  }, state, { timeout: TIMEOUT });
}

// The thumbnail decoded (served by the service worker from the phone, or by the server).
async function thumbnailShown(page) {
  await page.waitForFunction(() => {
    const img = document.querySelector('[data-item="TC1"] [data-testid=evidence-thumbnail]');
    return img && img.complete && img.naturalWidth > 0;
  }, null, { timeout: TIMEOUT });
  return page.locator('[data-item="TC1"] [data-testid=evidence-thumbnail]').evaluate((img) => [img.naturalWidth, img.naturalHeight]);
}

await main(async (baseUrl) => {
  const browser = await launch();
  const errors = [];
  const stationContext = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'vi-VN' });
  const station = await signIn(stationContext, baseUrl, 'nv1', PASSWORD, errors);
  await station.getByRole('link', { name: 'Mở phiếu đánh giá' }).click();
  await station.getByTestId('status').waitFor({ timeout: TIMEOUT });
  await station.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: TIMEOUT });
  const path = new URL(station.url()).pathname;

  // A camera-like photo: 2400×1800, drawn on a canvas, as JPEG.
  const photo = Buffer.from(await station.evaluate(async () => {
    const canvas = new OffscreenCanvas(2400, 1800);
    const context = canvas.getContext('2d');
    const gradient = context.createLinearGradient(0, 0, 2400, 1800);
    gradient.addColorStop(0, '#0b6e4f');
    gradient.addColorStop(1, '#f2b600');
    context.fillStyle = gradient;
    context.fillRect(0, 0, 2400, 1800);
    context.fillStyle = '#fff';
    context.font = '200px sans-serif';
    context.fillText('Trạm Y tế', 300, 900);
    const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.95 });
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  }));

  // Offline: the photo is taken and kept on the phone.
  await stationContext.setOffline(true);
  await openEvidence(station);
  await station.locator('[data-item="TC1"] [data-testid=evidence-photo]').setInputFiles({
    name: 'bien-hieu.jpg', mimeType: 'image/jpeg', buffer: photo,
  });
  await entry(station).first().waitFor({ timeout: TIMEOUT });
  await waitState(station, 'local');
  check((await entry(station).first().textContent()).includes('Chỉ có trên máy này'), 'the entry says the file is only on this phone');
  const [width, height] = await thumbnailShown(station);
  check(Math.max(width, height) <= 320 && Math.abs(width / height - 4 / 3) < 0.02,
    `the thumbnail is at most 320 px with the photo's proportions (${width}×${height})`);
  const href = await entry(station).first().getByTestId('evidence-open').getAttribute('href');
  const sha = href.split('/').pop();
  check(/^[0-9a-f]{64}$/.test(sha), `the entry links its file by SHA-256 (${href})`);
  const kept = await fetchedDigest(station, href);
  check(kept.status === 200 && kept.sha === sha && kept.type === 'image/jpeg',
    `offline, the phone opens its own copy (${JSON.stringify(kept)})`);
  check(kept.length < photo.length, `the kept photo is downscaled (${kept.length} < ${photo.length} bytes)`);

  // A reload, still offline: the entry and its file are still there, still only on the phone.
  await station.reload();
  await station.getByTestId('status').waitFor({ timeout: TIMEOUT });
  await openEvidence(station);
  await waitState(station, 'local');
  await thumbnailShown(station);
  check((await fetchedDigest(station, href)).sha === sha, 'after the reload the phone still holds the file');

  // Online: the outbox uploads it.
  await stationContext.setOffline(false);
  await waitState(station, 'server');
  check((await entry(station).first().textContent()).includes('Đã lên máy chủ'), 'the entry says the file is on the server');
  await synced(station);

  // The reviewer, on another phone, sees the thumbnail and opens the file.
  const reviewerContext = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'vi-VN' });
  const reviewer = await signIn(reviewerContext, baseUrl, 'rv1', PASSWORD, errors);
  await reviewer.goto(baseUrl + path);
  await reviewer.getByTestId('status').waitFor({ timeout: TIMEOUT });
  await openEvidence(reviewer);
  await entry(reviewer).first().waitFor({ timeout: TIMEOUT });
  await thumbnailShown(reviewer);
  const opened = reviewer.waitForEvent('popup');
  await entry(reviewer).first().getByTestId('evidence-open').click();
  const tab = await opened;
  await tab.waitForLoadState();
  check(new URL(tab.url()).pathname === href, `the file opens full size in a tab (${tab.url()})`);
  const served = await fetchedDigest(reviewer, href);
  check(served.status === 200 && served.sha === sha && served.length === kept.length && served.type === 'image/jpeg',
    `the reviewer gets the station's bytes (${JSON.stringify(served)})`);
  // The dossier's ZIP (the server's; files-server tests its content), linked from the editor.
  const zip = await reviewer.getByTestId('dossier-zip').getAttribute('href');
  const archive = await fetchedDigest(reviewer, zip);
  check(archive.status === 200 && /zip/.test(archive.type || '') && archive.length > 0,
    `the dossier ZIP downloads (${JSON.stringify(archive)})`);
  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  await browser.close();
});
