// Benchmark (not a test): N clients built on the official automerge packages drive one sync
// server (ours or the official @automerge/automerge-repo-sync-server) at a given websocket URL.
// Each client creates DOCS documents (setup, not measured), then makes CHANGES changes to each, one
// at a time, each timed from the edit to its acknowledgement. Prints one JSON line on stdout.
//
// "Acknowledged": the server sent a sync message for that document whose `heads` include the
// hash of the change (decoded with Automerge.decodeSyncMessage): the server has applied the change
// (ours also has committed it to its database before saying so; the official server says so
// once it is in memory and saves later).
//
// Modes (OFFICIAL_BENCH_MODE):
//   raw   @automerge/automerge 3.x over `ws` with the documented automerge-repo websocket
//         protocol (CBOR: join → peer, then `sync` messages), one socket per client; every
//         server message is answered the way the protocol says: receiveSyncMessage, then
//         generateSyncMessage and send it when there is one.
//   repo  @automerge/automerge-repo 2.x Repo + WebSocketClientAdapter per client (no storage);
//         changes through DocHandle.change; the acknowledgement is read from the same adapter's
//         incoming messages.
// Knobs (environment): OFFICIAL_BENCH_URL (ws://…, required), OFFICIAL_BENCH_MODE (raw),
// OFFICIAL_BENCH_CLIENTS (200), OFFICIAL_BENCH_DOCS (5), OFFICIAL_BENCH_CHANGES (10),
// OFFICIAL_BENCH_TIMEOUT_SECS (300, the bound of each phase), OFFICIAL_BENCH_SERVER_PID (when set,
// the server's CPU ticks over the measured phase and its VmHWM/VmRSS are read from /proc),
// OFFICIAL_BENCH_SETUP_CONCURRENCY (64).
// Counters: sync messages and bytes each way, in the setup and the measured phase, so the
// messages per change can be compared with our own client's.
import * as Automerge from '@automerge/automerge';
import { Repo, generateAutomergeUrl, parseAutomergeUrl } from '@automerge/automerge-repo';
import { WebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket';
import { Encoder, decode } from 'cbor-x';
import WebSocket from 'ws';

// CBOR as automerge-repo's own websocket adapter writes it: byte strings untagged (cbor-x tags
// a Uint8Array as a typed array by default, which the protocol's `data` is not).
const cbor = new Encoder({ tagUint8Array: false, useRecords: false });
const encode = (value) => cbor.encode(value);
import fs from 'node:fs';
import { execSync } from 'node:child_process';

const env = (name, fallback) => {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new Error(`${name} must be a whole number, got ${value}`);
  return number;
};
const URL_ = process.env.OFFICIAL_BENCH_URL;
const MODE = process.env.OFFICIAL_BENCH_MODE || 'raw';
const CLIENTS = env('OFFICIAL_BENCH_CLIENTS', 200);
const DOCS = env('OFFICIAL_BENCH_DOCS', 5);
const CHANGES = env('OFFICIAL_BENCH_CHANGES', 10);
const TIMEOUT_MS = env('OFFICIAL_BENCH_TIMEOUT_SECS', 300) * 1000;
const SETUP_CONCURRENCY = Math.max(env('OFFICIAL_BENCH_SETUP_CONCURRENCY', 64), 1);
const SERVER_PID = process.env.OFFICIAL_BENCH_SERVER_PID || '';

if (!URL_) {
  process.stderr.write('official_bench: OFFICIAL_BENCH_URL=ws://host:port/path is required\n');
  process.exit(2);
}
if (MODE !== 'raw' && MODE !== 'repo') {
  process.stderr.write(`official_bench: OFFICIAL_BENCH_MODE must be raw or repo, got ${MODE}\n`);
  process.exit(2);
}
// The whole run is bounded: setup, measured phase and shutdown.
setTimeout(() => {
  process.stderr.write('official_bench: global timeout\n');
  process.exit(3);
}, TIMEOUT_MS * 2 + 30000).unref();

const log = (line) => process.stderr.write(`official_bench[${MODE}]: ${line}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Message counters, by phase.
const counters = { phase: 'setup', setup: newCounts(), measured: newCounts() };
function newCounts() {
  return { sent: 0, sentBytes: 0, received: 0, receivedBytes: 0, receivedNoChanges: 0, sentNoChanges: 0, haveEntries: 0, bloomBytes: 0 };
}
// Counts one sync message (its payload `data`) and what it carries.
function count(direction, data) {
  const c = counters[counters.phase];
  let decoded;
  try { decoded = Automerge.decodeSyncMessage(data); } catch { decoded = null; }
  if (direction === 'sent') { c.sent += 1; c.sentBytes += data.byteLength; } else { c.received += 1; c.receivedBytes += data.byteLength; }
  if (decoded) {
    if (decoded.changes.length === 0) c[direction === 'sent' ? 'sentNoChanges' : 'receivedNoChanges'] += 1;
    c.haveEntries += decoded.have.length;
    for (const have of decoded.have) c.bloomBytes += have.bloom?.byteLength ?? 0;
  }
  return decoded;
}

// The documents: like the Rust bench's (`tests/benches/sync_load.rs`): a title, a zone, a text
// note; each change puts a score and appends a few words to the note. Scalar strings, as ours.
function initial(doc, client, index) {
  doc.title = new Automerge.ImmutableString(`Trạm Y tế xã ${client}-${index}`);
  doc.zone = 1;
  doc.note = '';
}
function edit(doc, change) {
  doc[`score_${change % 10}`] = new Automerge.ImmutableString(`${change % 3}.5`);
  Automerge.splice(doc, ['note'], doc.note.length, 0, 'đã kiểm tra; ');
}

// Pending acknowledgements: key `${client}/${documentId}` → { hash, resolve }.
function acknowledger() {
  const waiting = new Map();
  return {
    wait(key, hash) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { waiting.delete(key); reject(new Error(`no acknowledgement within ${TIMEOUT_MS / 1000} s`)); }, TIMEOUT_MS);
        waiting.set(key, {
          hash,
          resolve: () => { clearTimeout(timer); resolve(); },
          reject: (error) => { clearTimeout(timer); reject(error); },
        });
      });
    },
    // A client's connection ended: its waits fail at once.
    fail(prefix, reason) {
      for (const [key, entry] of waiting) {
        if (key.startsWith(prefix)) { waiting.delete(key); entry.reject(new Error(reason)); }
      }
    },
    heard(key, heads) {
      const entry = waiting.get(key);
      if (entry && heads.includes(entry.hash)) {
        waiting.delete(key);
        entry.resolve();
      }
    },
  };
}
const acks = acknowledger();

// ---------------------------------------------------------------------------------------------
// raw: @automerge/automerge + ws, the protocol by hand.

class RawClient {
  constructor(index) {
    this.index = index;
    this.peerId = `official-bench-${index}-${Math.random().toString(36).slice(2, 10)}`;
    this.docs = new Map(); // documentId → { doc, syncState }
  }

  connect() {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(URL_);
      socket.binaryType = 'arraybuffer';
      this.socket = socket;
      const timer = setTimeout(() => reject(new Error('no peer message within 30 s')), 30000);
      socket.on('open', () => {
        socket.send(encode({ type: 'join', senderId: this.peerId, peerMetadata: {}, supportedProtocolVersions: ['1'] }));
      });
      socket.on('error', (error) => reject(error));
      socket.on('close', () => {
        if (this.closing) return;
        this.closed = true;
        acks.fail(`${this.index}/`, `connection closed by the server${this.error ? `: ${this.error}` : ''}`);
      });
      socket.on('message', (raw) => {
        const message = decode(new Uint8Array(raw));
        if (message.type === 'peer') {
          this.serverId = message.senderId;
          clearTimeout(timer);
          resolve();
        } else if (message.type === 'sync' || message.type === 'request') {
          this.receive(message.documentId, message.data);
        } else if (message.type === 'error') {
          this.error = message.message;
        }
      });
    });
  }

  receive(documentId, data) {
    const entry = this.docs.get(documentId);
    if (!entry) return;
    const bytes = new Uint8Array(data);
    const decoded = count('received', bytes);
    [entry.doc, entry.syncState] = Automerge.receiveSyncMessage(entry.doc, entry.syncState, bytes);
    this.flush(documentId);
    if (decoded) acks.heard(`${this.index}/${documentId}`, decoded.heads);
  }

  flush(documentId) {
    const entry = this.docs.get(documentId);
    const [syncState, message] = Automerge.generateSyncMessage(entry.doc, entry.syncState);
    entry.syncState = syncState;
    if (message) {
      count('sent', message);
      this.socket.send(encode({ type: 'sync', senderId: this.peerId, targetId: this.serverId, documentId, data: message }));
    }
  }

  async create(index) {
    const { documentId } = parseAutomergeUrl(generateAutomergeUrl());
    const doc = Automerge.change(Automerge.init(), (d) => initial(d, this.index, index));
    this.docs.set(documentId, { doc, syncState: Automerge.initSyncState() });
    const hash = Automerge.getHeads(doc)[0];
    const acked = acks.wait(`${this.index}/${documentId}`, hash);
    this.flush(documentId);
    await acked;
    return documentId;
  }

  async change(documentId, change) {
    if (this.closed) throw new Error(`connection closed by the server${this.error ? `: ${this.error}` : ''}`);
    const entry = this.docs.get(documentId);
    entry.doc = Automerge.change(entry.doc, (d) => edit(d, change));
    const hash = Automerge.getHeads(entry.doc)[0];
    const acked = acks.wait(`${this.index}/${documentId}`, hash);
    this.flush(documentId);
    await acked;
  }

  close() {
    this.closing = true;
    this.socket.close();
  }
}

// ---------------------------------------------------------------------------------------------
// repo: Repo + WebSocketClientAdapter.

class RepoClient {
  constructor(index) {
    this.index = index;
    this.handles = new Map();
  }

  async connect() {
    this.adapter = new WebSocketClientAdapter(URL_, 1000);
    // Our window on the traffic: the adapter's incoming messages and its send().
    this.adapter.on('message', (message) => {
      if (message.type !== 'sync' && message.type !== 'request') return;
      const decoded = count('received', new Uint8Array(message.data));
      if (decoded) acks.heard(`${this.index}/${message.documentId}`, decoded.heads);
    });
    const send = this.adapter.send.bind(this.adapter);
    this.adapter.send = (message) => {
      if ((message.type === 'sync' || message.type === 'request') && message.data) count('sent', new Uint8Array(message.data));
      return send(message);
    };
    this.repo = new Repo({ network: [this.adapter], sharePolicy: async () => true });
    const deadline = Date.now() + 30000;
    while (this.repo.peers.length === 0) {
      if (Date.now() > deadline) throw new Error('no peer within 30 s');
      await sleep(20);
    }
  }

  async create(index) {
    const handle = this.repo.create();
    const documentId = handle.documentId;
    this.handles.set(documentId, handle);
    handle.change((d) => initial(d, this.index, index));
    const acked = acks.wait(`${this.index}/${documentId}`, decodeHead(handle));
    await acked;
    return documentId;
  }

  async change(documentId, change) {
    const handle = this.handles.get(documentId);
    handle.change((d) => edit(d, change));
    const acked = acks.wait(`${this.index}/${documentId}`, decodeHead(handle));
    await acked;
  }

  close() {
    return this.repo.shutdown();
  }
}

// The hash (hex, as sync messages carry it) of the change a handle's last edit made.
function decodeHead(handle) {
  return Automerge.getHeads(handle.doc())[0];
}

// ---------------------------------------------------------------------------------------------
// /proc: CPU ticks and memory.

const TICKS = (() => { try { return Number(execSync('getconf CLK_TCK').toString().trim()) || 100; } catch { return 100; } })();
function processTicks(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 1).trim().split(/\s+/);
    return Number(fields[11]) + Number(fields[12]);
  } catch { return null; }
}
function processStatus(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name) => { const m = status.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm')); return m ? Number(m[1]) : null; };
    return { rssKib: field('VmRSS'), hwmKib: field('VmHWM') };
  } catch { return null; }
}
function loadAverage() {
  try { return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '); } catch { return null; }
}
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

// Runs fn over items with at most `limit` at once; resolves to the settled results in order.
async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      try { results[i] = { ok: true, value: await fn(items[i], i) }; } catch (error) { results[i] = { ok: false, error: String(error.message || error) }; }
    }
  });
  await Promise.all(workers);
  return results;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1];
}

// ---------------------------------------------------------------------------------------------

const failures = {};
const fail = (reason) => { failures[reason] = (failures[reason] || 0) + 1; };

log(`${CLIENTS} clients connect to ${URL_} and create ${DOCS} documents each …`);
const setupStarted = performance.now();
const made = await pool(Array.from({ length: CLIENTS }, (_, i) => i), SETUP_CONCURRENCY, async (index) => {
  const client = MODE === 'raw' ? new RawClient(index) : new RepoClient(index);
  await client.connect();
  const ids = [];
  for (let doc = 0; doc < DOCS; doc++) ids.push(await client.create(doc));
  return { client, ids };
});
const ready = [];
for (const result of made) { if (result.ok) ready.push(result.value); else fail(`setup: ${result.error}`); }
const setupSeconds = (performance.now() - setupStarted) / 1000;

log(`${ready.length} clients make ${CHANGES} changes to each of their documents …`);
counters.phase = 'measured';
const latencies = [];
const serverBefore = SERVER_PID ? processTicks(SERVER_PID) : null;
const clientBefore = cpuMs();
const loadBefore = loadAverage();
const started = performance.now();
const measured = await pool(ready, ready.length || 1, async ({ client, ids }) => {
  for (let change = 0; change < CHANGES; change++) {
    for (const id of ids) {
      const start = performance.now();
      await client.change(id, change);
      latencies.push(performance.now() - start);
    }
  }
});
const seconds = (performance.now() - started) / 1000;
const clientCpuMs = cpuMs() - clientBefore;
const serverAfter = SERVER_PID ? processTicks(SERVER_PID) : null;
const loadAfter = loadAverage();
const server = SERVER_PID ? processStatus(SERVER_PID) : null;
for (const result of measured) if (!result.ok) fail(`measured: ${result.error}`);
counters.phase = 'done';
counters.done = newCounts();

await Promise.race([Promise.all(ready.map(({ client }) => client.close())), sleep(5000)]);

latencies.sort((a, b) => a - b);
const acked = latencies.length;
const serverCpuMs = serverBefore !== null && serverAfter !== null ? (serverAfter - serverBefore) * 1000 / TICKS : null;
const result = {
  mode: MODE,
  url: URL_,
  clients: CLIENTS,
  docs: DOCS,
  changes: CHANGES,
  clientsReady: ready.length,
  setupSeconds,
  acked,
  expected: CLIENTS * DOCS * CHANGES,
  seconds,
  changesPerSecond: seconds > 0 ? acked / seconds : null,
  p50: percentile(latencies, 50),
  p95: percentile(latencies, 95),
  p99: percentile(latencies, 99),
  max: percentile(latencies, 100),
  clientCpuMs,
  serverCpuMs,
  serverCpuMsPerChange: serverCpuMs !== null && acked > 0 ? serverCpuMs / acked : null,
  serverHwmKib: server?.hwmKib ?? null,
  serverRssKib: server?.rssKib ?? null,
  loadBefore,
  loadAfter,
  setupMessages: counters.setup,
  measuredMessages: counters.measured,
  failures,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(Object.keys(failures).length === 0 ? 0 : 1);
