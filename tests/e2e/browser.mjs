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
