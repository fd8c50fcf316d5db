// A frame over the server's size limit, sent by Node's `ws` (the websocket of the official
// automerge-repo client in Node): the client must receive the server's `error` message and its
// close frame (code 1009) before the connection ends, even while it is still sending the frame.
// Usage: node oversized_frame.mjs BASE_URL BYTES. Prints what it saw as JSON; exits 0 if the
// error and the close frame arrived, 1 otherwise.
import WebSocket from 'ws';
import { encode, decode } from 'cbor-x';

const url = new URL('/sync', process.argv[2]);
url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
const size = Number(process.argv[3]);
const events = [];
const done = (ok) => {
  process.stdout.write(`${JSON.stringify(events)}\n`);
  process.exit(ok ? 0 : 1);
};
setTimeout(() => done(false), 15000).unref();

const ws = new WebSocket(url.href);
ws.on('open', () =>
  ws.send(encode({ type: 'join', senderId: 'oversized', supportedProtocolVersions: ['1'], peerMetadata: {} })),
);
ws.on('message', (data) => {
  const message = decode(data);
  events.push(message.type === 'error' ? `error: ${message.message}` : message.type);
  if (message.type === 'peer') ws.send(Buffer.alloc(size));
});
ws.on('error', (err) => events.push(`socket error ${err.code || err.message}`));
ws.on('close', (code) => {
  events.push(`close ${code}`);
  done(events.some((e) => e.startsWith('error: bad websocket frame')) && code === 1009);
});
