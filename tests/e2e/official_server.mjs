// Starts the official @automerge/automerge-repo-sync-server (as its `bin` does) on 127.0.0.1 only:
// PORT (0: any free port) and DATA_DIR as the server reads them; prints
// "official sync server listening on ws://127.0.0.1:PORT" once it accepts connections.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function patchedListen(...args) {
  // express's app.listen(PORT, callback): bind to the loopback address only.
  if (typeof args[0] === 'number' || typeof args[0] === 'string') args.splice(1, 0, '127.0.0.1');
  this.once('listening', () => {
    const { port } = this.address();
    process.stdout.write(`official sync server listening on ws://127.0.0.1:${port}\n`);
  });
  return listen.apply(this, args);
};

await import('@automerge/automerge-repo-sync-server/src/server.js').then(({ Server }) => new Server());
