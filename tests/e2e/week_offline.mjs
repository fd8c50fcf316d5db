// A week offline, with the official client (@automerge/automerge 3.x over `ws`, the documented
// automerge-repo websocket protocol): a phone and two colleagues share one dossier of 47 items;
// the phone goes offline and edits all 47 (one change each), the two colleagues edit 10 items
// each meanwhile (synced through the server); then the phone reconnects (a new connection, a
// fresh sync state, as automerge-repo has after a restart) and syncs until it has the
// colleagues' changes and the server has acknowledged its own. Prints one JSON line: round
// trips, sync bytes each way against the raw bytes of the changes that had to cross, time; then
// checks that the three replicas converge with every change present. Exits 1 if not.
//
// Usage: node week_offline.mjs ws://127.0.0.1:PORT/sync (or http://127.0.0.1:PORT, meaning its /sync)   (WEEK_OFFLINE_TIMEOUT_SECS, 60)
import * as Automerge from '@automerge/automerge';
import { generateAutomergeUrl, parseAutomergeUrl } from '@automerge/automerge-repo';
import { Encoder, decode } from 'cbor-x';
import WebSocket from 'ws';

// CBOR as automerge-repo's own websocket adapter writes it: byte strings untagged (cbor-x tags
// a Uint8Array as a typed array by default, which the protocol's `data` is not).
const cbor = new Encoder({ tagUint8Array: false, useRecords: false });
const encode = (value) => cbor.encode(value);

// An http:// base URL (as the Rust tests pass) means its /sync endpoint.
const URL_ = (() => {
  const given = process.argv[2];
  if (!given || !given.startsWith('http')) return given;
  const url = new URL('/sync', given);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
})();
const TIMEOUT_MS = Number(process.env.WEEK_OFFLINE_TIMEOUT_SECS || 60) * 1000;
const ITEMS = 47;
const COLLEAGUE_EDITS = 10;
if (!URL_) {
  process.stderr.write('usage: node week_offline.mjs ws://127.0.0.1:PORT/sync\n');
  process.exit(2);
}
setTimeout(() => { process.stderr.write('week_offline: global timeout\n'); process.exit(3); }, TIMEOUT_MS).unref();
const log = (line) => process.stderr.write(`week_offline: ${line}\n`);

// One peer's replica of one document and its connection.
class Peer {
  constructor(name, documentId, doc) {
    this.name = name;
    this.documentId = documentId;
    this.doc = doc;
    this.peerId = `${name}-${Math.random().toString(36).slice(2, 10)}`;
    this.waiters = [];
    this.resetCounters();
  }

  resetCounters() {
    this.sent = 0;
    this.sentBytes = 0;
    this.received = 0;
    this.receivedBytes = 0;
    this.rounds = 0;
    this.awaitingReply = false;
  }

  connect() {
    this.syncState = Automerge.initSyncState();
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(URL_);
      socket.binaryType = 'arraybuffer';
      this.socket = socket;
      socket.on('open', () => socket.send(encode({ type: 'join', senderId: this.peerId, peerMetadata: {}, supportedProtocolVersions: ['1'] })));
      socket.on('error', reject);
      socket.on('message', (raw) => {
        const message = decode(new Uint8Array(raw));
        if (message.type === 'peer') {
          this.serverId = message.senderId;
          resolve();
        } else if ((message.type === 'sync' || message.type === 'request') && message.documentId === this.documentId) {
          const data = new Uint8Array(message.data);
          this.received += 1;
          this.receivedBytes += data.byteLength;
          this.awaitingReply = false;
          [this.doc, this.syncState] = Automerge.receiveSyncMessage(this.doc, this.syncState, data);
          this.flush();
          this.notify();
        } else if (message.type === 'error') {
          log(`${this.name}: error from the server: ${message.message}`);
        }
      });
    });
  }

  // Sends what the sync protocol says to send; a message sent while no reply is awaited starts a
  // round trip (the client speaks, the server answers).
  flush() {
    const [state, message] = Automerge.generateSyncMessage(this.doc, this.syncState);
    this.syncState = state;
    if (!message) return;
    if (!this.awaitingReply) {
      this.rounds += 1;
      this.awaitingReply = true;
    }
    this.sent += 1;
    this.sentBytes += message.byteLength;
    const type = Automerge.getHeads(this.doc).length === 0 ? 'request' : 'sync';
    this.socket.send(encode({ type, senderId: this.peerId, targetId: this.serverId, documentId: this.documentId, data: message }));
  }

  // Resolves once the server's last known heads equal ours (everything acknowledged both ways)
  // and `extra` holds.
  until(what, extra = () => true) {
    const done = () => {
      const ours = [...Automerge.getHeads(this.doc)].sort().join();
      const theirs = [...(this.syncState.theirHeads || [])].sort().join();
      return ours === theirs && extra();
    };
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: not ${what} within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
      this.waiters.push(() => { if (done()) { clearTimeout(timer); resolve(); return true; } return false; });
    });
  }

  notify() {
    this.waiters = this.waiters.filter((waiter) => !waiter());
  }

  edit(fn) {
    this.doc = Automerge.change(this.doc, fn);
    return Automerge.getLastLocalChange(this.doc);
  }

  close() {
    return new Promise((resolve) => { this.socket.once('close', resolve); this.socket.close(); setTimeout(resolve, 2000); });
  }
}

