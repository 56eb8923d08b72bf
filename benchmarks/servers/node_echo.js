// Echo server on Node's `net` module, the baseline a JavaScript user would pick.
//
// Usage: node node_echo.js --port P [--mode line|read] [--limit BYTES] [--lifetime SECONDS]
//
// Listens on 127.0.0.1 only, with TCP_NODELAY on every connection. Line mode echoes every complete line
// received so far (everything up to the last '\n') with one write per 'data' event; read mode echoes each
// chunk as it arrives. When a write is buffered in user space (write() returns false) the socket pauses
// until 'drain', so a peer that does not read cannot make the server buffer without bound. A line longer
// than --limit closes its connection. The process exits after --lifetime seconds (default 3600).
'use strict';
const net = require('net');

const args = { port: -1, mode: 'line', limit: 1 << 20, lifetime: 3600 };
for (let i = 2; i + 1 < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, '');
  if (!(key in args)) {
    console.error(`unknown option ${process.argv[i]}`);
    process.exit(2);
  }
  args[key] = key === 'mode' ? process.argv[i + 1] : Number(process.argv[i + 1]);
}
if (!(args.port >= 0 && args.port <= 65535)) {
  console.error('usage: node node_echo.js --port P [--mode line|read] [--limit BYTES] [--lifetime SECONDS]');
  process.exit(2);
}
setTimeout(() => process.exit(0), args.lifetime * 1000).unref();

const lineMode = args.mode !== 'read';

function send(socket, data) {
  if (!socket.write(data)) {
    socket.pause();
    socket.once('drain', () => socket.resume());
  }
}

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  if (!lineMode) {
    socket.on('data', (chunk) => send(socket, chunk));
    socket.on('end', () => socket.end());
    return;
  }
  let partial = null; // bytes after the last '\n' seen, waiting for the rest of their line
  socket.on('data', (chunk) => {
    const nl = chunk.lastIndexOf(10);
    if (nl < 0) {
      partial = partial ? Buffer.concat([partial, chunk]) : chunk;
      if (partial.length > args.limit) socket.destroy();
      return;
    }
    let lines = chunk.subarray(0, nl + 1);
    if (partial) {
      lines = Buffer.concat([partial, lines]);
      partial = null;
    }
    if (nl + 1 < chunk.length) partial = chunk.subarray(nl + 1);
    send(socket, lines);
  });
  socket.on('end', () => socket.end());
});

server.listen(args.port, '127.0.0.1', () => {
  console.log(`listening on 127.0.0.1:${server.address().port}`);
});
