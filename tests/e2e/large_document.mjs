// A document many websocket fragments long, both ways with the official automerge-repo client
// (Repo + WebSocketClientAdapter over Node's `ws`): the server sends a large message as
// fragments of a few KiB, which `ws` reassembles, and reads the single large frame `ws` sends.
// Usage: node large_document.mjs BASE_URL, with LARGE_DOC_URL (an automerge: URL our Rust client
// stored) and LARGE_DOC_SHA256 (its `dossier` text's SHA-256). Finds the document, checks the
// text, adds a large text of its own (`fromJs`, with its SHA-256 in `fromJsSha256`), then waits
// for GO while the Rust clients read it back.
import { createHash, randomBytes } from 'node:crypto';
import { Repo } from '@automerge/automerge-repo';
import { WebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket';
import { waitForTest, check, main } from './browser.mjs';

const FIND_TIMEOUT_MS = 20000;
const GLOBAL_TIMEOUT_MS = 90000;
// Random base64: DEFLATE saves only about a quarter of it, so the sync message stays large.
const JS_TEXT_BYTES = 96 * 1024;

const log = (line) => process.stdout.write(`${line}\n`);
const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('hex');

setTimeout(() => {
  process.stderr.write(`large_document: global timeout after ${GLOBAL_TIMEOUT_MS / 1000} s\n`);
  process.exit(1);
}, GLOBAL_TIMEOUT_MS).unref();

await main(async (baseUrl) => {
  const docUrl = process.env.LARGE_DOC_URL;
  const expected = process.env.LARGE_DOC_SHA256;
  check(baseUrl && docUrl && expected, 'usage: LARGE_DOC_URL=… LARGE_DOC_SHA256=… node large_document.mjs BASE_URL');
  const wsUrl = new URL('/sync', baseUrl);
  wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  const repo = new Repo({
    network: [new WebSocketClientAdapter(wsUrl.href, 1000)],
    sharePolicy: async () => true,
  });

  const handle = await repo.find(docUrl, { signal: AbortSignal.timeout(FIND_TIMEOUT_MS) });
  const dossier = handle.doc().dossier;
  check(typeof dossier === 'string', `the document has its dossier text (got ${typeof dossier})`);
  check(sha256(dossier) === expected, `the dossier text arrived whole (${dossier.length} characters)`);
  log(`found the document: dossier of ${dossier.length} characters intact`);

  const text = randomBytes(JS_TEXT_BYTES).toString('base64');
  handle.change((doc) => {
    doc.fromJs = text;
    doc.fromJsSha256 = sha256(text);
  });
  log(`added fromJs: ${text.length} characters`);

  await waitForTest('rust-read');
  await repo.shutdown();
});
