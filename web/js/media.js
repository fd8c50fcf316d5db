// Evidence files (minh chứng) on the phone: preparing a picked file, keeping it, uploading it.
//
// Preparing: an image (camera or gallery) is decoded with its EXIF orientation applied, drawn
// on a canvas at most 1600 px on its longest side and encoded as JPEG (quality 0.85): the canvas
// re-encoding drops every EXIF field, location included. A second JPEG at most 320 px on its
// longest side is the thumbnail, a file of its own. A PDF is kept as it is, up to 10 MiB. The
// SHA-256 of every file is computed here (WebCrypto) and is its id.
//
// Keeping: both files' records and bytes are written to IndexedDB (stores `file_meta` and
// `file_bytes`, see idb.js) in one transaction, committed before the caller writes the evidence
// entry to the document.
//
// Uploading (the outbox): every file whose state is `local` is sent with
// `PUT /api/files/{sha}?commune=` whenever the browser is online, thumbnails and small files
// first; a refusal (4xx but 401, 408, 429) is permanent and kept with the server's message
// (`refused`), anything else (network, 5xx) is retried with exponential backoff (2 s doubling to
// 5 min, with jitter). Resumes after a reload: the state lives in IndexedDB (`uploading` is only
// in memory). Every state change fires `tramyte-files` on window.
//
// Kept offline within a cap (`CAP_BYTES`): beyond it, files already on the server are deleted
// least recently used first; a file not yet on the server is never deleted. The service worker
// (sw.js) answers `GET /api/files/{sha}` from these stores when it holds the file and records
// its use.
//
// Imports idb.js by its relative name: `cargo xtask pwa` fingerprints snippets in name order
// and rewrites the references of those renamed later, so this file's name must sort after it.

import { run } from './idb.js';

export const IMAGE_MAX_SIDE = 1600;
export const THUMBNAIL_MAX_SIDE = 320;
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
const JPEG_QUALITY = 0.85;
const THUMBNAIL_QUALITY = 0.8;
/// Bytes of files already on the server kept on the phone (files not yet uploaded don't count
/// against it and are never evicted).
export const CAP_BYTES = 200 * 1024 * 1024;
const EVENT = 'tramyte-files';

function failure(code, message) {
  const error = new Error(message);
  error.code = code;
  return error;
}

