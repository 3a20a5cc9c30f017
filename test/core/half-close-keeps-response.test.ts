import net from 'node:net';
import t from 'tap';
import { at, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions, modesExcept } from '../helpers/modes.js';

/** Sends a request, shuts the write side at once, reads until EOF. */
function halfClose(port: number, i: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(`GET /r${i} HTTP/1.1\r\nHost: x\r\n\r\n`));
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.on('end', () => resolve(Buffer.concat(got).toString()));
    s.on('error', reject);
    s.setTimeout(5000, () => { s.destroy(); reject(new Error('timeout')); });
  });
}

for (const mode of modesExcept('half-close')) t.test(`${mode}: a client that half-closes right after its request still gets the whole response (200 of 200)`, async (t) => {
  // A backend that keeps its side open after the client's FIN (as HTTP/1.1
  // allows) and answers a little later, so the FIN always arrives first.
  // (node:http aborts pending requests on FIN unless httpAllowHalfOpen is set.)
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    let head = '';
    s.on('data', (d) => {
      head += d;
      const m = /^GET (\S+) /.exec(head);
      if (m && head.includes('\r\n\r\n')) setTimeout(() => s.end(`HTTP/1.1 200 OK\r\nContent-Length: ${8 + m[1]!.length}\r\n\r\nbody of ${m[1]}`), 5);
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => srv.close());
  const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [{ version: '1.0', servers: at((srv.address() as net.AddressInfo).port) }] });
  let ok = 0;
  for (let round = 0; round < 4; round++) {
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => halfClose(proxy.address.port, round * 50 + i).catch(() => '')));
    replies.forEach((r, i) => { if (r.startsWith('HTTP/1.1 200') && r.endsWith(`body of /r${round * 50 + i}`)) ok++; });
  }
  t.equal(ok, 200, '200 of 200 complete responses');
});

t.test('stream: the backend\'s half-close reaches the client and the client can keep sending', async (t) => {
  // A raw backend that reads a line, answers and shuts its write side, then
  // echoes whatever else arrives into its log. Stream mode pipes bytes both
  // ways until EOF; http mode frames the answer and ends the exchange there.
  const after: string[] = [];
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    let first = true;
    s.on('data', (d) => {
      if (first) { first = false; s.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbye'); }
      else after.push(d.toString());
    });
    s.on('end', () => after.push('<fin>'));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => srv.close());
  const proxy = await proxyFor(t, { mode: 'stream', versions: [{ version: '1.0', servers: at((srv.address() as net.AddressInfo).port) }] });
  const c = net.connect({ port: proxy.address.port, host: '127.0.0.1', allowHalfOpen: true });
  c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  let text = '';
  c.on('data', (d) => { text += d; });
  await new Promise<void>((r) => c.on('end', () => r()));
  t.match(text, /bye$/, 'response complete, then EOF');
  c.end('late bytes');
  await new Promise<void>((r) => c.on('close', () => r()));
  await new Promise((r) => setTimeout(r, 50));
  t.same(after, ['late bytes', '<fin>'], 'bytes and FIN after the backend\'s FIN still arrive');
});
