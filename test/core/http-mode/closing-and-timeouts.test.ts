import http from 'node:http';
import net from 'node:net';
import t, { type Test } from 'tap';
import { createProxy, type Proxy, type ProxyOptions } from '../../../src/core/index.js';
import { backend, sleep, until } from '../../helpers/net.js';
import { HTTP_MODES, modeOptions, modesExcept, type ModeName } from '../../helpers/modes.js';

/**
 * http mode's endings and deadlines: a client that asked to close gets its
 * whole answer and a clean FIN; the head, idle, linger and first-byte
 * deadlines fire (the long ones through the proxy's sweep, the short
 * first-byte one through a timer); pipelined requests wait while their
 * client does not read.
 */

async function httpProxy(t: Test, m: ModeName, port: number, extra: ProxyOptions = {}): Promise<Proxy> {
  const proxy = await createProxy({ host: '127.0.0.1', ...modeOptions(m), versions: [{ version: '1.0', servers: [{ hostname: '127.0.0.1', port }] }], ...extra });
  t.teardown(() => proxy.close({ drainTimeout: 0 }));
  return proxy;
}

/** One connection: writes `data`, then reports what came back, how it ended and when. */
function exchange(port: number, data: string, ms = 4000): Promise<{ text: string; how: 'end' | 'error' | 'timeout'; err?: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const s = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    let done = false;
    const finish = (how: 'end' | 'error' | 'timeout', err?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text: Buffer.concat(got).toString('latin1'), how, err, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish('timeout'), ms);
    s.on('data', (d: Buffer) => got.push(d));
    s.on('end', () => finish('end'));
    s.on('error', (e: NodeJS.ErrnoException) => finish('error', e.code));
    s.on('connect', () => { if (data !== '') s.write(data); });
  });
}

for (const m of HTTP_MODES) t.test(`${m}: Connection: close and HTTP/1.0: the whole answer, then a FIN (no reset), for many clients at once`, async (t) => {
  const body = 'x'.repeat(3000);
  const b = await backend('b', (_req, res) => res.end(body));
  t.teardown(() => b.close());
  const proxy = await httpProxy(t, m, b.port);
  const port = proxy.address.port;
  // uWS refuses HTTP/1.0 itself (limit `uws-head-checks`): on uws every client asks to close.
  const runs = await Promise.all(Array.from({ length: 40 }, (_, i) => exchange(port, i % 2 === 0 || m === 'http+uws'
    ? 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
    : 'GET / HTTP/1.0\r\n\r\n')));
  for (const r of runs) {
    if (r.how !== 'end' || !r.text.endsWith(body) || !/^HTTP\/1\.1 200 /.test(r.text) || !/\r\nConnection: close\r\n/i.test(r.text)) {
      t.fail(`bad ending: ${r.how} ${r.err ?? ''} ${JSON.stringify(r.text.slice(0, 120))} (${r.text.length} bytes)`);
      return;
    }
  }
  t.pass('40 of 40 ended with the full body and a FIN');
  t.ok(await until(() => proxy.connections === 0, 2000), 'no connection left open in the proxy');
});