async function sha256(bytes) {
  if (!globalThis.crypto || !crypto.subtle) {
    throw failure('insecure', 'WebCrypto is not available (the app needs HTTPS)');
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

function canvasOf(width, height) {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

function encode(canvas, quality) {
  if (canvas.convertToBlob) return canvas.convertToBlob({ type: 'image/jpeg', quality });
  return new Promise((resolve, reject) => canvas.toBlob(
    (blob) => (blob ? resolve(blob) : reject(failure('unreadable', 'the image could not be encoded'))),
    'image/jpeg', quality,
  ));
}

/// The size an image of `width`×`height` is drawn at so its longest side is at most `max`
/// (never enlarged), aspect ratio kept.
export function fit(width, height, max) {
  const scale = Math.min(1, max / Math.max(width, height));
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

/// `bitmap` (already oriented) as a JPEG at most `max` px on its longest side.
async function drawJpeg(bitmap, max, quality) {
  const [width, height] = fit(bitmap.width, bitmap.height, max);
  const canvas = canvasOf(width, height);
  const context = canvas.getContext('2d');
  // A transparent PNG gets a white page, not a black one.
  context.fillStyle = '#fff';
  context.fillRect(0, 0, width, height);
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = 'high';
  context.drawImage(bitmap, 0, 0, width, height);
  const blob = await encode(canvas, quality);
  return { bytes: new Uint8Array(await blob.arrayBuffer()), width, height };
}

/// An image blob downscaled: `{ image: {bytes, width, height}, thumbnail: {…} }`, EXIF
/// orientation applied, every EXIF field dropped.
export async function downscale(blob) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch (error) {
    throw failure('unreadable', `the image could not be read: ${error && error.message}`);
  }
  try {
    const image = await drawJpeg(bitmap, IMAGE_MAX_SIDE, JPEG_QUALITY);
    const thumbnail = await drawJpeg(bitmap, THUMBNAIL_MAX_SIDE, THUMBNAIL_QUALITY);
    return { image, thumbnail };
  } finally {
    if (bitmap.close) bitmap.close();
  }
}

function isPdf(bytes) {
  return bytes.length >= 5 && String.fromCharCode(...bytes.subarray(0, 5)) === '%PDF-';
}

function record(sha, type, size, name, commune, now) {
  return { sha, type, size, name, commune, state: 'local', reason: null, used: now, added: now, attempts: 0, next: 0 };
}

/// Prepares `file` (a File from an input) and keeps it (and its thumbnail) in IndexedDB for
/// `commune`; resolves once committed with what the evidence entry records:
/// `{ sha256, media_type, size, name, thumbnail }` (thumbnail null for a PDF). Rejects with an
/// Error whose `code` is `too_large`, `unsupported`, `unreadable` or `insecure`.
export async function mediaAttach(file, commune) {
  const name = String(file.name || 'file');
  const now = Date.now();
  const kept = [];
  let main;
  if (file.type === 'application/pdf' || /\.pdf$/i.test(name)) {
    if (file.size > MAX_FILE_BYTES) throw failure('too_large', `${file.size} bytes`);
    const bytes = new Uint8Array(await file.arrayBuffer());
    if (!isPdf(bytes)) throw failure('unsupported', 'not a PDF');
    main = record(await sha256(bytes), 'application/pdf', bytes.length, name, commune, now);
    kept.push([main, bytes]);
  } else if (!file.type || file.type.startsWith('image/')) {
    const { image, thumbnail } = await downscale(file);
    const jpegName = name.replace(/\.[A-Za-z0-9]{1,5}$/, '') + '.jpg';
    const thumb = record(await sha256(thumbnail.bytes), 'image/jpeg', thumbnail.bytes.length, `thumbnail-${jpegName}`, commune, now);
    thumb.thumbnailOf = true;
    main = record(await sha256(image.bytes), 'image/jpeg', image.bytes.length, jpegName, commune, now);
    main.thumbnail = thumb.sha;
    kept.push([thumb, thumbnail.bytes], [main, image.bytes]);
  } else {
    throw failure('unsupported', file.type);
  }
  await run(['file_meta', 'file_bytes'], 'readwrite', (stores) => {
    for (const [meta, bytes] of kept) {
      // The same bytes attached again keep their state (already uploaded stays uploaded).
      const existing = stores.file_meta.get(meta.sha);
      existing.onsuccess = () => {
        if (!existing.result) {
          stores.file_meta.put(meta, meta.sha);
          stores.file_bytes.put(bytes, meta.sha);
        } else {
          stores.file_meta.put({ ...existing.result, used: now }, meta.sha);
        }
      };
    }
  });
  notify();
  kick();
  return {
    sha256: main.sha,
    media_type: main.type,
    size: main.size,
    name,
    thumbnail: main.thumbnail || null,
  };
}

// ---- the outbox ----

const uploading = new Set();
let started = false;
let running = false;
let again = false;
let timer = null;

function notify() {
  if (typeof window !== 'undefined') window.dispatchEvent(new CustomEvent(EVENT));
}

function allMeta() {
  return run('file_meta', 'readonly', (s) => s.getAll()).then((list) => list || []);
}

function update(sha, change) {
  return run('file_meta', 'readwrite', (s) => {
    const request = s.get(sha);
    request.onsuccess = () => {
      if (request.result) s.put({ ...request.result, ...change }, sha);
    };
  });
}

/// Every file the phone holds: `[{sha, state, reason, size, type, name}]`, `state` one of
/// `local`, `uploading`, `server`, `refused`.
export async function mediaStates() {
  const list = await allMeta();
  return list.map((m) => ({
    sha: m.sha,
    state: uploading.has(m.sha) ? 'uploading' : m.state,
    reason: m.reason || null,
    size: m.size,
    type: m.type,
    name: m.name,
  }));
}

function backoff(attempts) {
  const base = Math.min(300000, 2000 * 2 ** Math.min(attempts, 10));
  return base / 2 + Math.random() * (base / 2);
}

function retryable(status) {
  return status >= 500 || status === 401 || status === 408 || status === 429 || status === 0;
}

async function upload(meta) {
  const bytes = await run('file_bytes', 'readonly', (s) => s.get(meta.sha));
  if (!bytes) {
    await update(meta.sha, { state: 'refused', reason: 'bytes missing on this phone' });
    return true;
  }
  let response;
  try {
    response = await fetch(`/api/files/${meta.sha}?commune=${encodeURIComponent(meta.commune || '')}`, {
      method: 'PUT',
      body: bytes,
      credentials: 'same-origin',
      headers: { 'content-type': meta.type },
    });
  } catch (_) {
    const attempts = (meta.attempts || 0) + 1;
    await update(meta.sha, { attempts, next: Date.now() + backoff(attempts) });
    return false;
  }
  if (response.ok) {
    await update(meta.sha, { state: 'server', reason: null, attempts: 0, next: 0 });
    return true;
  }
  let reason = `${response.status}`;
  try {
    const body = await response.json();
    if (body && body.message) reason = body.message;
  } catch (_) { /* not JSON */ }
  if (retryable(response.status)) {
    const attempts = (meta.attempts || 0) + 1;
    await update(meta.sha, { attempts, next: Date.now() + backoff(attempts), reason });
    // 502–504: a proxy answering for a server that is gone, like the network.
    return response.status !== 502 && response.status !== 503 && response.status !== 504;
  }
  await update(meta.sha, { state: 'refused', reason: `${response.status}: ${reason}` });
  return true;
}

/// The files to delete so that those on the server fit in `cap` bytes: least recently used
/// first (`used`, else when added); a file not on the server yet is never chosen.
export function evictions(list, cap) {
  const uploaded = list.filter((m) => m.state === 'server');
  let held = uploaded.reduce((sum, m) => sum + (m.size || 0), 0);
  const gone = [];
  if (held <= cap) return gone;
  const oldest = uploaded.sort((a, b) => (a.used || a.added || 0) - (b.used || b.added || 0));
  for (const m of oldest) {
    if (held <= cap) break;
    held -= m.size || 0;
    gone.push(m.sha);
  }
  return gone;
}

async function evict() {
  const gone = evictions(await allMeta(), CAP_BYTES);
  if (gone.length === 0) return;
  await run(['file_meta', 'file_bytes'], 'readwrite', (stores) => {
    for (const sha of gone) {
      stores.file_meta.delete(sha);
      stores.file_bytes.delete(sha);
    }
  });
}

async function pass() {
  if (running) { again = true; return; }
  running = true;
  let wake = null;
  try {
    const now = Date.now();
    const due = (await allMeta())
      .filter((m) => m.state === 'local')
      .sort((a, b) => (a.size - b.size) || (a.added - b.added));
    for (const meta of due) {
      if ((meta.next || 0) > now) {
        wake = wake === null ? meta.next : Math.min(wake, meta.next);
        continue;
      }
      if (typeof navigator !== 'undefined' && navigator.onLine === false) break;
      uploading.add(meta.sha);
      notify();
      let reachable;
      try {
        reachable = await upload(meta);
      } finally {
        uploading.delete(meta.sha);
        notify();
      }
      if (!reachable) {
        // The server is out of reach: the rest waits for the same backoff.
        const after = await allMeta();
        const next = after.find((m) => m.sha === meta.sha);
        if (next && next.next) wake = wake === null ? next.next : Math.min(wake, next.next);
        break;
      }
    }
    await evict();
  } catch (error) {
    console.warn('evidence outbox', error);
    wake = Date.now() + 10000;
  } finally {
    running = false;
  }
  if (again) { again = false; kick(); return; }
  if (wake !== null) schedule(Math.max(0, wake - Date.now()));
}

function schedule(delay) {
  if (timer !== null) clearTimeout(timer);
  timer = setTimeout(() => { timer = null; pass(); }, delay);
}

/// Runs the outbox now (after an attach, on `online`, on the app's own reconnection).
export function kick() {
  if (!started) return;
  schedule(0);
}

/// Starts the outbox (once): uploads what is pending now and whenever the browser is online.
export function mediaStart() {
  if (started) { kick(); return; }
  started = true;
  window.addEventListener('online', () => {
    // Every file waiting for its backoff goes at once when the network comes back.
    run('file_meta', 'readwrite', (s) => {
      const request = s.getAll();
      request.onsuccess = () => {
        for (const m of request.result || []) {
          if (m.state === 'local' && m.next) s.put({ ...m, next: 0 }, m.sha);
        }
      };
    }).then(kick, kick);
  });
  kick();
}

export function mediaKick() {
  kick();
}

/// Keeps the given files of the phone's own commune offline: each one not held is fetched
/// (`GET /api/files/{sha}`) and kept as on the server. `json` is `[{sha, commune}]`, as JSON.
export async function mediaKeep(json) {
  const list = JSON.parse(json);
  const held = new Set((await allMeta()).map((m) => m.sha));
  for (const { sha, commune } of list) {
    if (held.has(sha)) continue;
    if (typeof navigator !== 'undefined' && navigator.onLine === false) return;
    let response;
    try {
      response = await fetch(`/api/files/${sha}`, { credentials: 'same-origin' });
    } catch (_) {
      return;
    }
    if (!response.ok) continue;
    const bytes = new Uint8Array(await response.arrayBuffer());
    if ((await sha256(bytes)) !== sha) continue;
    const type = (response.headers.get('content-type') || '').split(';')[0].trim();
    const now = Date.now();
    const meta = { ...record(sha, type, bytes.length, sha, commune, now), state: 'server' };
    await run(['file_meta', 'file_bytes'], 'readwrite', (stores) => {
      stores.file_meta.put(meta, sha);
      stores.file_bytes.put(bytes, sha);
    });
  }
  await evict();
  notify();
}
