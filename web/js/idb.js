// IndexedDB, promised: the one place the app keeps documents, sync state and evidence files on
// the phone. Object stores: `docs` (document id → automerge bytes), `meta` (key → string), and
// since version 2 `file_meta` (SHA-256 → a file's record: type, size, name, commune, state, last
// used) and `file_bytes` (SHA-256 → its bytes), split so the outbox lists files without reading
// their bytes (see media.js). An upgrade only creates the stores missing: what an older version
// kept survives it.
// Every call opens the database lazily once; every failure rejects with an Error the Rust side
// shows (storage full, private mode, blocked upgrade).

const NAME = 'tramyte';
const VERSION = 2;
export const STORES = ['docs', 'meta', 'file_meta', 'file_bytes'];
let opening = null;

export function open() {
  if (opening) return opening;
  opening = new Promise((resolve, reject) => {
    if (!('indexedDB' in globalThis)) {
      reject(new Error('IndexedDB is not available in this browser'));
      return;
    }
    const request = indexedDB.open(NAME, VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const store of STORES) {
        if (!db.objectStoreNames.contains(store)) db.createObjectStore(store);
      }
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

// Runs `body` in one transaction over `stores` (a name, or a list whose object stores `body`
// receives as an object by name); resolves with the result of the request `body` returns (if
// any) once the transaction is committed.
export function run(stores, mode, body) {
  return open().then((db) => new Promise((resolve, reject) => {
    const tx = db.transaction(stores, mode, { durability: 'strict' });
    let result;
    const request = Array.isArray(stores)
      ? body(Object.fromEntries(stores.map((name) => [name, tx.objectStore(name)])))
      : body(tx.objectStore(stores));
    if (request) request.onsuccess = () => { result = request.result; };
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
  return Promise.all(STORES.map((store) => run(store, 'readwrite', (s) => s.clear())))
    .then(() => undefined);
}
