// Shared helpers of the browser scripts: launch Debian's Chromium headless with the flags this
// machine needs, and the line protocol with the Rust test (see tests/src/browser.rs).
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';

const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.TRAMYTE_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
  });
}

// Collects a page's uncaught errors, the app's panics (their message, which the wasm's
// `RuntimeError: unreachable` does not carry) and every Content-Security-Policy violation into
// `errors`: the server's policy must let the whole app run, so anything it blocks is an error.
export function watch(page, errors, label = '') {
  const prefix = label ? `${label}: ` : '';
  page.on('pageerror', (error) => errors.push(`${prefix}${error}`));
  page.on('console', (message) => {
    const text = message.text();
    if (message.type() === 'error' && (text.includes('Content Security Policy') || text.includes('panicked at'))) {
      errors.push(`${prefix}${text}`);
    }
  });
}

// Holds the page's requests whose address matches `pattern` (a route handler: the context must
// block service workers, or the worker's fetches pass by it). `seen()` resolves once one was
// asked; `release()` lets them all go on.
export async function hold(page, pattern) {
  const held = [];
  let heard;
  const asked = new Promise((resolve) => { heard = resolve; });
  const handler = (route) => { held.push(route); heard(); };
  await page.route(pattern, handler);
  return {
    seen: () => asked,
    async release() {
      await page.unroute(pattern, handler);
      for (const route of held) await route.continue();
    },
  };
}

// Opens the app on a phone-sized page of a new browser and waits until its service worker
// controls the page. `errors` collects the page's uncaught errors and policy violations.
export async function openApp(baseUrl) {
  const browser = await launch();
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'vi-VN' });
  const page = await context.newPage();
  const errors = [];
  watch(page, errors);
  await page.goto(baseUrl + '/');
  await page.getByRole('heading', { name: 'Trạm Y tế xã' }).waitFor({ timeout: 30000 });
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30000 });
  return { browser, page, errors };
}

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

// Asks the test to do something and waits until it answers GO.
export async function waitForTest(what) {
  process.stdout.write(`WAIT ${what}\n`);
  const { value, done } = await lines.next();
  if (done || value.trim() !== 'GO') throw new Error(`the test did not answer GO to ${what}`);
}

export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

// Runs a script body, reporting failure on stderr with a non-zero exit.
export async function main(body) {
  try {
    await body(process.argv[2]);
    process.stdout.write('PASS\n');
    process.exit(0);
  } catch (error) {
    process.stderr.write(`${error.stack || error}\n`);
    process.exit(1);
  }
}

// Signs in through the app's form in a new page of `context`; dialogs (confirmations) are accepted.
export async function signIn(context, baseUrl, user, password, errors) {
  const page = await context.newPage();
  watch(page, errors, user);
  page.on('dialog', (dialog) => dialog.accept());
  await page.goto(baseUrl + '/');
  await page.getByLabel('Tên đăng nhập').fill(user);
  await page.getByLabel('Mật khẩu').fill(password);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.getByTestId('signed-in-as').waitFor({ timeout: 30000 });
  return page;
}

// Connected, and every local change acknowledged by the server.
export async function synced(page) {
  await page.waitForFunction(() => {
    const status = document.querySelector('[data-testid=sync-status]');
    return status && status.dataset.link === 'online' && status.dataset.pending === '0';
  }, null, { timeout: 30000 });
}

// Opens the criterion that holds an item, as a person taps its summary line: the editor shows
// the criteria collapsed, one open at a time.
export async function openItem(page, id) {
  const criterion = page.locator('details.criterion').filter({ has: page.locator(`[data-item="${id}"]`) });
  await criterion.waitFor({ state: 'attached', timeout: 30000 });
  if (!(await criterion.evaluate((details) => details.open))) {
    await criterion.locator(':scope > summary').click();
  }
}

// The URL of web/js/media.js as the app loaded it (renamed by its content in a release build).
export async function mediaModule(page) {
  const module = await page.evaluate(() => performance.getEntriesByType('resource')
    .map((entry) => entry.name)
    .find((name) => /\/media(\.[0-9a-f]{16})?\.js$/.test(name)));
  check(module, 'the app loaded media.js');
  return module;
}

// What `href` answers in this page: status, content type, length and SHA-256 (hex) of the body.
export function fetchedDigest(page, href) {
  return page.evaluate(async (href) => {
    const response = await fetch(href);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      length: bytes.length,
      sha: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''),
    };
  }, href);
}
