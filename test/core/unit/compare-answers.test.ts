import t from 'tap';
import { AnswerReader, type Answer } from '../../../src/core/compare/answer.js';
import { diffAnswers } from '../../../src/core/compare/diff.js';
import { fieldOf, flatten } from '../../../src/core/compare/flatten.js';
import { DEFAULT_COMPARE } from '../../../src/core/compare/options.js';

/** Reads `bytes` cut into pieces of `step` bytes; returns the answer (null when it could not be read) and how often `settled` ran. */
function read(bytes: string | Buffer, opts: { method?: string; step?: number; eof?: boolean } = {}): { answer: Answer | null; settled: number; state: string } {
  let settled = 0;
  const r = new AnswerReader(opts.method ?? 'GET', DEFAULT_COMPARE, () => settled++);
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1');
  const step = opts.step ?? buf.length;
  for (let i = 0; i < buf.length; i += step) r.feed(buf.subarray(i, i + step));
  if (opts.eof === true) r.end();
  return { answer: r.answer, settled, state: r.state };
}

const json = (body: string, extra = '') => `HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

t.test('flatten: paths keep array order; fields drop the indices', async (t) => {
  t.same([...flatten({ items: [{ price: 1 }, { price: 2, tags: [] }], meta: {}, ok: true, n: null })!], [
    ['items[0].price', '1'], ['items[1].price', '2'], ['items[1].tags', '[]'], ['meta', '{}'], ['ok', 'true'], ['n', 'null'],
  ]);
  t.same([...flatten(3)!], [['$', '3']], 'a root scalar');
  t.same([...flatten([{ id: 'a' }])!], [['[0].id', '"a"']], 'a root array');
  t.equal(flatten(Array.from({ length: 20 }, (_, i) => i), 10), null, 'too many leaves: compared by digest');
  t.equal(fieldOf('items[12].sub[0].price'), 'items[].sub[].price');
  t.equal(fieldOf('total'), 'total');
});

t.test('a JSON answer, whole or one byte at a time, reads the same', async (t) => {
  const wire = json('{"items":[{"price":1}],"total":1}', 'X-Request-Id: abc\r\nDate: Tue, 01 Dec 2026 10:00:00 GMT\r\nETag: "v1"\r\nSet-Cookie: sid=123; Path=/\r\n');
  const whole = read(wire);
  const bytewise = read(wire, { step: 1 });
  t.equal(whole.settled, 1, 'settled once');
  t.equal(whole.state, 'done');
  t.same(bytewise.answer, whole.answer);
  const a = whole.answer!;
  t.equal(a.status, 200);
  t.same([...a.json!], [['items[0].price', '1'], ['total', '1']]);
  t.equal(a.headers.get('x-request-id'), undefined, 'request id ignored');
  t.equal(a.headers.get('date'), undefined, 'date ignored');
  t.equal(a.headers.get('etag'), '"v1"', 'ETag compared');
  t.equal(a.headers.get('set-cookie'), 'sid', 'a cookie by its name only');
  t.equal(a.length, Buffer.byteLength('{"items":[{"price":1}],"total":1}'));
});

t.test('chunked bodies are compared by content, not by how they were cut', async (t) => {
  const one = read('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n');
  const three = read('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;x=y\r\n \r\n5\r\nworld\r\n0\r\nTrailer: 1\r\n\r\n', { step: 3 });
  const length = read('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world');
  t.equal(one.state, 'done');
  t.equal(three.state, 'done');
  t.equal(one.answer!.digest, length.answer!.digest);
  t.equal(three.answer!.digest, length.answer!.digest);
  t.same(diffAnswers(three.answer!, length.answer!, []), [], 'the framing headers are not compared');
  t.equal(read('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n').state, 'failed', 'a broken coding is not compared');
});

t.test('interim heads skipped; HEAD, 204, 304 have no body; a close-delimited body ends at EOF; a cut one fails', async (t) => {
  const r = read(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n${json('{"a":1}')}`, { step: 7 });
  t.equal(r.answer?.status, 200);
  t.same([...r.answer!.json!], [['a', '1']]);
  t.equal(read('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', { method: 'HEAD' }).state, 'done');
  t.equal(read('HTTP/1.1 204 No Content\r\n\r\n').answer?.length, 0);
  const eof = read('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"a":[1,2]}', { eof: true });
  t.same([...eof.answer!.json!], [['a[0]', '1'], ['a[1]', '2']]);
  const cut = read('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', { eof: true });
  t.equal(cut.state, 'failed');
  t.equal(cut.settled, 1);
  t.equal(read('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n').state, 'failed', 'an upgrade is not compared');
  t.equal(read('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab').state, 'failed', 'a head the proxy would refuse');
});

t.test('a JSON body over the limit, a coded one, or one that does not parse is compared by digest', async (t) => {
  let settled = 0;
  const small = new AnswerReader('GET', { ...DEFAULT_COMPARE, jsonLimit: 10 }, () => settled++);
  small.feed(Buffer.from(json('{"a":"0123456789"}')));
  t.equal(small.answer!.json, null);
  t.equal(read(json('{"a":1}', 'Content-Encoding: gzip\r\n')).answer!.json, null);
  t.equal(read(json('{"a":')).answer!.json, null);
  t.not(read(json('{"a":1}', 'Content-Encoding: identity\r\n')).answer!.json, null);
  t.equal(read(`HTTP/1.1 200 OK\r\nContent-Type: application/problem+json\r\nContent-Length: 2\r\n\r\n{}`).answer!.json?.get('$'), '{}');
});

t.test('a 5 MiB body is read by digest as it streams', async (t) => {
  const piece = Buffer.alloc(64 * 1024, 7);
  const r = new AnswerReader('GET', DEFAULT_COMPARE, () => {});
  r.feed(Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${80 * piece.length}\r\n\r\n`));
  for (let i = 0; i < 80; i++) r.feed(piece);
  t.equal(r.state, 'done');
  t.equal(r.answer!.length, 80 * piece.length);
  t.equal(r.answer!.json, null, 'over the JSON limit: pieces dropped, digest only');
});

t.test('diffAnswers names each differing field once, with a truncated sample', async (t) => {
  const a = read(json(JSON.stringify({ items: [{ price: 1 }, { price: 1 }], name: 'x'.repeat(300), only: 1 }), 'X-Mode: a\r\n')).answer!;
  const b = read(json(JSON.stringify({ items: [{ price: 2 }, { price: 3 }], name: 'y'.repeat(300) }), 'X-Mode: b\r\n')).answer!;
  const d = diffAnswers(a, b, []);
  t.same(d.map((x) => x.field), ['header:x-mode', 'items[].price', 'name', 'only']);
  t.same(d[1], { field: 'items[].price', a: '1', b: '2' }, 'the first element gives the sample');
  t.equal(d[2]!.a.length, 120, 'samples are cut');
  t.same(d[3], { field: 'only', a: '1', b: '(absent)' });
  t.same(diffAnswers(a, b, ['name', 'only', 'header:x-mode', 'items[].price']), [], 'ignored fields');
  const text = read('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab').answer!;
  const other = read('HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nac').answer!;
  t.same(diffAnswers(text, other, []).map((x) => x.field), ['status', 'body']);
  t.same(diffAnswers(text, a, []).map((x) => x.field), ['header:content-type', 'header:x-mode', 'body'], 'JSON against not JSON');
});
