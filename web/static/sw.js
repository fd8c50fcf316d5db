// tramyte service worker: keeps the app shell for offline use.
// `cargo xtask` replaces the two placeholders below at build time: the version is a hash of every
// shell file, so each deployment installs a new worker and the app offers to reload.
const VERSION = '__TRAMYTE_VERSION__';
const SHELL = __TRAMYTE_SHELL__;
const CACHE = 'tramyte-shell-' + VERSION;
// Files whose names carry a hash of their content (the wasm, the scripts, the styles) never
// change: a new version takes them from the previous version's cache, so an update downloads
// only the files that changed. The others are revalidated (a 304 when unchanged).
const FINGERPRINTED = /\.[0-9a-f]{16}\.[a-z]+$/;

async function fetchForShell(path) {
  if (FINGERPRINTED.test(path)) {
    const kept = await caches.match(path);
    if (kept) return kept;
  }
  const response = await fetch(new Request(path, { cache: FINGERPRINTED.test(path) ? 'default' : 'no-cache' }));
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response;
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const responses = await Promise.all(SHELL.map(async (path) => [path, await fetchForShell(path)]));
    await Promise.all(responses.map(([path, response]) => cache.put(path, response)));
    // The very first install takes over at once; later versions wait until the person reloads.
    if (!self.registration.active) await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('tramyte-shell-') && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'SKIP_WAITING') self.skipWaiting();
});

// Evidence files the phone keeps (IndexedDB `file_meta`/`file_bytes`, written by the app's
// media.js) are answered from there, so thumbnails and files open offline, even those not yet
// uploaded; the rest go to the server. The database is opened without a version and closed after
// each use: the app alone creates and upgrades it, and is never blocked by the worker.
const FILE_PATH = /^\/api\/files\/([0-9a-f]{64})$/;

function openFiles() {
  return new Promise((resolve) => {
    const request = indexedDB.open('tramyte');
    request.onupgradeneeded = () => request.transaction.abort();
    request.onsuccess = () => {
      const db = request.result;
      db.onversionchange = () => db.close();
      if (!db.objectStoreNames.contains('file_meta') || !db.objectStoreNames.contains('file_bytes')) {
        db.close();
        resolve(null);
      } else {
        resolve(db);
      }
    };
    request.onerror = () => resolve(null);
    request.onblocked = () => resolve(null);
  });
}

async function keptFile(sha) {
  const db = await openFiles();
  if (!db) return null;
  try {
    return await new Promise((resolve) => {
      const tx = db.transaction(['file_meta', 'file_bytes'], 'readwrite');
      const meta = tx.objectStore('file_meta').get(sha);
      const bytes = tx.objectStore('file_bytes').get(sha);
      let found = null;
      bytes.onsuccess = () => {
        if (meta.result && bytes.result) {
          found = { type: meta.result.type, bytes: bytes.result };
          tx.objectStore('file_meta').put({ ...meta.result, used: Date.now() }, sha);
        }
      };
      tx.oncomplete = () => resolve(found);
      tx.onerror = () => resolve(found);
      tx.onabort = () => resolve(found);
    });
  } catch (_) {
    return null;
  } finally {
    db.close();
  }
}

async function fileResponse(request, sha) {
  const kept = await keptFile(sha);
  if (!kept) return fetch(request);
  return new Response(kept.bytes, {
    headers: {
      'content-type': kept.type,
      'x-content-type-options': 'nosniff',
      'cache-control': 'private, max-age=31536000, immutable',
    },
  });
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const file = FILE_PATH.exec(url.pathname);
  if (file) {
    event.respondWith(fileResponse(request, file[1]));
    return;
  }
  if (url.pathname.startsWith('/api/') || url.pathname === '/sync' || url.pathname === '/healthz') return;
  if (request.mode === 'navigate') {
    event.respondWith((async () => {
      const shell = await caches.match('/index.html', { cacheName: CACHE });
      return shell || fetch(request);
    })());
    return;
  }
  event.respondWith((async () => {
    const cached = await caches.match(request, { cacheName: CACHE, ignoreSearch: true });
    return cached || fetch(request);
  })());
});