const { documentId } = parseAutomergeUrl(generateAutomergeUrl());
// The dossier: 47 items, each with a score and a note (text), created whole by the phone.
const base = Automerge.change(Automerge.init(), (doc) => {
  doc.title = new Automerge.ImmutableString('Trạm Y tế xã Thiệu Vận');
  doc.items = {};
  for (let i = 1; i <= ITEMS; i++) doc.items[`item_${i}`] = { score: 0, note: '' };
});

const phone = new Peer('phone', documentId, Automerge.clone(base));
const colleagues = [new Peer('colleague-1', documentId, Automerge.init()), new Peer('colleague-2', documentId, Automerge.init())];
await phone.connect();
phone.flush();
await phone.until('stored');
for (const colleague of colleagues) {
  await colleague.connect();
  colleague.flush();
  await colleague.until('loaded', () => Automerge.getHeads(colleague.doc).length > 0);
}
log('the three replicas share the dossier; the phone goes offline for a week');
await phone.close();

// Offline: the phone edits every item, one change each.
const rawChanges = { phone: [], colleagues: [] };
for (let i = 1; i <= ITEMS; i++) {
  rawChanges.phone.push(phone.edit((doc) => {
    doc.items[`item_${i}`].score = 1 + (i % 3);
    Automerge.splice(doc, ['items', `item_${i}`, 'note'], 0, 0, `Đã kiểm tra mục ${i}; `);
  }));
}
// Meanwhile, the colleagues edit 10 items each, online.
for (const [n, colleague] of colleagues.entries()) {
  for (let k = 0; k < COLLEAGUE_EDITS; k++) {
    const i = 1 + ((n * 17 + k * 3) % ITEMS);
    rawChanges.colleagues.push(colleague.edit((doc) => {
      doc.items[`item_${i}`].score = 2;
      Automerge.splice(doc, ['items', `item_${i}`, 'note'], 0, 0, `Đồng nghiệp ${n + 1}: đã xem; `);
    }));
    colleague.flush();
    await colleague.until('acknowledged');
  }
}
log(`the phone made ${rawChanges.phone.length} changes offline, the colleagues ${rawChanges.colleagues.length}`);

// The phone comes back.
const expected = new Set([...Automerge.getHeads(colleagues[0].doc), ...Automerge.getHeads(colleagues[1].doc)]);
phone.resetCounters();
const started = performance.now();
await phone.connect();
phone.flush();
const hasColleagues = () => {
  const hashes = new Set(Automerge.getAllChanges(phone.doc).map((c) => Automerge.decodeChange(c).hash));
  return [...expected].every((hash) => hashes.has(hash));
};
await phone.until('merged and acknowledged', hasColleagues);
const seconds = (performance.now() - started) / 1000;
const rawPhone = rawChanges.phone.reduce((n, c) => n + c.byteLength, 0);
const rawColleagues = rawChanges.colleagues.reduce((n, c) => n + c.byteLength, 0);
const result = {
  client: 'official (@automerge/automerge 3.5, raw protocol)',
  url: URL_,
  phoneChanges: rawChanges.phone.length,
  colleagueChanges: rawChanges.colleagues.length,
  roundTrips: phone.rounds,
  messagesSent: phone.sent,
  messagesReceived: phone.received,
  bytesSent: phone.sentBytes,
  bytesReceived: phone.receivedBytes,
  rawChangeBytes: rawPhone + rawColleagues,
  rawPhoneBytes: rawPhone,
  rawColleagueBytes: rawColleagues,
  bytesRatio: (phone.sentBytes + phone.receivedBytes) / (rawPhone + rawColleagues),
  seconds,
};

// The colleagues catch up; all three replicas must hold every change and the same heads.
for (const colleague of colleagues) {
  await colleague.until('caught up', () => Automerge.getHeads(colleague.doc).length > 0
    && [...Automerge.getHeads(phone.doc)].sort().join() === [...Automerge.getHeads(colleague.doc)].sort().join());
}
const all = [phone, ...colleagues].map((peer) => new Set(Automerge.getAllChanges(peer.doc).map((c) => Automerge.decodeChange(c).hash)));
const everyChange = [...rawChanges.phone, ...rawChanges.colleagues].map((c) => Automerge.decodeChange(c).hash);
const converged = all.every((hashes) => everyChange.every((hash) => hashes.has(hash)))
  && all.every((hashes) => hashes.size === all[0].size)
  && JSON.stringify(phone.doc) === JSON.stringify(colleagues[0].doc)
  && JSON.stringify(phone.doc) === JSON.stringify(colleagues[1].doc);
result.converged = converged;
process.stdout.write(`${JSON.stringify(result)}\n`);
await Promise.all([phone, ...colleagues].map((peer) => peer.close()));
process.exit(converged ? 0 : 1);
