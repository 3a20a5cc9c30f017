import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import WebSocket, { WebSocketServer } from 'ws';
import net from 'node:net';
import { HTTP_MODES, modeOptions, UWS_LOADS } from '../../helpers/modes.js';
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

for (const mode of HTTP_MODES) t.test(`${mode}: a refused upgrade leaves the connection speaking HTTP`, async (t) => {
  const v1 = await wsBackend('v1');
  const plain = http.createServer((req, res) => res.end(`plain ${req.url}`));
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
  const proxy = await sessionProxy(v1.port, (plain.address() as AddressInfo).port, modeOptions(mode));
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); plain.close(); });
  const { raw } = await import('../../helpers/net.js');
  const upgrade = 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
  const next = 'GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
  // uWS closes a connection whose next request comes while one waits (the `pipelining` limit): there, the next one comes later.
  const r = mode === 'http+uws' ? await raw(proxy.address.port, [upgrade, next], { gapMs: 300 }) : await raw(proxy.address.port, upgrade + next);
  t.match(r.text, /^HTTP\/1\.1 200 OK[\s\S]*plain \/wsHTTP\/1\.1 200 OK[\s\S]*plain \/next$/, 'the upgrade answered as plain HTTP, then the next request');
});

/** Resolves with the code and reason of `ws`'s close. */
const closeOf = (ws: WebSocket): Promise<[number, string]> => new Promise((r) => ws.once('close', (code, reason) => r([code, reason.toString()])));

for (const mode of HTTP_MODES) t.test(`${mode}: the upgrade request, the subprotocol, a text and an empty message, close codes both ways`, async (t) => {
  const v1 = await wsBackend('v1');
  let seen: http.IncomingHttpHeaders = {};
  v1.wss.on('headers', (_h, req) => { seen = req.headers; });
  v1.wss.options.handleProtocols = (protocols: Set<string>) => (protocols.has('second') ? 'second' : false);
  const proxy = await sessionProxy(v1.port, v1.port, { ...modeOptions(mode), http: { xForwardedFor: true } });
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); });
  const ws = new WebSocket(`ws://127.0.0.1:${proxy.address.port}/chat?room=1`, ['first', 'second'], { headers: { origin: 'http://app.example', cookie: 'a=1' } });
  const got: string[] = [];
  ws.on('message', (d) => got.push(d.toString()));
  await new Promise((r) => ws.once('open', r));
  t.equal(ws.protocol, 'second', 'the server\'s choice of subprotocol reaches the client');
  t.match(seen, { origin: 'http://app.example', cookie: 'a=1', 'sec-websocket-protocol': 'first,second', 'x-forwarded-for': '127.0.0.1', upgrade: 'websocket' }, 'the server gets the client\'s head with the forwarding fields');
  // The byte tunnel passes the client's offer of permessage-deflate on; the relay re-makes frames, so it offers no extension.
  t.equal(seen['sec-websocket-extensions'], mode === 'http+uws' ? undefined : 'permessage-deflate; client_max_window_bits', 'extensions: offered on as they came (http), none (uws)');
  ws.send('héllo');
  ws.send('');
  t.ok(await until(() => got.length === 3), 'the greeting and both echoes');
  t.same(got, ['hello from v1', 'héllo', ''], 'text messages, an empty one too, come back as sent');
  const closed = closeOf(ws);
  const serverSide = [...v1.wss.clients][0]!;
  const serverHeard = new Promise<[number, string]>((r) => serverSide.once('close', (code, reason) => r([code, reason.toString()])));
  ws.close(1000, 'done here');
  t.same(await serverHeard, [1000, 'done here'], 'the client\'s close code and reason reach the server');
  t.same(await closed, [1000, 'done here'], 'and the client gets the close answered');
  t.ok(await until(() => proxy.connections === 0), 'the relay is gone from the registry');
});

for (const mode of HTTP_MODES) t.test(`${mode}: a server that cannot be reached is failed over; one that answers 403 gives the client that 403`, async (t) => {
  const v1 = await wsBackend('v1');
  const dead = http.createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
  const deadPort = (dead.address() as AddressInfo).port;
  await new Promise<void>((r) => dead.close(() => r()));
  const proxy = await sessionProxy(v1.port, deadPort, modeOptions(mode));
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); });
  const c = await open(proxy.address.port);
  t.equal((await c.next()).data.toString(), 'hello from v1', 'the newest refuses connections: the upgrade went to the previous version');
  c.ws.close();

  const refusing = http.createServer((_req, res) => res.end('no'));
  refusing.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 9\r\nX-Why: origin\r\n\r\nforbidden'));
  await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => { refusing.close(); });
  const p2 = await sessionProxy(v1.port, (refusing.address() as AddressInfo).port, modeOptions(mode));
  t.teardown(() => p2.close({ drainTimeout: 0 }));
  const ws = new WebSocket(`ws://127.0.0.1:${p2.address.port}/ws`);
  const answer = await new Promise<{ status: number; why: string | undefined; body: string }>((resolve, reject) => {
    ws.once('open', () => reject(new Error('upgraded')));
    ws.once('error', () => {});
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, why: res.headers['x-why'] as string | undefined, body }));
    });
  });
  t.same(answer, { status: 403, why: 'origin', body: 'forbidden' }, 'the server\'s 403 goes to the client as an ordinary answer, no upgrade');
});

