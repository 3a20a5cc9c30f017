// Paced keep-alive client for latency at a fixed rate (wrk2 is not packaged
// in Debian). Each connection sends on an absolute schedule: when a response
// is late the next request goes out at once, so the total rate holds. Latency
// is measured from the moment the request was written to the last byte of
// its response, in microseconds.
//
//   node paced.mjs <port> <path> <rate/s> <connections> <seconds>  → one JSON line
import net from 'node:net';

const [portArg, path, rateArg, connArg, secArg] = process.argv.slice(2);
const port = Number(portArg);
const rate = Number(rateArg);
const conns = Number(connArg);
const seconds = Number(secArg);
const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, 'latin1');
const CRLFCRLF = Buffer.from('\r\n\r\n');

const interval = (conns / rate) * 1e9; // ns between two requests of one connection
const samples = [];
let errors = 0;
let sent = 0;
let stopAt = 0n;
let open = 0;

function startConnection(i, t0) {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  let due = t0 + BigInt(Math.round((i * interval) / conns));
  let sentAt = 0n;
  let buf = null;
  let need = -1; // total bytes of the current response, once its head is read
  let timer;
  open++;

  const send = () => {
    timer = undefined;
    const now = process.hrtime.bigint();
    if (now >= stopAt) {
      socket.end();
      return;
    }
    sentAt = now;
    sent++;
    socket.write(request);
    due += BigInt(Math.round(interval));
  };
  const schedule = () => {
    const wait = Number(due - process.hrtime.bigint()) / 1e6;
    if (wait <= 0) send();
    else timer = setTimeout(send, wait);
  };

  socket.on('connect', schedule);
  socket.on('data', (chunk) => {
    buf = buf === null ? chunk : Buffer.concat([buf, chunk]);
    if (need < 0) {
      const end = buf.indexOf(CRLFCRLF);
      if (end < 0) return;
      const head = buf.toString('latin1', 0, end).toLowerCase();
      const m = /\r\ncontent-length:\s*(\d+)/.exec(head);
      need = end + 4 + (m ? Number(m[1]) : 0);
    }
    if (buf.length < need) return;
    samples.push(Number(process.hrtime.bigint() - sentAt) / 1000);
    buf = buf.length > need ? buf.subarray(need) : null;
    need = -1;
    schedule();
  });
  socket.on('error', () => { errors++; });
  socket.on('close', () => {
    clearTimeout(timer);
    if (--open === 0) report();
  });
}

function pct(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, i)] * 10) / 10;
}

function report() {
  // The first half second is warm-up (connects, JIT) and is left out.
  const sorted = samples.slice(Math.min(Math.floor(rate / 2), samples.length >> 2)).sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({
    rate, connections: conns, seconds, sent, done: samples.length, errors,
    achievedRate: Math.round(samples.length / seconds),
    p50: pct(sorted, 50), p90: pct(sorted, 90), p99: pct(sorted, 99), p999: pct(sorted, 99.9), max: pct(sorted, 100),
  }) + '\n');
  process.exit(0);
}

const t0 = process.hrtime.bigint() + 50_000_000n;
stopAt = t0 + BigInt(Math.round(seconds * 1e9));
for (let i = 0; i < conns; i++) startConnection(i, t0);
// Hard bound: whatever happens, stop.
setTimeout(report, (seconds + 10) * 1000).unref();
