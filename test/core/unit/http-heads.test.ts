import t from 'tap';
import { forwardRequestHead } from '../../../src/core/http/forward-request.js';
import {
  BadResponseHead,
  headLines,
  parseResponseHead,
  rewriteResponseHead,
  spliceResponseHead,
} from '../../../src/core/http/response-head.js';
import { parseRequestHead, readWholeRequestHead } from '../../../src/core/http/request-head.js';

const L = (s: string) => Buffer.from(s, 'latin1');

/** Parses a whole response head held in `s` (end = buffer length). */
const resp = (s: string, offs: number[] = []) => {
  const b = L(s);
  return parseResponseHead(b, 0, b.length, offs);
};

const reqHead = (s: string) => {
  const b = L(s);
  return { raw: b, head: parseRequestHead(b, b.length) };
};

const NGINX = 'HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n';

t.test('parseResponseHead: an nginx-like head', async (t) => {
  const b = L(NGINX + 'hello');
  const offs: number[] = [];
  const h = parseResponseHead(b, 0, b.length, offs);
  t.equal(h.status, 200);
  t.equal(h.versionMinor, 1);
  t.equal(h.contentLength, 5);
  t.equal(h.chunked, false);
  t.equal(h.otherCoding, false);
  t.equal(h.close, false);
  t.equal(h.plain, true);
  t.equal(h.setCookie, false);
  t.equal(h.end, NGINX.length, 'end is just past the blank line');
  t.equal(b.toString('latin1', h.end), 'hello');
  t.equal(offs.length, 8, 'two offsets per line, four lines');
  t.same(offs, [0, 15, 17, 30, 32, 49, 51, 73]);
  t.strictSame(headLines(b, offs, []), ['HTTP/1.1 200 OK', 'Server: nginx', 'Content-Length: 5', 'Connection: keep-alive']);
  const reused = ['stale', 'lines', 'x', 'y', 'z'];
  t.equal(headLines(b, offs, reused), reused, 'headLines fills and returns the given array');
  t.equal(reused.length, 4, 'headLines clears the array first');
});

t.test('parseResponseHead: a head that does not start at 0', async (t) => {
  const prefix = 'garbage-before';
  const b = L(prefix + NGINX + 'hello');
  const offs: number[] = [9, 9, 9];
  const h = parseResponseHead(b, prefix.length, b.length, offs);
  t.equal(h.end, prefix.length + NGINX.length);
  t.equal(offs[0], prefix.length, 'offs is reset and starts at the status line');
  t.equal(offs.length, 8);
  t.equal(headLines(b, offs, [])[0], 'HTTP/1.1 200 OK');
});

t.test('parseResponseHead: plain, close, setCookie', async (t) => {
  const base = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n';
  const notPlain = [
    'Connection: close',
    'Connection: keep-alive, foo',
    'Keep-Alive: timeout=5',
    'Upgrade: x',
    'TE: trailers',
    'Trailer: x',
    'Proxy-Connection: x',
    'HTTP2-Settings: x',
    'connection: Upgrade',
    'UPGRADE: x',
  ];
  for (const line of notPlain) t.equal(resp(`${base}${line}\r\n\r\n`).plain, false, `${line} makes the head not plain`);
  t.equal(resp(`${base}\r\n`).plain, true, 'no hop-by-hop field: plain');
  t.equal(resp(`${base}Connection: keep-alive\r\n\r\n`).plain, true, 'Connection: keep-alive alone stays plain');
  t.equal(resp(`${base}Connection: Keep-Alive\r\n\r\n`).plain, true, 'keep-alive in any case');
  t.equal(resp(`${base}X-Connection: close\r\nTEA: 1\r\n\r\n`).plain, true, 'names that only look alike are end-to-end');

  t.equal(resp(`${base}Connection: close\r\n\r\n`).close, true);
  t.equal(resp(`${base}Connection: Close\r\n\r\n`).close, true, 'close token in any case');
  t.equal(resp(`${base}Connection: foo, close\r\n\r\n`).close, true, 'close among other tokens');
  t.equal(resp(`${base}Connection: keep-alive\r\n\r\n`).close, false);
  t.equal(resp(`${base}\r\n`).close, false, 'HTTP/1.1 is persistent by default');

  const h10 = resp('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n');
  t.equal(h10.versionMinor, 0);
  t.equal(h10.close, true, 'HTTP/1.0 without keep-alive closes');
  t.equal(resp('HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n').close, false, 'HTTP/1.0 with keep-alive stays open');
  t.equal(resp('HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: foo, keep-alive\r\n\r\n').close, false, 'HTTP/1.0 keep-alive token in a list');

  t.equal(resp(`${base}Set-Cookie: a=1\r\n\r\n`).setCookie, true);
  t.equal(resp(`${base}set-cookie: a=1\r\n\r\n`).setCookie, true);
  t.equal(resp(`${base}SET-COOKIE: a=1\r\n\r\n`).setCookie, true);
  t.equal(resp(`${base}Set-Cookie2: a=1\r\n\r\n`).setCookie, false, 'Set-Cookie2 is not Set-Cookie');
  t.equal(resp(`${base}Set-Cookie: a=1\r\n\r\n`).plain, true, 'a cookie does not make the head unplain');
});

