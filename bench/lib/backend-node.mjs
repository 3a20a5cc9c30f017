// Fixed-response HTTP/1.1 backend on raw sockets, used when nginx is not
// installed. It parses just enough to frame requests (head end, Content-Length
// bodies are skipped) and answers from prebuilt buffers, so it costs little
// CPU per request and never becomes the thing being measured.
//
//   node backend-node.mjs   → prints `PORT <n>`
import net from 'node:net';
import { BODIES } from './bodies.mjs';

function response(body, close) {
  const head = `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n` +
    (close ? 'Connection: close\r\n' : '') + '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

const answers = new Map();
for (const [route, body] of Object.entries(BODIES)) {
  answers.set(route, { keep: response(body, false), close: response(body, true) });
}
const notFound = { keep: response(Buffer.from('not found\n'), false), close: response(Buffer.from('not found\n'), true) };

const CRLFCRLF = Buffer.from('\r\n\r\n');

const server = net.createServer({ noDelay: true }, (socket) => {
  let pending = null; // bytes of an incomplete head
  let skip = 0; // body bytes still to discard
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk) => {
    let buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
    pending = null;
    let off = 0;
    const out = [];
    let close = false;
    while (off < buf.length) {
      if (skip > 0) {
        const n = Math.min(skip, buf.length - off);
        skip -= n;
        off += n;
        continue;
      }
      const end = buf.indexOf(CRLFCRLF, off);
      if (end === -1) {
        pending = buf.subarray(off);
        break;
      }
      const head = buf.toString('latin1', off, end);
      off = end + 4;
      const sp1 = head.indexOf(' ');
      const sp2 = head.indexOf(' ', sp1 + 1);
      const target = head.slice(sp1 + 1, sp2);
      const lower = head.toLowerCase();
      const cl = /\r\ncontent-length:\s*(\d+)/.exec(lower);
      if (cl) skip = Number(cl[1]);
      close = /\r\nconnection:\s*close/.test(lower);
      const a = answers.get(target) ?? notFound;
      out.push(close ? a.close : a.keep);
      if (close) break;
    }
    if (out.length === 1) socket.write(out[0]);
    else if (out.length > 1) socket.write(Buffer.concat(out));
    if (close) socket.end();
  });
});
server.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0), backlog: 4096 }, () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
