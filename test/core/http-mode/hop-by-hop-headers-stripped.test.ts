import t from 'tap';
import { backend, raw } from '../../helpers/net.js';
import { HTTP_MODES, modeOptions } from '../../helpers/modes.js';
import { inTurn, sessionProxy, splitResponses } from './_helpers.js';

for (const m of HTTP_MODES) t.test(`${m}: hop-by-hop fields (RFC 9110 §7.6.1) are removed in both directions; end-to-end fields stay`, async (t) => {
  const seen: Array<Record<string, string | string[] | undefined>> = [];
  const v1 = await backend('v1');
  const v2 = await backend('v2', (req, res, body) => {
    seen.push({ ...req.headers, body });
    res.setHeader('Connection', 'X-Resp-Hop');
    res.setHeader('X-Resp-Hop', '1');
    res.setHeader('Keep-Alive', 'timeout=5');
    res.setHeader('Trailer', 'X-Checksum');
    res.setHeader('X-End', 'kept');
    res.end('v2');
  });
  const proxy = await sessionProxy(v1.port, v2.port, modeOptions(m));
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); await v2.close(); });
  // Pipelined; on uws in turn (a request read behind one in flight closes the connection there: limit `pipelining`).
  const send = m === 'http+uws' ? (rs: string[]) => inTurn(proxy.address.port, rs, ['GET', 'POST'], 1000) : (rs: string[]) => raw(proxy.address.port, rs);
  const r = await send([
    'GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n'
      + 'TE: trailers\r\nTrailer: X\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nX-End: kept\r\n\r\n',
    // Naming a framing field in Connection must not make the proxy drop it.
    'POST /p HTTP/1.1\r\nHost: x\r\nConnection: close, Content-Length, Host\r\nContent-Length: 4\r\n\r\nbody',
  ]);
  const [first, second] = seen;
  for (const h of ['connection', 'x-hop', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'http2-settings']) {
    t.equal(first![h], undefined, `${h} does not reach the backend`);
  }
  t.equal(first!['x-end'], 'kept');
  t.equal(first!['host'], 'x');
  t.equal(second!['content-length'], '4', 'Content-Length named in Connection is still sent');
  t.equal(second!['host'], 'x', 'Host named in Connection is still sent');
  t.equal(second!['body'], 'body');
  const resps = splitResponses(r.text, ['GET', 'POST']);
  t.equal(resps.length, 2);
  for (const h of ['x-resp-hop', 'keep-alive', 'trailer']) t.equal(resps[0]!.headers[h], undefined, `${h} does not reach the client`);
  t.equal(resps[0]!.headers['connection'], undefined, 'keep-alive is the HTTP/1.1 default: no Connection field');
  t.same(resps[0]!.headers['x-end'], ['kept']);
  t.same(resps[1]!.headers['connection'], ['close'], 'the client that asked to close is told so');
  // On uws a chunked answer leaves the closing to the client it told (limit `close-after-stream`).
  if (m !== 'http+uws' || resps[1]!.headers['content-length'] !== undefined) t.ok(r.closed);
});

for (const m of HTTP_MODES) t.test(`${m}: Upgrade: h2c is not passed through: the request is served as HTTP/1.1`, async (t) => {
  const v1 = await backend('v1');
  const v2 = await backend('v2', (req, res) => res.end(`upgrade=${req.headers.upgrade ?? 'none'}`));
  const proxy = await sessionProxy(v1.port, v2.port, modeOptions(m));
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); await v2.close(); });
  const requests = ['GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n', 'GET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'];
  // Pipelined; on uws in turn (limit `pipelining`).
  const r = m === 'http+uws' ? await inTurn(proxy.address.port, requests, ['GET', 'GET']) : await raw(proxy.address.port, requests.join(''));
  const resps = splitResponses(r.text, ['GET', 'GET']);
  t.same(resps.map((x) => x.status), [200, 200], 'no 101: both requests are answered in HTTP/1.1');
  t.equal(resps[0]!.body, 'upgrade=none');
});

for (const m of HTTP_MODES) t.test(`${m}: X-Forwarded-For and Forwarded are appended when enabled, and left alone when not`, async (t) => {
  const seen: Array<Record<string, string | string[] | undefined>> = [];
  const v1 = await backend('v1');
  const v2 = await backend('v2', (req, res) => { seen.push(req.headers); res.end('v2'); });
  const on = await sessionProxy(v1.port, v2.port, { ...modeOptions(m), http: { xForwardedFor: true, forwarded: true } });
  const off = await sessionProxy(v1.port, v2.port, modeOptions(m));
  t.teardown(async () => { await on.close({ drainTimeout: 0 }); await off.close({ drainTimeout: 0 }); await v1.close(); await v2.close(); });
  const request = 'GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\nForwarded: for=1.2.3.4\r\nConnection: close\r\n\r\n';
  await raw(on.address.port, request);
  await raw(off.address.port, request);
  t.equal(seen[0]!['x-forwarded-for'], '1.2.3.4, 127.0.0.1');
  t.equal(seen[0]!['forwarded'], 'for=1.2.3.4, for=127.0.0.1;proto=http');
  t.equal(seen[1]!['x-forwarded-for'], '1.2.3.4', 'off: passed as the client sent it');
  t.equal(seen[1]!['forwarded'], 'for=1.2.3.4');
});