t.test('parseResponseHead: status codes and versions', async (t) => {
  t.equal(resp('HTTP/1.1 404 Not Found\r\n\r\n').status, 404);
  t.equal(resp('HTTP/1.1 101 Switching Protocols\r\n\r\n').status, 101);
  t.equal(resp('HTTP/1.1 599 x\r\n\r\n').status, 599);
  t.equal(resp('HTTP/1.1 204 \r\n\r\n').status, 204, 'empty reason phrase');
  t.equal(resp('HTTP/1.1 304 Not Modified\r\n\r\n').contentLength, -1, 'no Content-Length: -1');
});

t.test('parseResponseHead: framing', async (t) => {
  const base = 'HTTP/1.1 200 OK\r\n';
  t.equal(resp(`${base}Content-Length: 5, 5\r\n\r\n`).contentLength, 5);
  t.equal(resp(`${base}Content-Length: 5\r\nContent-Length: 5\r\n\r\n`).contentLength, 5);
  t.equal(resp(`${base}content-length:   7  \r\n\r\n`).contentLength, 7, 'OWS around the value');
  t.equal(resp(`${base}Content-Length: 0\r\n\r\n`).contentLength, 0);
  t.equal(resp(`${base}Content-Length: 999999999999999\r\n\r\n`).contentLength, 999999999999999, '15 digits are accepted');

  const conflicting = [`${base}Content-Length: 5, 6\r\n\r\n`, `${base}Content-Length: 5\r\nContent-Length: 6\r\n\r\n`, `${base}Content-Length: 5\r\nContent-Length: 5, 6\r\n\r\n`];
  for (const s of conflicting) t.throws(() => resp(s), new BadResponseHead('conflicting Content-Length'), JSON.stringify(s));
  for (const s of conflicting) t.throws(() => resp(s), { name: 'BadResponseHead', message: /conflicting/ });

  for (const v of ['+5', 'abc', '1234567890123456', '-1', '5 5', '0x5', '', '5,']) {
    t.throws(() => resp(`${base}Content-Length: ${v}\r\n\r\n`), { name: 'BadResponseHead', message: /invalid Content-Length/ }, `Content-Length: ${JSON.stringify(v)}`);
  }

  const ch = resp(`${base}Transfer-Encoding: gzip, chunked\r\n\r\n`);
  t.equal(ch.chunked, true);
  t.equal(ch.otherCoding, false);
  t.equal(ch.contentLength, -1);
  t.equal(resp(`${base}Transfer-Encoding: CHUNKED\r\n\r\n`).chunked, true, 'coding in any case');
  t.equal(resp(`${base}Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n`).chunked, true, 'TE lines are joined');
  const gz = resp(`${base}Transfer-Encoding: gzip\r\n\r\n`);
  t.equal(gz.chunked, false);
  t.equal(gz.otherCoding, true);
  t.equal(resp(`${base}Transfer-Encoding: chunked, gzip\r\n\r\n`).otherCoding, true, 'final coding is what counts');

  t.throws(() => resp(`${base}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`), { name: 'BadResponseHead', message: /both/ });
  t.throws(() => resp(`${base}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n`), { name: 'BadResponseHead', message: /both/ }, 'either order');
});

