// The official automerge-repo client (Repo + WebSocketClientAdapter, no storage, so every Repo is
// a fresh ephemeral peer) syncs through the server's /sync endpoint: one peer creates a document,
// another finds it by URL, both edit it concurrently and converge, and after a server restart a
// third peer still finds the merged document (the server persisted it).
import { Repo } from '@automerge/automerge-repo';
import { WebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket';
import { waitForTest, check, main } from './browser.mjs';

const TITLE = 'Trạm Y tế xã Thiệu Vận';
const FIND_TIMEOUT_MS = 15000;
const CONVERGE_TIMEOUT_MS = 15000;
const GLOBAL_TIMEOUT_MS = 60000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line) => process.stdout.write(`${line}\n`);

setTimeout(() => {
  process.stderr.write(`repo_interop: global timeout after ${GLOBAL_TIMEOUT_MS / 1000} s\n`);
  process.exit(1);
}, GLOBAL_TIMEOUT_MS).unref();

function syncUrl(baseUrl) {
  const url = new URL('/sync', baseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

function newRepo(wsUrl) {
  return new Repo({
    network: [new WebSocketClientAdapter(wsUrl, 1000)],
    sharePolicy: async () => true,
  });
}

// Finds a document with a fresh Repo, retrying with a new Repo (a new peer and connection) until
// the deadline: a Repo remembers a document it was told is unavailable, so retrying on the same
// Repo would not ask the server again.
async function findFresh(label, wsUrl, url) {
  const deadline = Date.now() + FIND_TIMEOUT_MS;
  for (let attempt = 1; ; attempt++) {
    const repo = newRepo(wsUrl);
    try {
      const remaining = Math.max(deadline - Date.now(), 1);
      const handle = await repo.find(url, { signal: AbortSignal.timeout(remaining) });
      log(`${label} found the document (attempt ${attempt})`);
      return { repo, handle };
    } catch (error) {
      await repo.shutdown();
      if (Date.now() >= deadline) {
        throw new Error(`${label} could not find ${url} within ${FIND_TIMEOUT_MS / 1000} s: ${error.message || error}`);
      }
      log(`${label} attempt ${attempt}: ${error.message || error}; retrying`);
      await sleep(500);
    }
  }
}

// Waits until condition() holds; false if it still does not after timeoutMs.
async function waitUntil(timeoutMs, condition) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

// JSON with sorted keys: the materialized objects' key order depends on the order changes arrived.
function canonical(value) {
  return JSON.stringify(value, (key, v) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]))
    : v));
}

async function poll(what, timeoutMs, condition) {
  check(await waitUntil(timeoutMs, condition), `${what} within ${timeoutMs / 1000} s`);
}

await main(async (baseUrl) => {
  check(baseUrl, 'usage: node repo_interop.mjs http://127.0.0.1:PORT');
  const wsUrl = syncUrl(baseUrl);
  log(`sync endpoint ${wsUrl}`);

  // a. A creates the document.
  const repoA = newRepo(wsUrl);
  const handleA = repoA.create({ title: TITLE, edits: {} });
  const url = handleA.url;
  log(`URL ${url}`);

  // b. B, a separate peer, finds it through the server.
  const { repo: repoB, handle: handleB } = await findFresh('B', wsUrl, url);
  const docB = handleB.doc();
  check(docB.title === TITLE, `B reads the Vietnamese title intact (got ${JSON.stringify(docB.title)})`);
  check(docB.edits && Object.keys(docB.edits).length === 0, `B sees the empty edits map (got ${JSON.stringify(docB.edits)})`);

  // c. Concurrent edits: both change before either can hear about the other's change.
  handleA.change((doc) => { doc.edits.a = 'from A'; doc.shared = 'A'; });
  handleB.change((doc) => { doc.edits.b = 'from B'; doc.shared = 'B'; });
  log('A and B edited concurrently');
  const bothEdits = (handle) => {
    const doc = handle.doc();
    return doc.edits?.a === 'from A' && doc.edits?.b === 'from B';
  };
  await poll('A and B both see both edits', CONVERGE_TIMEOUT_MS, () => bothEdits(handleA) && bothEdits(handleB));
  // Both edits are visible; let any last sync round settle so the heads match too.
  const same = () => JSON.stringify(handleA.heads()) === JSON.stringify(handleB.heads());
  await poll('A and B reach the same heads', CONVERGE_TIMEOUT_MS, same);
  const jsonA = canonical(handleA.doc());
  const jsonB = canonical(handleB.doc());
  check(jsonA === jsonB, `A and B have identical documents (A: ${jsonA}, B: ${jsonB})`);
  const heads = handleA.heads();
  check(heads.length === 2, `the merged document has two heads, one per concurrent change (got ${heads.length})`);
  const shared = handleA.doc().shared;
  check(shared === 'A' || shared === 'B', `shared is one of the two concurrent values (got ${JSON.stringify(shared)})`);
  check(handleB.doc().shared === shared, 'A and B agree on the conflicting shared value');
  log(`A and B converged: ${jsonA} heads ${heads.join(',')}`);

  await repoA.shutdown();
  await repoB.shutdown();

  // d. After a server restart, a fresh peer still finds the merged document.
  await waitForTest('server-restart');
  const { repo: repoC, handle: handleC } = await findFresh('C', wsUrl, url);
  // The handle is ready as soon as it has some of the document; give the sync a moment to finish.
  await waitUntil(CONVERGE_TIMEOUT_MS, () => JSON.stringify(handleC.heads()) === JSON.stringify(heads));
  const docC = handleC.doc();
  check(docC.title === TITLE, `C reads the title after the restart (got ${JSON.stringify(docC.title)})`);
  check(docC.edits?.a === 'from A', `C sees A's edit after the restart (got ${JSON.stringify(docC.edits)})`);
  check(docC.edits?.b === 'from B', `C sees B's edit after the restart (got ${JSON.stringify(docC.edits)})`);
  check(docC.shared === shared, `C sees the same shared value (got ${JSON.stringify(docC.shared)})`);
  check(JSON.stringify(handleC.heads()) === JSON.stringify(heads), `C has the merged heads (got ${handleC.heads().join(',')})`);
  log('C found the merged document after the restart');
  await repoC.shutdown();
});
