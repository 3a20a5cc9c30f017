import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import t from 'tap';
import WebSocket, { WebSocketServer } from 'ws';
import { MAX_MESSAGE } from '../../src/core/engine/uws/websocket.js';
import { createProxy } from '../../src/core/index.js';
import { raw, sleep } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';
import { UWS_LOADS } from '../helpers/modes.js';

// What uWebSockets.js decides itself on the uws engine (native-notes.md, and
// `UwsLimit` in test/helpers/modes.ts): asserted as it is, so that a build
// that lifts a limit fails here and the limit list gets shorter.

if (!UWS_LOADS) {
  t.test('no uWebSockets.js build here: engine "uws" is refused with the reason', async (t) => {
    await t.rejects(createProxy({ host: '127.0.0.1', port: 0, engine: 'uws' }), { code: 'UPS_ERR_ENGINE_UNAVAILABLE', field: 'engine' });
  });
} else {
  t.test('uws engine: what uWS decides itself', async (t) => {
    const [b] = await backends(t, ['v1'], () => (_req, res) => setTimeout(() => res.end('late'), 150));
    const proxy = await proxyFor(t, { engine: 'uws', versions: [{ version: '1.0', servers: at(b!) }] });
    const port = proxy.address.port;
    const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

    const ok = await raw(port, get('/'), { ms: 1000 });
    t.match(ok.text, /^HTTP\/1\.1 200 OK\r\n[^]*uWebSockets: 20\r\n[^]*\r\n\r\nlate$/, 'an answer (uWS adds its own uWebSockets field)');

    const piped = await raw(port, get('/a') + get('/b'), { ms: 1000 });
    t.same(piped, { text: '', closed: true }, 'pipelining: a request behind one still waiting for its answer closes the connection');

    const later = await raw(port, [get('/a'), get('/b')], { gapMs: 30, ms: 1000 });
    t.same(later, { text: '', closed: true }, 'the same when it comes later on the connection');

    const half = await raw(port, get('/'), { halfClose: true, ms: 1000 });
    t.same(half, { text: '', closed: true }, 'a client\'s FIN after its request closes the connection: the answer is lost');

    t.match((await raw(port, 'GET / HTTP/1.0\r\n\r\n', { ms: 1000 })).text, /^HTTP\/1\.1 505 /, 'HTTP/1.0 is refused: 505');
    t.match((await raw(port, get('/').split(''), { gapMs: 1, ms: 3000 })).text, /^HTTP\/1\.1 505 /, 'a request line in pieces is misread as HTTP/1.0: 505');
    t.match((await raw(port, '\x16\x03\x01binary-hello\r\n\r\n')).text, /^HTTP\/1\.1 505 /, 'bytes that are not HTTP: uWS\'s 505, not upshift\'s 400');
    t.same(await raw(port, get('/', 'X-Bad : 1\r\n'), { ms: 1000 }), { text: '', closed: false },
      'a head uWS cannot parse (a space before a colon): no answer, the connection left open (uWS closes it at about 10 s)');

    // uws-head-checks: heads and bodies uWS reads itself, before upshift's checks (ambiguous-framing-rejected.test.ts).
    t.same(await raw(port, `${get('/')}`.replace('Host: x\r\n', 'Host: x\nX-A: b\r\n'), { ms: 300 }), { text: '', closed: false }, 'a bare LF in the head: no answer, the connection held');
    t.same(await raw(port, 'POST /u HTTP/1.1\r\nHost: x\r\nContent_Length: 5\r\n\r\n', { ms: 300 }), { text: '', closed: false }, 'a Content_Length field: held too');
    t.match((await raw(port, get('http://elsewhere.example/'))).text, /^HTTP\/1\.1 505 /, 'absolute-form: uWS\'s 505');
    t.match((await raw(port, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n', { ms: 1000 })).text, /^HTTP\/1\.1 200 OK\r\n/, 'chunk data longer than its size: uWS decodes it, and it is forwarded');
    const smuggle = await raw(port, `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 38\r\n\r\n${get('/SMUGGLED')}`, { ms: 1000 });
    t.same(smuggle, { text: '', closed: true }, 'differing Content-Length fields: uWS reads the request behind, and closes (not our 400)');
    t.notOk(b!.requests.some((x) => x.url === '/SMUGGLED'), 'what was behind them is not served');

    await sleep(10);
  });

  t.test('uws engine: after a body in pieces the client is told to close, and left to (close-after-stream)', async (t) => {
    const eof = net.createServer((s) => { s.once('data', () => s.end('HTTP/1.1 200 OK\r\n\r\nto-eof')); });
    await new Promise<void>((r) => eof.listen(0, '127.0.0.1', () => r()));
    t.teardown(() => eof.close());
    const proxy = await proxyFor(t, { engine: 'uws', versions: [{ version: '1.0', servers: at((eof.address() as AddressInfo).port) }] });
    const r = await raw(proxy.address.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { ms: 500 });
    t.match(r.text, /^HTTP\/1\.1 200 OK\r\n[^]*Connection: close\r\n[^]*Transfer-Encoding: chunked\r\n\r\n6\r\nto-eof\r\n0\r\n\r\n$/, 'chunked by uWS, with Connection: close');
    t.notOk(r.closed, 'the connection is still open');
  });

  t.test('uws engine: what the WebSocket relay cannot pass on as it came', async (t) => {
    // A server that answers no ping and reads what it gets.
    const server = http.createServer();
    const wss = new WebSocketServer({ server, autoPong: false, maxPayload: 64 * 1024 * 1024 });
    const got: number[] = [];
    wss.on('connection', (ws) => ws.on('message', (d) => got.push((d as Buffer).length)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    t.teardown(() => { for (const c of wss.clients) c.terminate(); wss.close(); server.close(); });
    const proxy = await proxyFor(t, { engine: 'uws', versions: [{ version: '1.0', servers: at((server.address() as AddressInfo).port) }] });
    const open = async (): Promise<WebSocket> => {
      const ws = new WebSocket(`ws://127.0.0.1:${proxy.address.port}/`, { maxPayload: 64 * 1024 * 1024 });
      await new Promise((r) => ws.once('open', r));
      return ws;
    };
    const c = await open();
    const pong = new Promise<string>((r) => c.once('pong', (d) => r(d.toString())));
    c.ping('anyone');
    t.equal(await pong, 'anyone', 'a client\'s ping is answered by uWS itself, though the server answers none');
    c.close();

    const big = await open();
    const closed = new Promise<number>((r) => big.once('close', (code) => r(code)));
    big.send(Buffer.alloc(MAX_MESSAGE + 1));
    t.equal(await closed, 1006, `a client message over ${MAX_MESSAGE} bytes cuts the connection (uWS holds each message whole)`);
    await sleep(50);
    t.same(got, [], 'nothing of it reached the server');

    // A first frame sent with the upgrade request, before the 101 (as some clients do optimistically).
    const early = Buffer.from([0x81, 0x85, 0, 0, 0, 0, ...Buffer.from('early')]);
    const upgrade = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
    const r = await raw(proxy.address.port, Buffer.concat([Buffer.from(upgrade), early]), { ms: 1000 });
    t.match(r.text, /^HTTP\/1\.1 505 /, 'a frame before the 101 is read by uWS as the next request: 505, and the connection closes');
    t.same(got, [], 'the early frame reaches no server');
  });
}