t.test('parseResponseHead: refused heads', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n', /bare CR/],
    ['HTTP/1.1 200 OK\r\nX: a\r\r\n\r\n', /bare CR/],
    ['HTTP/1.1 200 OK\rX: 1\r\n\r\n', /bare CR/],
    ['HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n', /NUL/],
    ['HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n', /obsolete line folding/],
    ['HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\n\r\n', /obsolete line folding/],
    ['HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n', /invalid character in header name/],
    ['HTTP/1.1 200 OK\r\nFo o: 1\r\n\r\n', /invalid character in header name/],
    ['HTTP/1.1 200 OK\r\nX\x01: 1\r\n\r\n', /invalid character in header name/],
    ['HTTP/1.1 200 OK\r\nX(: 1\r\n\r\n', /invalid character in header name/],
    ['HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n', /malformed header line/],
    ['HTTP/1.1 200 OK\r\n: empty-name\r\n\r\n', /malformed header line/],
    ['HTTP/1.1 20\r\n\r\n', /malformed status line/],
    ['HTTP/2.0 200 OK\r\n\r\n', /malformed status line/],
    ['http/1.1 200 OK\r\n\r\n', /malformed status line/],
    ['HTTP/1.1 099 x\r\n\r\n', /malformed status line/],
    ['HTTP/1.2 200 OK\r\n\r\n', /malformed status line/],
    ['HTTP/1.1  200 OK\r\n\r\n', /malformed status line/],
    ['HTTP/1.1 2x0 OK\r\n\r\n', /malformed status line/],
    ['HTTP/1.1 200 OK', /malformed status line/],
    ['\r\n\r\n', /malformed status line/],
  ];
  for (const [s, re] of bad) {
    t.throws(() => resp(s), { name: 'BadResponseHead', message: re }, JSON.stringify(s));
  }
  t.ok(new BadResponseHead('x') instanceof Error);
});

t.test('parseResponseHead: LF-only and mixed line ends', async (t) => {
  const s = 'HTTP/1.1 200 OK\nContent-Length: 2\n\nhi';
  const b = L(s);
  const offs: number[] = [];
  const h = parseResponseHead(b, 0, b.length, offs);
  t.equal(h.status, 200);
  t.equal(h.contentLength, 2);
  t.equal(h.end, s.indexOf('\n\n') + 2);
  t.equal(h.end, 35);
  t.equal(b.toString('latin1', h.end), 'hi');
  t.strictSame(headLines(b, offs, []), ['HTTP/1.1 200 OK', 'Content-Length: 2']);

  const m = 'HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\nhi';
  const hm = resp(m);
  t.equal(hm.end, m.length - 2, 'a CRLF blank line after an LF line ends the head');
});

