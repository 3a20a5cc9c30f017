import net from 'node:net';
import t from 'tap';
import { backend, raw } from '../../helpers/net.js';
import { HTTP_MODES, modeOptions, modesExcept } from '../../helpers/modes.js';
import { inTurn, sessionProxy, splitResponses } from './_helpers.js';

const req = (method: string, path: string, extra = ''): string => `${method} ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

for (const m of HTTP_MODES) t.test(`${m}: Content-Length, chunked, HEAD, 204 and 304 responses are framed on one keep-alive connection`, async (t) => {
  const v1 = await backend('v1');
  const v2 = await backend('v2', (req, res) => {
    switch (req.url) {
      case '/cl':
        res.setHeader('Content-Length', '5');
        res.end(req.method === 'HEAD' ? undefined : 'hello');
        return;
      case '/big-head':
        // A HEAD answer announcing a length it does not send (RFC 9110 §9.3.2).
        res.setHeader('Content-Length', '1000');
        res.end();
        return;
      case '/chunked':
        res.write('a');
        setTimeout(() => { res.write('bb'); res.end('ccc'); }, 10);
        return;
      case '/204':
        res.statusCode = 204;
        res.end();
        return;
      case '/304':
        res.statusCode = 304;
        res.end();
        return;
      default:
        res.end('v2');
    }
  });
  const proxy = await sessionProxy(v1.port, v2.port, modeOptions(m));
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); await v2.close(); });

  const methods = ['GET', 'GET', 'HEAD', 'HEAD', 'GET', 'GET', 'GET'];
  const requests = [
    req('GET', '/cl'), req('GET', '/chunked'), req('HEAD', '/cl'), req('HEAD', '/big-head'),
    req('GET', '/204'), req('GET', '/304'), req('GET', '/last', 'Connection: close\r\n'),
  ];
  // Pipelined; on uws in turn (a request read behind one in flight closes the connection there: limit `pipelining`).
  const r = m === 'http+uws' ? await inTurn(proxy.address.port, requests, methods) : await raw(proxy.address.port, requests.join(''));
  t.ok(r.closed, 'the proxy closed after the request that asked for it');
  const resps = splitResponses(r.text, methods);
  t.same(resps.map((x) => x.status), [200, 200, 200, 200, 204, 304, 200], 'seven responses, in order');
  t.same(resps.map((x) => x.body), ['hello', 'abbccc', '', '', '', '', 'v2']);
  t.same(resps[1]!.headers['transfer-encoding'], ['chunked'], 'a chunked body stays chunked');
  t.same(resps[3]!.headers['content-length'], ['1000'], 'HEAD keeps its Content-Length and sends no body');
  for (const x of resps) t.match(x.headers['set-cookie']?.[0], /^dynsoftup=new~[\w-]{16}~[0-9a-z]+;/, `${x.status} carries the session cookie`);
  t.same(resps[6]!.headers['connection'], ['close']);
  t.equal(v2.requests.length, 7, 'the backend saw all seven');
});

for (const m of HTTP_MODES) t.test(`${m}: a close-delimited response ends with the upstream close, and the client connection is closed after it`, async (t) => {
  const v1 = await backend('v1');
  const closer = net.createServer((s) => {
    s.once('data', () => s.end('HTTP/1.1 200 OK\r\nX-Kind: eof\r\n\r\nclose-delimited-body'));
  });
  await new Promise<void>((r) => closer.listen(0, '127.0.0.1', () => r()));
  const port = (closer.address() as net.AddressInfo).port;
  const proxy = await sessionProxy(v1.port, port, modeOptions(m));
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); closer.close(); });
  const r = await raw(proxy.address.port, req('GET', '/'), { ms: m === 'http+uws' ? 500 : 3000 });
  // uWS closes only after an answer written by one `end`; a body streamed in pieces leaves the closing to the
  // client it told (limit `close-after-stream`, asserted by test/core/uws-engine-limits.test.ts).
  if (m !== 'http+uws') t.ok(r.closed);
  const [resp] = splitResponses(r.text, ['GET']);
  t.equal(resp!.body, 'close-delimited-body');
  t.same(resp!.headers['connection'], ['close'], 'the client is told the connection ends with the body');
  t.match(resp!.headers['set-cookie']?.[0], /^dynsoftup=new~[\w-]{16}~[0-9a-z]+;/);
});

for (const m of modesExcept('interim', HTTP_MODES)) t.test(`${m}: Expect: 100-continue: the interim 100 reaches the client without cookies, the final response with them`, async (t) => {
  const v1 = await backend('v1');
  const v2 = await backend('v2', (_req, res, body) => res.end(`got ${body}`));
  const proxy = await sessionProxy(v1.port, v2.port, modeOptions(m));
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); await v2.close(); });
  const s = net.connect(proxy.address.port, '127.0.0.1');
  let text = '';
  s.on('data', (d: Buffer) => { text += d.toString('latin1'); });
  s.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
  const deadline = Date.now() + 3000;
  while (!text.includes('\r\n\r\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  t.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\n$/, 'the 100 arrives before the body is sent, bare');
  s.end('hello');
  await new Promise((r) => s.on('close', r));
  const resps = splitResponses(text, ['POST']);
  t.same(resps.map((x) => x.status), [100, 200]);
  t.equal(resps[0]!.headers['set-cookie'], undefined, 'no Set-Cookie on the 1xx');
  t.match(resps[1]!.headers['set-cookie']?.[0], /^dynsoftup=new~[\w-]{16}~[0-9a-z]+;/, 'Set-Cookie on the final response');
  t.equal(resps[1]!.body, 'got hello');
});

for (const m of modesExcept('interim', HTTP_MODES)) t.test(`${m}: an unsolicited 103 before the final response is passed on without cookies`, async (t) => {
  const v1 = await backend('v1');
  const early = net.createServer((s) => {
    s.once('data', () => s.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => early.listen(0, '127.0.0.1', () => r()));
  const proxy = await sessionProxy(v1.port, (early.address() as net.AddressInfo).port, modeOptions(m));
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); early.close(); });
  const r = await raw(proxy.address.port, req('GET', '/', 'Connection: close\r\n'));
  const resps = splitResponses(r.text, ['GET']);
  t.same(resps.map((x) => x.status), [103, 200]);
  t.same(resps[0]!.headers['link'], ['</a.css>; rel=preload']);
  t.equal(resps[0]!.headers['set-cookie'], undefined);
  t.match(resps[1]!.headers['set-cookie']?.[0], /^dynsoftup=new~[\w-]{16}~[0-9a-z]+;/);
  t.equal(resps[1]!.body, 'ok');
});