for (const mode of HTTP_MODES) t.test(`${mode}: a client gone mid-message, a server gone without a close frame, and proxy.close()`, async (t) => {
  const v1 = await wsBackend('v1');
  const messages: number[] = [];
  v1.wss.on('connection', (ws) => ws.on('message', (d) => messages.push((d as Buffer).length)));
  const proxy = await sessionProxy(v1.port, v1.port, modeOptions(mode));
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); });

  // The client sends the first 1000 bytes of a 1 MiB message, then its connection is gone.
  const c = await open(proxy.address.port);
  await c.next();
  const serverSide = [...v1.wss.clients].at(-1)!;
  const serverClosed = new Promise<number>((r) => serverSide.once('close', (code) => r(code)));
  const sock = (c.ws as unknown as { _socket: import('node:net').Socket })._socket;
  const frameHead = Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4]);
  sock.write(Buffer.concat([frameHead, Buffer.alloc(1000)]));
  await sleep(50);
  sock.destroy();
  t.equal(await serverClosed, 1006, 'the server sees the connection cut (1006), not a close frame');
  t.same(messages, [], 'and no part of the message');

  // The server's connection goes without a close frame: the client's is cut too.
  const d = await open(proxy.address.port);
  await d.next();
  const cut = closeOf(d.ws);
  [...v1.wss.clients].at(-1)!.terminate();
  t.equal((await cut)[0], 1006, 'a server cut reaches the client as a cut (1006)');

  // proxy.close() ends the WebSockets still open, on both sides.
  const e = await open(proxy.address.port);
  await e.next();
  const eServer = [...v1.wss.clients].at(-1)!;
  const eServerClosed = new Promise<number>((r) => eServer.once('close', (code) => r(code)));
  const eClosed = closeOf(e.ws);
  await proxy.close({ drainTimeout: 0 });
  const [clientCode] = await eClosed;
  const serverCode = await eServerClosed;
  // http mode pipes bytes and cuts both; the uws relay sends each side 1001 (going away).
  t.same([clientCode, serverCode], mode === 'http+uws' ? [1001, 1001] : [1006, 1006], 'both sides are closed');
});

for (const mode of HTTP_MODES) t.test(`${mode}: a WebSocket idle for timeouts.idle is closed on both sides`, async (t) => {
  const v1 = await wsBackend('v1');
  const proxy = await sessionProxy(v1.port, v1.port, { ...modeOptions(mode), timeouts: { idle: 400 } });
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); });
  const c = await open(proxy.address.port);
  await c.next();
  const serverClosed = new Promise<number>((r) => [...v1.wss.clients][0]!.once('close', (code) => r(code)));
  const [code] = await closeOf(c.ws);
  // http mode cuts an idle tunnel; the uws relay says 1001 (going away) to each side.
  t.equal(code, mode === 'http+uws' ? 1001 : 1006, 'the client\'s side');
  t.equal(await serverClosed, mode === 'http+uws' ? 1001 : 1006, 'the server\'s side');
});

/** A server that answers every upgrade with `answer` (the key's accept value in place of ACCEPT), then writes `after`. */
async function rawWsServer(t: Test, answer: string, after = Buffer.alloc(0)): Promise<number> {
  const server = net.createServer((sock) => {
    sock.on('error', () => {});
    let head = '';
    sock.on('data', function onData(d) {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      sock.off('data', onData);
      const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? '';
      const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      sock.write(Buffer.concat([Buffer.from(answer.replace('ACCEPT', accept), 'latin1'), after]));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => { server.close(); });
  return (server.address() as AddressInfo).port;
}

if (UWS_LOADS) t.test('http+uws: what the relay checks of the server, and a client that floods a server that does not read', async (t) => {
  const ok = '101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n';
  const wrongKey = await rawWsServer(t, `HTTP/1.1 ${ok}Sec-WebSocket-Accept: bm90IHRoZSByaWdodCBvbmU=\r\n\r\n`);
  const deflate = await rawWsServer(t, `HTTP/1.1 ${ok}Sec-WebSocket-Accept: ACCEPT\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`);
  // A masked frame: a server must never mask (RFC 6455 §5.1).
  const masking = await rawWsServer(t, `HTTP/1.1 ${ok}Sec-WebSocket-Accept: ACCEPT\r\n\r\n`, Buffer.from([0x81, 0x82, 1, 2, 3, 4, 0x69 ^ 1, 0x69 ^ 2]));
  const statusOf = async (port: number): Promise<number> => {
    const proxy = await sessionProxy(port, port, modeOptions('http+uws'));
    t.teardown(() => proxy.close({ drainTimeout: 0 }));
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.address.port}/`);
    ws.on('error', () => {});
    return new Promise((r) => ws.once('unexpected-response', (_req, res) => r(res.statusCode ?? 0)));
  };
  t.equal(await statusOf(wrongKey), 502, 'a 101 with the accept value of another key: a bad answer, 502');
  t.equal(await statusOf(deflate), 502, 'a 101 that picks an extension nobody offered: 502');

  const proxy = await sessionProxy(masking, masking, modeOptions('http+uws'));
  t.teardown(() => proxy.close({ drainTimeout: 0 }));
  const ws = new WebSocket(`ws://127.0.0.1:${proxy.address.port}/`);
  t.same(await closeOf(ws), [1014, 'bad frame from the server'], 'a server that breaks the framing: the client gets 1014 (bad gateway)');

  // The server stops reading: uWS cannot stop reading the client, so the relay queues up to its bound, then ends.
  const v1 = await wsBackend('v1');
  const p2 = await sessionProxy(v1.port, v1.port, modeOptions('http+uws'));
  t.teardown(async () => { await p2.close({ drainTimeout: 0 }); await v1.close(); });
  const c = await open(p2.address.port);
  await c.next();
  const serverSide = [...v1.wss.clients][0]! as unknown as { _socket: net.Socket };
  serverSide._socket.pause();
  const closed = closeOf(c.ws);
  for (let i = 0; i < 48; i++) c.ws.send(Buffer.alloc(1024 * 1024));
  t.same(await closed, [1013, 'the server does not read'], 'past 32 MiB queued for a server that does not read: 1013 to the client');
});
