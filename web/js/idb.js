// IndexedDB, promised: the one place the app keeps documents and sync state on the phone.
// Two object stores: `docs` (document id → automerge bytes) and `meta` (key → string).
// Every call opens the database lazily once; every failure rejects with an Error the Rust side
// shows (storage full, private mode, blocked upgrade).

const NAME = 'tramyte';
const VERSION = 1;
let opening = null;

function open() {
  if (opening) return opening;
  opening = new Promise((resolve, reject) => {
    if (!('indexedDB' in globalThis)) {
      reject(new Error('IndexedDB is not available in this browser'));
      return;
    }
    const request = indexedDB.open(NAME, VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains('docs')) db.createObjectStore('docs');
      if (!db.objectStoreNames.contains('meta')) db.createObjectStore('meta');
    };
    request.onsuccess = () => {
      const db = request.result;
      // Another tab upgrading the schema: let it, and reopen next time.
      db.onversionchange = () => { db.close(); opening = null; };
      resolve(db);
    };
    request.onerror = () => { opening = null; reject(request.error || new Error('IndexedDB open failed')); };
    request.onblocked = () => { opening = null; reject(new Error('IndexedDB is blocked by another tab')); };
  });
  return opening;
}

function run(store, mode, body) {
  return open().then((db) => new Promise((resolve, reject) => {
    const tx = db.transaction(store, mode, { durability: 'strict' });
    let result;
    const request = body(tx.objectStore(store));
    request.onsuccess = () => { result = request.result; };
    // Resolve only once the transaction is committed: then the data survives a closed tab.
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error || new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error || new Error('IndexedDB transaction aborted'));
  }));
}

export function idbGet(store, key) {
  return run(store, 'readonly', (s) => s.get(key)).then((value) => value === undefined ? null : value);
}

export function idbPut(store, key, value) {
  return run(store, 'readwrite', (s) => s.put(value, key)).then(() => undefined);
}

export function idbDelete(store, key) {
  return run(store, 'readwrite', (s) => s.delete(key)).then(() => undefined);
}

export function idbKeys(store) {
  return run(store, 'readonly', (s) => s.getAllKeys()).then((keys) => keys.map(String));
}

export function idbClear() {
  return Promise.all([
    run('docs', 'readwrite', (s) => s.clear()),
    run('meta', 'readwrite', (s) => s.clear()),
  ]).then(() => undefined);
}
