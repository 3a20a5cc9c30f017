import t from 'tap';
import type net from 'node:net';
import { backend, raw, until } from '../../helpers/net.js';
import { HTTP_MODES, modeOptions, modesExcept } from '../../helpers/modes.js';
import { sessionProxy } from './_helpers.js';

const SMUGGLED = 'GET /SMUGGLED HTTP/1.1\r\nHost: x\r\n\r\n';

/** Each is refused with 400 and a close, and nothing reaches a backend (RFC 9112 §§2.2, 5.2, 6.1, 6.3, 7.1). */
const CASES: Array<[string, string]> = [
  ['Content-Length with Transfer-Encoding', `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['differing Content-Length fields', `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 38\r\n\r\n${SMUGGLED}`],
  ['a Content-Length list with different values', `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 38\r\n\r\n${SMUGGLED}`],
  ['Content-Length with a plus sign', `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +38\r\n\r\n${SMUGGLED}`],
  ['chunked not the final coding', `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`],
  ['Transfer-Encoding in HTTP/1.0', `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
  ['an invalid chunk size', `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\n${SMUGGLED}`],
  ['a chunk size with an underscore', `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1_0\r\n0123456789abcdef\r\n0\r\n\r\n`],
  ['a chunk size that overflows', `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF0000000000000005\r\nhello\r\n0\r\n\r\n`],
  ['a chunk line ending in a bare LF', `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\nhello\r\n0\r\n\r\n`],
  ['chunk data longer than its size', `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n`],
  ['a bare LF in the head', `GET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n`],
  ['a bare CR in the head', `GET / HTTP/1.1\r\nHost: x\rCookie: dynsoftup=old\r\n\r\n`],
  ['obs-fold', `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`],
  ['a NUL in a field value', `GET / HTTP/1.1\r\nHost: x\r\nCookie: dynsoftup=old\0junk\r\n\r\n`],
  ['whitespace before the colon', `POST / HTTP/1.1\r\nHost: x\r\nContent-Length : 38\r\n\r\n${SMUGGLED}`],
  ['no Host in HTTP/1.1', `GET / HTTP/1.1\r\nX-A: b\r\n\r\n`],
];

/**
 * The cases uWebSockets.js decides before upshift sees the request (limit
 * `uws-head-checks`; what it does instead is asserted by
 * test/core/uws-engine-limits.test.ts). The rest get upshift's own 400 on
 * both engines.
 */
const UWS_DECIDES: ReadonlySet<string> = new Set([
  'differing Content-Length fields', 'Transfer-Encoding in HTTP/1.0', 'a chunk line ending in a bare LF', 'chunk data longer than its size',
  'a bare LF in the head', 'a bare CR in the head', 'obs-fold', 'a NUL in a field value', 'whitespace before the colon',
]);

/**
 * Doubtful requests that never reach upshift's checks as such on uws: uWS
 * refuses absolute-form and chunked trailers (505) and holds a
 * `Content_Length` field, and the tab after a colon is gone from the head it
 * gives (so the one forwarded is not doubtful). Asserted by
 * test/core/uws-engine-limits.test.ts.
 */
const UWS_READS_ITSELF: ReadonlySet<string> = new Set(['Content-Length after a tab', 'a look-alike Content_Length', 'absolute-form naming another host', 'chunked trailers']);

for (const m of HTTP_MODES) t.test(`${m}: ambiguous framing gets 400 and a close before it reaches a backend`, async (t) => {
  const v1 = await backend('v1');
  const v2 = await backend('v2');
  const proxy = await sessionProxy(v1.port, v2.port, modeOptions(m));
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); await v2.close(); });
  for (const [name, bytes] of CASES) {
    if (m === 'http+uws' && UWS_DECIDES.has(name)) {
      // uWS answers these itself, or holds them (test/core/uws-engine-limits.test.ts): only what follows them is checked here.
      await raw(proxy.address.port, bytes, { ms: 300 });
      continue;
    }
    const r = await raw(proxy.address.port, bytes);
    t.match(r.text, /^HTTP\/1\.1 400 Bad Request\r\n/, `${name}: 400`);
    t.equal(r.text.split('HTTP/1.1 ').length, 2, `${name}: exactly one response`);
    t.ok(r.closed, `${name}: connection closed`);
  }
  if (m === 'http+uws') t.notOk([...v1.requests, ...v2.requests].some((x) => x.url === '/SMUGGLED'), 'nothing behind any of them reached a backend');
  else t.equal(v1.requests.length + v2.requests.length, 0, 'no backend saw any of them');
});