t.test('spliceResponseHead', async (t) => {
  const b = L(NGINX + 'hello');
  const offs: number[] = [];
  const end = parseResponseHead(b, 0, b.length, offs).end;
  const out = spliceResponseHead(b, offs, end, 5, ['Set-Cookie: a=1\r\n'], 'close');
  t.equal(out.toString('latin1'), 'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nServer: nginx\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
  t.equal(out.length, Buffer.byteLength('HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nServer: nginx\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello'), 'no slack bytes');

  const bare = spliceResponseHead(b, offs, end, 0, null, 'close');
  t.equal(bare.toString('latin1'), 'HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 5\r\nConnection: close\r\n\r\n', 'the body left out');

  const kept = spliceResponseHead(b, offs, end, 5, ['Set-Cookie: a=1\r\n'], null);
  t.equal(kept.toString('latin1'), 'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nServer: nginx\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello', 'no field of ours: the keep-alive field stays');
  t.equal(kept.length, Buffer.byteLength(kept.toString('latin1')), 'no slack bytes');

  const two = spliceResponseHead(b, offs, end, 0, ['Set-Cookie: a=1\r\n', 'Set-Cookie: b=2\r\n'], 'keep-alive');
  t.equal(two.toString('latin1'), 'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nServer: nginx\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n');

  const lf = L('HTTP/1.1 200 OK\nContent-Length: 2\nconnection: keep-alive\n\nhi');
  const lfOffs: number[] = [];
  const lfEnd = parseResponseHead(lf, 0, lf.length, lfOffs).end;
  t.equal(spliceResponseHead(lf, lfOffs, lfEnd, 2, null, null).toString('latin1'), 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nconnection: keep-alive\r\n\r\nhi', 'LF lines go out as CRLF');
  t.equal(spliceResponseHead(lf, lfOffs, lfEnd, 2, null, 'close').toString('latin1'), 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi', 'our Connection field replaces theirs');

  // Runs of CRLF lines are copied whole: a bare LF line or a dropped Connection line in the middle breaks a run, and nothing else changes.
  for (const mixed of [
    'HTTP/1.1 200 OK\r\nA: 1\nB: 2\r\nConnection: keep-alive\r\nC: 3\r\nD: 4\n\r\nhi',
    'HTTP/1.1 200 OK\nA: 1\r\nB: 2\r\nconnection: keep-alive\nC: 3\r\nD: 4\r\n\r\nhi',
    'HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nConnection: keep-alive\r\nC: 3\r\nD: 4\r\n\nhi',
  ]) {
    const m = L(mixed);
    const mOffs: number[] = [];
    const info = parseResponseHead(m, 0, m.length, mOffs);
    t.equal(
      spliceResponseHead(m, mOffs, info.end, 2, ['Set-Cookie: a=1\r\n'], 'close').toString('latin1'),
      'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nConnection: close\r\n\r\nhi',
      JSON.stringify(mixed),
    );
    t.equal(
      spliceResponseHead(m, mOffs, info.end, 2, ['Set-Cookie: a=1\r\n'], null).toString('latin1'),
      'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nA: 1\r\nB: 2\r\nConnection: keep-alive\r\nC: 3\r\nD: 4\r\n\r\nhi'.replace('Connection', mixed.includes('\nconnection') ? 'connection' : 'Connection'),
      `${JSON.stringify(mixed)}, no Connection of ours`,
    );
  }
});

t.test('rewriteResponseHead', async (t) => {
  const lines = ['HTTP/1.1 200 OK', 'Server: x', 'Connection: foo, keep-alive', 'Foo: 1', 'Keep-Alive: timeout=5', 'Set-Cookie: route=b', 'Set-Cookie: other=1', 'Content-Length: 0'];
  t.equal(
    rewriteResponseHead(lines, ['Set-Cookie: route=a\r\n'], ['route'], 'close', false).toString('latin1'),
    'HTTP/1.1 200 OK\r\nSet-Cookie: route=a\r\nServer: x\r\nSet-Cookie: other=1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
  );
  t.equal(
    rewriteResponseHead(lines, null, null, null, false).toString('latin1'),
    'HTTP/1.1 200 OK\r\nServer: x\r\nSet-Cookie: route=b\r\nSet-Cookie: other=1\r\nContent-Length: 0\r\n\r\n',
  );
  t.equal(
    rewriteResponseHead(['HTTP/1.1 200 OK', 'Connection: content-length, host', 'Content-Length: 3', 'Host: h'], null, null, null, false).toString('latin1'),
    'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nHost: h\r\n\r\n',
    'Connection cannot strip framing fields',
  );
  t.equal(
    rewriteResponseHead(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Accept: k', 'TE: x'], null, null, null, true).toString('latin1'),
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: k\r\n\r\n',
    'keepUpgrade keeps Upgrade and Connection only',
  );
});

t.test('forwardRequestHead', async (t) => {
  {
    const { raw, head } = reqHead('GET / HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n');
    t.equal(head.hop, null);
    t.equal(forwardRequestHead(raw, head, false, undefined, undefined), raw, 'nothing to change: the same Buffer');
  }
  {
    const s = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept: */*\r\n\r\n';
    const { raw, head } = reqHead(s);
    t.not(head.hop, null);
    t.same(head.hop, [25, 44]);
    t.equal(raw.toString('latin1', head.hop![0], head.hop![1]), 'Connection: close\r\n');
    const out = forwardRequestHead(raw, head, false, undefined, undefined);
    t.not(out, raw);
    t.equal(out.toString('latin1'), 'GET / HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n');
  }
  {
    const { raw, head } = reqHead('GET / HTTP/1.1\r\nTE: trailers\r\nHost: x\r\nconnection: keep-alive\r\nAccept: */*\r\nProxy-Connection: x\r\n\r\n');
    t.equal(head.hop!.length, 6, 'three hop-by-hop lines');
    t.strictSame(
      [0, 2, 4].map((i) => raw.toString('latin1', head.hop![i], head.hop![i + 1])),
      ['TE: trailers\r\n', 'connection: keep-alive\r\n', 'Proxy-Connection: x\r\n'],
    );
    t.equal(forwardRequestHead(raw, head, false, undefined, undefined).toString('latin1'), 'GET / HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n');
  }
  {
    const { raw, head } = reqHead('GET /p?q=1 HTTP/1.1\r\nHost: x\r\nConnection: foo\r\nFoo: 1\r\nKeep-Alive: 1\r\nAccept: */*\r\n\r\n');
    t.equal(forwardRequestHead(raw, head, false, undefined, undefined).toString('latin1'), 'GET /p?q=1 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n');
  }
  {
    const { raw, head } = reqHead('POST / HTTP/1.1\r\nHost: x\r\nConnection: content-length, transfer-encoding, host\r\nContent-Length: 2\r\n\r\n');
    t.equal(forwardRequestHead(raw, head, false, undefined, undefined).toString('latin1'), 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n', 'Connection cannot strip Host or framing fields');
  }
  {
    const { raw, head } = reqHead('GET / HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n');
    t.equal(forwardRequestHead(raw, head, false, '1.2.3.4', undefined).toString('latin1'), 'GET / HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n');
    t.equal(forwardRequestHead(raw, head, false, undefined, 'for=1.2.3.4').toString('latin1'), 'GET / HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nForwarded: for=1.2.3.4\r\n\r\n');
  }
  {
    const { raw, head } = reqHead('GET / HTTP/1.1\r\nX-Forwarded-For: 9.9.9.9\r\nHost: x\r\nx-forwarded-for: 8.8.8.8\r\nForwarded: for=9.9.9.9\r\n\r\n');
    t.equal(
      forwardRequestHead(raw, head, false, '1.2.3.4', 'for=1.2.3.4').toString('latin1'),
      'GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 9.9.9.9, 8.8.8.8, 1.2.3.4\r\nForwarded: for=9.9.9.9, for=1.2.3.4\r\n\r\n',
    );
    t.equal(
      forwardRequestHead(raw, head, false, '1.2.3.4', undefined).toString('latin1'),
      'GET / HTTP/1.1\r\nHost: x\r\nForwarded: for=9.9.9.9\r\nX-Forwarded-For: 9.9.9.9, 8.8.8.8, 1.2.3.4\r\n\r\n',
      'Forwarded is left alone when not asked for',
    );
  }
  {
    const { raw, head } = reqHead('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n');
    t.equal(head.upgrade, true);
    t.equal(
      forwardRequestHead(raw, head, true, undefined, undefined).toString('latin1'),
      'GET /ws HTTP/1.1\r\nHost: x\r\nSec-WebSocket-Key: k\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
    t.equal(
      forwardRequestHead(raw, head, false, undefined, undefined).toString('latin1'),
      'GET /ws HTTP/1.1\r\nHost: x\r\nSec-WebSocket-Key: k\r\n\r\n',
      'without websocket the upgrade fields are hop-by-hop',
    );
  }
  {
    const { raw, head } = reqHead('GET / HTTP/1.0\r\n\r\n');
    t.equal(forwardRequestHead(raw, head, false, '1.2.3.4', undefined).toString('latin1'), 'GET / HTTP/1.0\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n', 'version kept');
  }
});

t.test('readWholeRequestHead', async (t) => {
  t.equal(readWholeRequestHead(L('GET / HTTP/1.1\r\nHost: x\r\n'), 1024), null, 'no CRLF CRLF yet');
  t.equal(readWholeRequestHead(L(''), 1024), null, 'empty');
  const h = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
  t.equal(readWholeRequestHead(L(h), h.length - 1), null, 'one byte over maxSize');
  t.not(readWholeRequestHead(L(h), h.length), null, 'exactly maxSize is fine');
  t.equal(readWholeRequestHead(L('FOO / HTTP/1.1\r\nHost: x\r\n\r\n'), 1024), null, 'method unknown to http-parser-js');
  t.equal(readWholeRequestHead(L('GET / HTTP/1.1\r\n\r\n'), 1024), null, 'missing Host');
  t.equal(readWholeRequestHead(L('GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n'), 1024), null, 'obs-fold');

  const s = 'POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n';
  const got = readWholeRequestHead(L(s + 'hello'), 1024);
  t.not(got, null);
  t.equal(got!.length, s.length);
  t.equal(got!.method, 'POST');
  t.equal(got!.target, '/u');
  t.equal(got!.contentLength, 5);
  t.equal(got!.hop, null);
  t.equal(readWholeRequestHead(L('PATCH / HTTP/1.1\r\nHost: x\r\n\r\n'), 1024)?.method, 'PATCH');
  t.equal(
    readWholeRequestHead(L('GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: y\r\n\r\n'), 30)?.length,
    27,
    'only the first head counts (a pipelined one may pass maxSize)',
  );
});

t.test('a status code is three digits followed by a space or the end of the line', async (t) => {
  for (const s of ['HTTP/1.1 2000 OK\r\n\r\n', 'HTTP/1.1 200OK\r\n\r\n']) {
    t.throws(() => resp(s), { name: 'BadResponseHead', message: /malformed status line/ }, JSON.stringify(s));
  }
  t.equal(resp('HTTP/1.1 200\r\n\r\n').status, 200, 'no reason phrase');
  t.equal(resp('HTTP/1.1 404 \r\n\r\n').status, 404, 'empty reason phrase');
});

t.test('a field named after a Connection option is removed on the byte path too', async (t) => {
  const { raw, head } = reqHead('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nClose: 1\r\n\r\n');
  t.equal(forwardRequestHead(raw, head, false, undefined, undefined).toString('latin1'), 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
});
