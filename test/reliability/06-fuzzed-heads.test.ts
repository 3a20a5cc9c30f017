import fc from 'fast-check';
import t from 'tap';
import { HeadFinder } from '../../src/core/http/parser.js';
import { parseRequestHead } from '../../src/core/http/request-head.js';
import { collect } from '../helpers/net.js';
import { figure, PROFILE, server, startBackend, startProxy, until } from './lib.js';

// Scenario 6: fuzzed request heads (structured, with every part allowed to
// go wrong) and plain random bytes, 10,000 of them from a fixed seed. Each is
// sent on its own connection, which is then half-closed. The property:
// - the proxy answers or closes within a bound (no hang);
// - what it forwards is exactly what its own head check accepts (the
//   backend's answer says it was forwarded); everything else gets 400 from
//   the proxy, or, when not a byte came, just a close;
// - the proxy process survives all of it and holds no connection after.
const RUNS = PROFILE === 'soak' ? 100_000 : 10_000;
const SEED = 20261122;
const CAP_MS = 3000;

// Each part is usually well formed and sometimes not, so that inputs land on
// both sides of the head check and near its edges.
const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ arbitrary: good, weight: 12 }, { arbitrary: bad, weight: 1 });
const junk = (max: number): fc.Arbitrary<string> => fc.string({ unit: 'binary-ascii', maxLength: max });
const eol = mostly(fc.constant('\r\n'), fc.constantFrom('\n', '\r', '\r\r\n', ''));
const method = mostly(fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'), fc.oneof(fc.constantFrom('CONNECT', 'get', 'G ET', ''), junk(8)));
const target = mostly(fc.constantFrom('/', '/a?b=c', '/x/y.html', 'http://x/'), fc.oneof(fc.constantFrom('*', '//x', '/%00', '/\x7f', ''), junk(12)));
const version = mostly(fc.constantFrom('HTTP/1.1', 'HTTP/1.0'), fc.constantFrom('HTTP/2.0', 'HTTP/1.2', 'http/1.1', 'HTTP/1', 'HTTP/1.1 ', ''));
const name = mostly(
  fc.constantFrom('Content-Length', 'Transfer-Encoding', 'Cookie', 'Connection', 'Accept', 'X-A', 'content-length', 'Host'),
  fc.oneof(fc.constantFrom('Content_Length', 'Upgrade', 'Expect', 'X A', ''), junk(10)),
);
const value = mostly(
  fc.constantFrom('0', '5', 'chunked', 'close', 'keep-alive', 'dynsoftup=v1', 'text/html', '*/*'),
  fc.oneof(fc.constantFrom('-1', '1, 1', '1, 2', '0x10', 'gzip, chunked', 'chunked, gzip', 'upgrade', 'websocket', '100-continue', ''), junk(16)),
);
const colon = mostly(fc.constant(': '), fc.constantFrom(':', ' :', ':\t', ''));
const sp = mostly(fc.constant(' '), fc.constantFrom('  ', '\t', ''));
const structured = fc.record({
  method, sp1: sp, target, sp2: sp, version, eol,
  host: mostly(fc.constant(true), fc.constant(false)),
  headers: fc.array(fc.tuple(name, colon, value, eol), { maxLength: 4 }),
  end: eol,
  body: fc.oneof(fc.constant(''), fc.constant('5\r\nhello\r\n0\r\n\r\n'), junk(24)),
}).map((h) => Buffer.from(
  `${h.method}${h.sp1}${h.target}${h.sp2}${h.version}${h.eol}${h.host ? `Host: localhost${h.eol}` : ''}`
  + `${h.headers.map(([n, c, v, e]) => `${n}${c}${v}${e}`).join('')}${h.end}${h.body}`,
  'latin1',
));
const randomBytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
const input = fc.oneof({ arbitrary: structured, weight: 4 }, { arbitrary: randomBytes, weight: 1 });

/** What upshift's own head check says about these bytes: forward them, or refuse. */
function verdictOf(bytes: Buffer): 'forward' | 'refuse' | 'close' {
  if (bytes.length === 0) return 'close';
  const r = new HeadFinder('REQUEST', 65_536).feed(bytes);
  if (r === null || r instanceof Error) return 'refuse';
  try {
    parseRequestHead(bytes.subarray(0, r.end), r.end);
    return 'forward';
  } catch {
    return 'refuse';
  }
}

interface Outcome { text: string; closed: boolean; ms: number }

async function send(port: number, bytes: Buffer): Promise<Outcome> {
  const t0 = Date.now();
  const r = await collect(port, CAP_MS, (s) => s.end(bytes));
  return { ...r, ms: Date.now() - t0 };
}

/** The first final response: its status and whether a backend sent it. */
function finalResponse(text: string): { status: number; fromBackend: boolean } | null {
  const re = /HTTP\/1\.1 (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const status = Number(m[1]);
    if (status >= 200) return { status, fromBackend: /^x-backend:/im.test(m[2]!) };
  }
  return null;
}

t.test(`${RUNS} fuzzed heads and random byte strings (seed ${SEED})`, async (t) => {
  const v1 = await startBackend('v1');
  const proxy = await startProxy({ versions: [{ uuid: 'v1', version: '1.0', servers: [server(v1.port)] }], timeouts: { head: 2000 } });
  t.teardown(async () => { await proxy.kill(); await v1.kill(); });
  const base = await proxy.usage();

  const tally = { forwarded: 0, refused: 0, closed: 0, slowest: 0 };
  let failure = '';
  try {
    await fc.assert(fc.asyncProperty(input, async (bytes) => {
      const want = verdictOf(bytes);
      const r = await send(proxy.port, bytes);
      tally.slowest = Math.max(tally.slowest, r.ms);
      if (!r.closed) throw new Error(`no answer and no close within ${CAP_MS} ms`);
      const f = finalResponse(r.text);
      if (want === 'forward') {
        if (f === null || !f.fromBackend) throw new Error(`a head our check accepts was not forwarded: ${JSON.stringify(r.text.slice(0, 80))}`);
        tally.forwarded++;
      } else if (want === 'refuse') {
        if (f === null || f.fromBackend || f.status !== 400) throw new Error(`bytes our check refuses were not answered 400 by the proxy: ${JSON.stringify(r.text.slice(0, 80))}`);
        tally.refused++;
      } else {
        if (r.text !== '') throw new Error(`an empty connection got an answer: ${JSON.stringify(r.text.slice(0, 80))}`);
        tally.closed++;
      }
    }), { seed: SEED, numRuns: RUNS, endOnFailure: false });
  } catch (err) {
    failure = (err as Error).message.split('\n').slice(0, 6).join('\n');
  }
  t.equal(failure, '', 'every input got the answer its head check calls for');
  t.ok(proxy.alive(), 'the proxy process survived');
  t.ok(await until(async () => (await proxy.usage()).connections === 0, 5000), 'and holds no connection afterwards');
  const after = await proxy.usage();
  t.ok(after.fds <= base.fds, `open fds back to baseline (${after.fds}, baseline ${base.fds})`);

  figure(t, {
    scenario: '6 fuzzed heads',
    inputs: `${RUNS} (seed ${SEED}): ${tally.forwarded} forwarded, ${tally.refused} refused 400, ${tally.closed} empty`,
    faults: proxy.alive() ? 'process survived' : 'PROCESS DIED',
    lost: `fds ${base.fds} -> ${after.fds}`,
    notes: `slowest answer ${tally.slowest} ms${failure ? `; FAILED: ${failure.split('\n')[0]}` : ''}`,
  });
});
