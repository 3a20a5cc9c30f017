// Opens N keep-alive connections, makes one request on each (so a proxy has
// done its routing and holds its upstream side too), and keeps them idle until
// stdin closes or a line arrives.
//
//   node idle.mjs <port> <count>  → prints `READY <ok> <failed>`
import net from 'node:net';

const [portArg, countArg] = process.argv.slice(2);
const port = Number(portArg);
const count = Number(countArg);
const request = Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, 'latin1');
const CRLFCRLF = Buffer.from('\r\n\r\n');
const sockets = [];
let ok = 0;
let failed = 0;
let started = 0;
const PARALLEL = 100;

function one() {
  if (started >= count) return;
  started++;
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  sockets.push(socket);
  let buf = null;
  let settled = false;
  const settle = (good) => {
    if (settled) return;
    settled = true;
    if (good) ok++;
    else failed++;
    if (ok + failed === count) process.stdout.write(`READY ${ok} ${failed}\n`);
    else one();
  };
  socket.on('connect', () => socket.write(request));
  socket.on('data', (chunk) => {
    if (settled) return;
    buf = buf === null ? chunk : Buffer.concat([buf, chunk]);
    const end = buf.indexOf(CRLFCRLF);
    if (end < 0) return;
    const m = /\r\ncontent-length:\s*(\d+)/.exec(buf.toString('latin1', 0, end).toLowerCase());
    if (buf.length >= end + 4 + (m ? Number(m[1]) : 0)) settle(true);
  });
  socket.on('error', () => settle(false));
  socket.on('close', () => settle(false));
}

for (let i = 0; i < Math.min(PARALLEL, count); i++) one();
process.stdin.on('data', () => done());
process.stdin.on('end', () => done());
function done() {
  for (const s of sockets) s.destroy();
  process.exit(0);
}
setTimeout(done, 120_000).unref();
