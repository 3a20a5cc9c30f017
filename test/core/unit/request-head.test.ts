import t from 'tap';
import { parseRequestHead } from '../../../src/core/http/request-head.js';
import { readCookie } from '../../../src/core/index.js';

const head = (s: string) => { const b = Buffer.from(s, 'latin1'); return parseRequestHead(b, b.length); };

t.test('a valid head parses', async (t) => {
  const h = head('GET /a?b=1 HTTP/1.1\r\nHost: x\r\nCookie: a=1; dynsoftup=v1\r\nCookie: dynsoftup=v2\r\nContent-Length: 0\r\n\r\n');
  t.equal(h.method, 'GET');
  t.equal(h.target, '/a?b=1');
  t.same(h.cookies, ['a=1; dynsoftup=v1', 'dynsoftup=v2']);
  t.equal(readCookie(h.cookies, 'dynsoftup'), 'v1', 'first cookie over all Cookie lines wins');
  t.equal(h.contentLength, 0);
  t.equal(head('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n').chunked, true);
  t.equal(head('GET / HTTP/1.0\r\n\r\n').versionMinor, 0, 'HTTP/1.0 needs no Host');
  t.equal(head('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n').contentLength, 5, 'identical CL list is one value');
});

t.test('ambiguous or malformed heads are refused', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', /both Transfer-Encoding and Content-Length/],
    ['GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n', /conflicting Content-Length/],
    ['GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 5\r\n\r\n', /conflicting Content-Length/],
    ['GET / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n', /invalid Content-Length/],
    ['GET / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n', /invalid Content-Length/],
    ['GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\n', /invalid character in header name/],
    ['GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n', /final transfer coding is not chunked/],
    ['GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', /more than once/],
    ['GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,chunked\r\n\r\n', /empty transfer coding/],
    ['GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \x0bchunked\r\n\r\n', /invalid character in header value/],
    ['GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', /HTTP\/1.0/],
    ['GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n', /obsolete line folding/],
    ['GET / HTTP/1.1\r\nHost: x\r\nX: 1\nCookie: a=b\r\n\r\n', /bare LF/],
    ['GET / HTTP/1.1\r\nHost: x\r\nX: 1\rCookie: a=b\r\n\r\n', /bare CR/],
    ['GET / HTTP/1.1\r\nHost: x\r\nCookie: a=b\x00c\r\n\r\n', /NUL/],
    ['GET / HTTP/1.1\r\nHost: x\r\nTransf\x82r-Encoding: chunked\r\n\r\n', /header name/],
    ['GET / HTTP/1.1\r\n\r\n', /missing Host/],
    ['GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', /more than one Host/],
    ['GET  / HTTP/1.1\r\nHost: x\r\n\r\n', /malformed request line/],
    ['GET / HTTP/2.0\r\nHost: x\r\n\r\n', /unsupported protocol/],
    ['GET /a b HTTP/1.1\r\nHost: x\r\n\r\n', /malformed request line/],
    ['G(T / HTTP/1.1\r\nHost: x\r\n\r\n', /invalid method/],
  ];
  for (const [s, re] of bad) t.throws(() => head(s), { code: 'UPS_ERR_BAD_REQUEST', message: re }, JSON.stringify(s.slice(0, 60)));
});

t.test('cookie reading: exact names, first wins, quotes stripped', async (t) => {
  t.equal(readCookie(['xroute=b; ROUTE=b; route_=b; route=a'], 'route'), 'a');
  t.equal(readCookie(['route=a; route=b'], 'route'), 'a');
  t.equal(readCookie(['a=1', 'route="q"'], 'route'), 'q');
  t.equal(readCookie(['route'], 'route'), undefined, 'a name without = is no cookie');
  t.equal(readCookie([' route = v ;x=1'], 'route'), 'v');
  t.equal(readCookie([], 'route'), undefined);
});
