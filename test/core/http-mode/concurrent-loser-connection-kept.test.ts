import t, { type Test } from 'tap';
import type { Proxy } from '../../../src/core/index.js';
import { backend, until } from '../../helpers/net.js';
import { HTTP_MODES, modeOptions, type ModeName } from '../../helpers/modes.js';
import { proxyFor, at } from '../../helpers/proxy.js';
import { keepAliveClient } from './_helpers.js';

// CONCURRENT in http mode: the losing leg's pooled connection carried the
// whole request; when its answer is short it is read to the end and the
// connection goes back to the pool, so many CONCURRENT requests need few
// upstream connections. A long answer is not read: its connection closes.

const N = 40;

/** The previous version's server has no connection lent out: the loser's answer was read (or given up). */
function settled(proxy: Proxy): boolean {
  const old = proxy.status().versions.find((v) => v.version === '1.0')!;
  return old.servers[0]!.active === 0;
}

/** Both versions answer alike (so the comparison of their answers finds no difference): `answer` says how. */
async function pair(t: Test, m: ModeName, answer: (path: string) => { body: string; chunked?: boolean }, compare = true) {
  const conns = { old: 0, new: 0 };
  const handler = (req: { url?: string }, res: import('node:http').ServerResponse): void => {
    const a = answer(req.url ?? '/');
    if (!a.chunked) res.setHeader('Content-Length', Buffer.byteLength(a.body));
    res.end(a.body);
  };
  const n = await backend('new', handler);
  const o = await backend('old', handler);
  n.server.on('connection', () => conns.new++);
  o.server.on('connection', () => conns.old++);
  t.teardown(async () => { await n.close(); await o.close(); });
  const proxy = await proxyFor(t, { ...modeOptions(m), compare: { enabled: compare }, versions: [
    { version: '1.0', servers: at(o) },
    { version: '2.0', servers: at(n), upgradeTransition: { mode: 'CONCURRENT', firstByteTimeout: 2000 } },
  ] });
  const client = keepAliveClient(proxy.address.port);
  t.teardown(() => client.close());
  return { conns, o, n, client, proxy };
}

for (const m of HTTP_MODES) for (const compare of [true, false]) t.test(`${m}: the losing leg's connection is reused when its answer is short (length or chunked), answers ${compare ? '' : 'not '}compared`, async (t) => {
  const { conns, o, client, proxy } = await pair(t, m, (path) => ({ body: `same ${path}`, chunked: path.includes('chunked') }), compare);
  for (let i = 0; i < N; i++) {
    const r = await client.request({ path: i % 2 === 0 ? `/r${i}` : `/chunked${i}` });
    t.equal(r.body, `same ${i % 2 === 0 ? `/r${i}` : `/chunked${i}`}`, `request ${i} answered`);
    // The loser's answer is read to its end before its connection is free again.
    t.ok(await until(() => o.requests.length === i + 1 && settled(proxy)), `request ${i}: the loser settled`);
  }
  t.equal(o.requests.length, N, 'the previous version got every request');
  t.ok(conns.new <= 2, `the newest used ${conns.new} connection(s) for ${N} requests`);
  t.ok(conns.old <= 3, `the previous version used ${conns.old} connection(s) for ${N} requests, not one each`);
});

for (const m of HTTP_MODES) for (const compare of [true, false]) t.test(`${m}: a losing answer longer than what is read for it closes its connection, answers ${compare ? '' : 'not '}compared`, async (t) => {
  const big = 'x'.repeat(256 * 1024);
  const { conns, o, client, proxy } = await pair(t, m, () => ({ body: big }), compare);
  const rounds = 6;
  for (let i = 0; i < rounds; i++) {
    t.equal((await client.request({ path: `/big${i}` })).body.length, big.length);
    t.ok(await until(() => o.requests.length === i + 1 && settled(proxy)), `request ${i}: the loser settled`);
  }
  t.equal(conns.old, rounds, 'every request opened a connection to the previous version');
  t.equal(proxy.status().versions.find((v) => v.version === '1.0')!.servers[0]!.idle, 0, 'none was kept');
});

for (const m of HTTP_MODES) t.test(`${m}: a losing answer to HEAD (no body) keeps its connection`, async (t) => {
  const { conns, o, client, proxy } = await pair(t, m, () => ({ body: 'a body' }));
  for (let i = 0; i < 10; i++) {
    const r = await client.request({ method: 'HEAD', path: `/h${i}` });
    t.equal(r.status, 200);
    t.ok(await until(() => o.requests.length === i + 1 && settled(proxy)), `request ${i}: the loser settled`);
  }
  t.ok(conns.old <= 2, `HEAD: the previous version used ${conns.old} connection(s) for 10 requests`);
});
