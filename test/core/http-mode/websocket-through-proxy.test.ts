import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import WebSocket, { WebSocketServer } from 'ws';
import { HTTP_MODES, modeOptions } from '../../helpers/modes.js';
import { sleep, until } from '../../helpers/net.js';
import { sessionProxy } from './_helpers.js';

/** A WebSocket echo server that also names itself in a first text message. */
async function wsBackend(name: string): Promise<{ port: number; wss: WebSocketServer; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.end(name));
  const wss = new WebSocketServer({ server, maxPayload: 64 * 1024 * 1024 });
  wss.on('connection', (ws) => {
    ws.send(`hello from ${name}`);
    ws.on('message', (data, isBinary) => {
      const s = isBinary ? null : data.toString();
      if (s === 'close-4001') ws.close(4001, 'asked to');
      else if (s?.startsWith('flood ')) {
        const n = Number(s.slice(6));
        for (let i = 0; i < n; i++) ws.send(Buffer.alloc(1024 * 1024, i & 0xff));
      } else ws.send(data, { binary: isBinary });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    wss,
    close: () => new Promise<void>((r) => { for (const c of wss.clients) c.terminate(); wss.close(); server.close(() => r()); }),
  };
}

function open(port: number, cookie?: string): Promise<{ ws: WebSocket; next(): Promise<{ data: Buffer; binary: boolean }> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: cookie ? { cookie } : {}, maxPayload: 64 * 1024 * 1024 });
  const queue: Array<{ data: Buffer; binary: boolean }> = [];
  const waiters: Array<(m: { data: Buffer; binary: boolean }) => void> = [];
  ws.on('message', (data, binary) => {
    const m = { data: data as Buffer, binary };
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  const next = (): Promise<{ data: Buffer; binary: boolean }> => new Promise((r) => {
    const m = queue.shift();
    if (m) r(m);
    else waiters.push(r);
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, next }));
    ws.once('error', reject);
  });
}

for (const mode of HTTP_MODES) t.test(`${mode}: WebSocket routed by cookie, frames of every length class, fragments, ping/pong, close codes, backpressure`, async (t) => {
  const v1 = await wsBackend('v1');
  const v2 = await wsBackend('v2');
  const proxy = await sessionProxy(v1.port, v2.port, modeOptions(mode));
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); await v2.close(); });
  const port = proxy.address.port;

  const old = await open(port, 'dynsoftup=old');
  t.equal((await old.next()).data.toString(), 'hello from v1', 'the upgrade is routed by its cookie');
  old.ws.close(1000);

  const { ws, next } = await open(port);
  t.equal((await next()).data.toString(), 'hello from v2', 'no cookie: the newest');

  for (const size of [0, 125, 126, 65535, 65536, 16 * 1024 * 1024]) {
    const payload = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4096) payload[i] = (i / 4096) & 0xff;
    if (size > 0) payload[size - 1] = 0x7f;
    ws.send(payload, { binary: true });
    const echo = await next();
    t.ok(echo.binary && echo.data.equals(payload), `a ${size}-byte binary frame comes back intact`);
  }

  ws.send('frag-', { fin: false });
  ws.send('ment', { fin: false });
  ws.send('ed', { fin: true });
  t.equal((await next()).data.toString(), 'frag-mented', 'a fragmented message is reassembled by the far end');

  const pong = new Promise<Buffer>((r) => ws.once('pong', (d) => r(d)));
  ws.ping('are-you-there');
  t.equal((await pong).toString(), 'are-you-there', 'ping gets its pong through the proxy');

  // Slow reader: the client stops reading while the server floods 64 MiB.
  ws.pause();
  ws.send('flood 64');
  const serverSide = [...v2.wss.clients][0]!;
  t.ok(await until(() => serverSide.bufferedAmount > 8 * 1024 * 1024, 5000), 'the server sees backpressure: the proxy stopped reading instead of buffering');
  await sleep(200);
  const buffered = serverSide.bufferedAmount;
  t.ok(buffered > 8 * 1024 * 1024, `still held back at the server while the client does not read (${buffered} bytes)`);
  ws.resume();
  let corrupted = -1;
  for (let i = 0; i < 64 && corrupted < 0; i++) {
    const m = await next();
    if (m.data.length !== 1024 * 1024 || m.data[0] !== (i & 0xff) || m.data[m.data.length - 1] !== (i & 0xff)) corrupted = i;
  }
  t.equal(corrupted, -1, 'all 64 MiB arrived in order once the client read again (else: the first corrupted message)');

  const closed = new Promise<[number, string]>((r) => ws.once('close', (code, reason) => r([code, reason.toString()])));
  ws.send('close-4001');
  t.same(await closed, [4001, 'asked to'], 'the server\'s close code and reason reach the client');

  const c2 = await open(port);
  await c2.next();
  const serverClosed = new Promise<number>((r) => [...v2.wss.clients].at(-1)!.once('close', (code) => r(code)));
  c2.ws.close(4002, 'bye');
  t.equal(await serverClosed, 4002, 'the client\'s close code reaches the server');
});

t.test('a refused upgrade leaves the connection speaking HTTP', async (t) => {
  const v1 = await wsBackend('v1');
  const plain = http.createServer((req, res) => res.end(`plain ${req.url}`));
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
  const proxy = await sessionProxy(v1.port, (plain.address() as AddressInfo).port);
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); plain.close(); });
  const { raw } = await import('../../helpers/net.js');
  const r = await raw(proxy.address.port, 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  t.match(r.text, /^HTTP\/1\.1 200 OK[\s\S]*plain \/wsHTTP\/1\.1 200 OK[\s\S]*plain \/next$/, 'the upgrade answered as plain HTTP, then the next request');
});