for (const m of modesExcept('pipelining', HTTP_MODES)) t.test(`${m}: a pipelined request behind Connection: close is not answered, and the answer still arrives whole`, async (t) => {
  const b = await backend('b', (req, res) => res.end(`got ${req.url}`));
  t.teardown(() => b.close());
  const proxy = await httpProxy(t, m, b.port);
  const r = await exchange(proxy.address.port, 'GET /1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
  t.match(r.text, /^HTTP\/1\.1 200 [^]*got \/1$/, 'first answered');
  t.notMatch(r.text, /got \/2/, 'second never answered');
  t.equal(r.how, 'end', 'closed with a FIN');
});

for (const m of modesExcept('uws-timeouts', HTTP_MODES)) t.test(`${m}: a connection that says nothing is closed after timeouts.head, without an answer`, async (t) => {
  const b = await backend('b');
  t.teardown(() => b.close());
  const proxy = await httpProxy(t, m, b.port, { timeouts: { head: 300 } });
  const r = await exchange(proxy.address.port, '');
  t.equal(r.text, '', 'no answer');
  t.not(r.how, 'timeout', 'closed by the proxy');
  t.ok(r.ms >= 250 && r.ms < 1500, `closed after ${r.ms} ms (head timeout 300 ms)`);
});

for (const m of modesExcept('uws-timeouts', HTTP_MODES)) t.test(`${m}: a head that stops halfway gets 408 after timeouts.head, counted from its first byte on a kept-alive connection`, async (t) => {
  const b = await backend('b', (_req, res) => res.end('ok'));
  t.teardown(() => b.close());
  const proxy = await httpProxy(t, m, b.port, { timeouts: { head: 400 } });
  const first = await exchange(proxy.address.port, 'GET / HTTP/1.1\r\nHost: x\r\nX-Unfin');
  t.match(first.text, /^HTTP\/1\.1 408 /, '408 for the first head');
  t.ok(first.ms >= 350 && first.ms < 1800, `after ${first.ms} ms`);

  // Second request on a kept-alive connection: the first is answered, then the
  // connection sits idle (longer than the head timeout), then half a head arrives.
  const got = await new Promise<{ text: string; sinceHalf: number }>((resolve) => {
    const s = net.connect(proxy.address.port, '127.0.0.1');
    let text = '';
    let halfAt = 0;
    s.on('data', (d) => { text += d.toString('latin1'); });
    s.on('close', () => resolve({ text, sinceHalf: Date.now() - halfAt }));
    s.on('error', () => {});
    s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    setTimeout(() => { halfAt = Date.now(); s.write('GET / HTTP/1.1\r\nHo'); }, 700);
  });
  t.match(got.text, /^HTTP\/1\.1 200 [^]*ok[^]*HTTP\/1\.1 408 /, 'first answered, the idle time before the second head did not count');
  t.ok(got.sinceHalf >= 350 && got.sinceHalf < 1800, `408 ${got.sinceHalf} ms after the half head`);
});

for (const m of modesExcept('uws-timeouts', HTTP_MODES)) t.test(`${m}: an idle keep-alive connection is closed after timeouts.idle`, async (t) => {
  const b = await backend('b', (_req, res) => res.end('ok'));
  t.teardown(() => b.close());
  const proxy = await httpProxy(t, m, b.port, { timeouts: { idle: 500 } });
  const r = await new Promise<{ text: string; ms: number }>((resolve) => {
    const s = net.connect(proxy.address.port, '127.0.0.1');
    let text = '';
    let answered = 0;
    s.on('data', (d) => { text += d.toString('latin1'); answered ||= Date.now(); });
    s.on('close', () => resolve({ text, ms: Date.now() - answered }));
    s.on('error', () => {});
    s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  });
  t.match(r.text, /^HTTP\/1\.1 200 [^]*ok$/, 'answered, then nothing else');
  t.ok(r.ms >= 400 && r.ms < 2500, `closed ${r.ms} ms after the answer (idle 500 ms)`);
});

for (const m of HTTP_MODES) t.test(`${m}: first-byte deadline: a long one through the sweep, a short one through a timer, both 504`, async (t) => {
  const hung = net.createServer({ allowHalfOpen: true }, (s) => { s.on('data', () => {}); s.on('error', () => {}); });
  await new Promise<void>((r) => hung.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => { hung.close(); });
  const hungPort = (hung.address() as net.AddressInfo).port;
  // head 200 / linger 100 make the sweep run every 25 ms, so a 600 ms deadline is swept and a 200 ms one gets a timer.
  for (const firstByte of [600, 200]) {
    const proxy = await httpProxy(t, m, hungPort, { timeouts: { head: 200, linger: 100, firstByte }, http: { retries: 0 } });
    const r = await exchange(proxy.address.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    t.match(r.text, /^HTTP\/1\.1 504 /, `504 with firstByte ${firstByte}`);
    t.ok(r.ms >= firstByte - 50 && r.ms < firstByte + 1000, `after ${r.ms} ms (deadline ${firstByte} ms)`);
    await proxy.close({ drainTimeout: 0 });
  }
});

for (const m of modesExcept('pipelining', HTTP_MODES)) t.test(`${m}: pipelined requests wait while the client does not read its answers, then all arrive in order`, async (t) => {
  const size = 256 * 1024;
  let served = 0;
  const big = await new Promise<http.Server>((resolve) => {
    const s = http.createServer((req, res) => {
      served++;
      res.setHeader('Content-Length', size + 4);
      res.end(`${req.url!.padEnd(4, '.')}${'z'.repeat(size)}`);
    });
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
  t.teardown(() => { big.closeAllConnections(); big.close(); });
  const proxy = await httpProxy(t, m, (big.address() as net.AddressInfo).port);
  const n = 40;
  let reqs = '';
  for (let i = 0; i < n; i++) reqs += `GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`;
  const s = net.connect(proxy.address.port, '127.0.0.1');
  t.teardown(() => s.destroy());
  await new Promise<void>((r) => s.on('connect', () => r()));
  s.pause();
  s.write(reqs);
  await sleep(800);
  t.ok(served < n, `while the client reads nothing, ${served} of ${n} requests reached the backend`);
  const order: string[] = [];
  let buf = Buffer.alloc(0);
  const done = new Promise<void>((resolve) => {
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const len = Number(/content-length: (\d+)/i.exec(buf.toString('latin1', 0, end))![1]);
        if (buf.length < end + 4 + len) return;
        order.push(buf.toString('latin1', end + 4, end + 8).replace(/\.+$/, ''));
        buf = buf.subarray(end + 4 + len);
        if (order.length === n) resolve();
      }
    });
  });
  s.resume();
  await Promise.race([done, sleep(15_000)]);
  t.same(order, Array.from({ length: n }, (_, i) => `/${i}`), 'every answer, in request order');
});

for (const m of HTTP_MODES) t.test(`${m}: close(): a kept-alive connection gets the answer in flight with Connection: close, then closes; close() does not wait out the drain time`, async (t) => {
  const b = await backend('b', (_req, res) => { setTimeout(() => res.end('slow answer'), 300); });
  t.teardown(() => b.close());
  const proxy = await createProxy({ host: '127.0.0.1', ...modeOptions(m), versions: [{ version: '1.0', servers: [{ hostname: '127.0.0.1', port: b.port }] }] });
  // The test closes it itself; this one (a no-op then) is for a test that stops early.
  t.teardown(() => proxy.close({ drainTimeout: 0 }));
  const s = net.connect(proxy.address.port, '127.0.0.1');
  let text = '';
  const ended = new Promise<string>((resolve) => {
    s.on('data', (d) => { text += d.toString('latin1'); });
    s.on('end', () => resolve('end'));
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
  s.write('GET /1 HTTP/1.1\r\nHost: x\r\n\r\n');
  t.ok(await until(() => text.length > 0, 2000), 'the first answer came');
  s.write('GET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
  await sleep(50);
  const started = Date.now();
  await proxy.close({ drainTimeout: 5000 });
  const took = Date.now() - started;
  t.equal(await ended, 'end', 'the connection ended with a FIN');
  const answers = text.split('HTTP/1.1 200 ').length - 1;
  t.equal(answers, 2, 'both requests answered');
  t.match(text, /HTTP\/1\.1 200 [^]*Connection: close\r\n[^]*slow answer$/, 'the last answer says Connection: close');
  t.ok(took < 2000, `close() took ${took} ms (drain timeout 5000 ms)`);
  s.destroy();
});

for (const m of HTTP_MODES) t.test(`${m}: http.maxPerServer: requests wait for a connection of a busy server; past the connect timeout they go on, and nothing is ejected`, async (t) => {
  let open = 0;
  let most = 0;
  let accepted = 0;
  const slow = http.createServer((_req, res) => { setTimeout(() => res.end('done'), 150); });
  slow.on('connection', (s) => {
    accepted++;
    open++;
    most = Math.max(most, open);
    s.on('close', () => { open--; });
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => { slow.closeAllConnections(); slow.close(); });
  const port = (slow.address() as net.AddressInfo).port;

  const proxy = await httpProxy(t, m, port, { http: { maxPerServer: 2 } });
  const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => exchange(proxy.address.port, `GET /${i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)));
  t.equal(replies.filter((r) => /^HTTP\/1\.1 200 [^]*done$/.test(r.text)).length, 8, 'all 8 answered');
  t.ok(most <= 2, `at most ${most} connections open at once at the backend (limit 2)`);
  t.ok(accepted <= 2, `${accepted} connections opened for 8 requests`);

  // One connection allowed, held for a long time: the second request gives up after timeouts.connect.
  const hold = http.createServer((_req, res) => { setTimeout(() => res.end('late'), 1500); });
  await new Promise<void>((r) => hold.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => { hold.closeAllConnections(); hold.close(); });
  const one = await httpProxy(t, m, (hold.address() as net.AddressInfo).port, { http: { maxPerServer: 1 }, timeouts: { connect: 300 } });
  const first = exchange(one.address.port, 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n', 3000);
  await sleep(100);
  const second = await exchange(one.address.port, 'GET /b HTTP/1.1\r\nHost: x\r\n\r\n', 3000);
  t.match(second.text, /^HTTP\/1\.1 503 /, '503 once the wait ran out');
  t.ok(second.ms >= 250 && second.ms < 1200, `after ${second.ms} ms (connect timeout 300 ms)`);
  t.match((await first).text, /^HTTP\/1\.1 200 [^]*late/, 'the first one still got its answer');
  const st = one.status().versions[0]!.servers[0]!;
  t.equal(st.ejections, 0, 'the busy server was not ejected');
});