for (const m of modesExcept('pipelining', HTTP_MODES)) t.test(`${m}: a malformed request behind a good one on a keep-alive connection: the good one is answered, then 400 and close`, async (t) => {
  const v1 = await backend('v1');
  const v2 = await backend('v2');
  const proxy = await sessionProxy(v1.port, v2.port, modeOptions(m));
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); await v2.close(); });
  const r = await raw(proxy.address.port, `GET /ok HTTP/1.1\r\nHost: x\r\n\r\nPOST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`);
  t.match(r.text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nv2HTTP\/1\.1 400 Bad Request\r\n/);
  t.ok(r.closed);
  t.same(v2.requests.map((x) => x.url), ['/ok'], 'only the good request reached the backend');
});

for (const m of HTTP_MODES) t.test(`${m}: valid but doubtful requests are answered, then neither connection carries another message`, async (t) => {
  const v1 = await backend('v1');
  const served = new Map<string, net.Socket>();
  const v2 = await backend('v2', (req, res, body) => {
    served.set(req.url ?? '', req.socket);
    res.end(`${req.method} ${req.url} ${body}`);
  });
  const proxy = await sessionProxy(v1.port, v2.port, modeOptions(m));
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); await v2.close(); });
  const doubtful: Array<[string, string]> = [
    ['a GET with a body', 'GET /g HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello'],
    ['Content-Length with leading zeros', 'POST /z HTTP/1.1\r\nHost: x\r\nContent-Length: 005\r\n\r\nhello'],
    ['Content-Length after a tab', 'POST /t HTTP/1.1\r\nHost: x\r\nContent-Length:\t5\r\n\r\nhello'],
    ['a look-alike Content_Length', 'POST /u HTTP/1.1\r\nHost: x\r\nContent_Length: 5\r\n\r\n'],
    ['absolute-form naming another host', 'GET http://elsewhere.example/ HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['%0d%0a in the target', 'GET /a%0d%0aX-Injected:%201 HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['chunked trailers', 'POST /tr HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nHost: evil\r\n\r\n'],
  ];
  // On uws a request read behind one in flight closes the connection (limit `pipelining`): nothing follows there.
  const after = m === 'http+uws' ? '' : 'GET /after HTTP/1.1\r\nHost: x\r\n\r\n';
  for (const [name, bytes] of doubtful) {
    if (m === 'http+uws' && UWS_READS_ITSELF.has(name)) continue;
    const r = await raw(proxy.address.port, `${bytes}${after}`);
    t.match(r.text, /^HTTP\/1\.1 200 OK\r\n/, `${name}: answered`);
    t.match(r.text, /\r\nConnection: close\r\n/, `${name}: with Connection: close`);
    t.notMatch(r.text, /\/after/, `${name}: nothing after it is read from this connection`);
    t.ok(r.closed, `${name}: closed`);
    const upstream = served.get(bytes.split(' ')[1]!);
    t.ok(upstream !== undefined && await until(() => upstream.destroyed), `${name}: its upstream connection was closed, not pooled`);
  }
  t.notOk(v2.requests.some((x) => x.url === '/after'), 'the bytes after a doubtful request never reached the backend');
  const lists = await raw(proxy.address.port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello');
  t.match(lists.text, /^HTTP\/1\.1 400 /, 'a Content-Length list, even of equal values, is refused');
});

