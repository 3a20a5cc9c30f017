import t, { type Test } from 'tap';
import type { ProxyOptions } from '../../src/core/index.js';
import { figure, request, server, startBackend, startProxy, until, type Child, type ProxyChild, type Sample } from './lib.js';

// Scenario 3: a backend that accepts and never answers, and one that sends a
// response head and then stalls the body. The first-byte timeout answers
// (504) or falls back to the previous version when that is safe (GET, or
// CONCURRENT); the idle timeout cuts a stalled body. Nothing hangs: every
// exchange ends within its timeout plus slack, and the proxy holds no
// connection afterwards. The timeouts leave room for a busy machine: a
// fallback that itself took longer than the first-byte timeout would be
// judged a second failure.
const FIRST_BYTE = 3000;
const IDLE = 1000;
const SLACK = 3000;
const N = 10;

const figures = { exchanges: 0, bounded: 0, served: 0, cut: 0, answered: 0 };

async function world(t: Test, versions: Array<{ uuid: string; behaviour: 'answer' | 'hang' | 'stall'; mode?: string }>): Promise<ProxyChild> {
  const children: Child[] = [];
  const specs: NonNullable<ProxyOptions['versions']> = [];
  for (const [i, v] of versions.entries()) {
    const b = await startBackend(v.uuid, v.behaviour);
    children.push(b);
    specs.push({ uuid: v.uuid, version: `${i + 1}.0`, servers: [server(b.port)], upgradeTransition: { mode: v.mode ?? 'INSTANT', ...(v.mode === 'CONCURRENT' ? { firstByteTimeout: FIRST_BYTE } : {}) } });
  }
  const proxy = await startProxy({ versions: specs, timeouts: { firstByte: FIRST_BYTE, idle: IDLE, connect: 500 } });
  t.teardown(async () => { await proxy.kill(); for (const c of children) await c.kill(); });
  return proxy;
}

async function burst(proxy: ProxyChild, method = 'GET'): Promise<Sample[]> {
  const t0 = Date.now();
  const out = await Promise.all(Array.from({ length: N }, () => request(proxy.port, { method, timeout: 10_000 }, t0)));
  figures.exchanges += out.length;
  return out;
}

function bounded(t: Test, samples: Sample[], limit: number, what: string): void {
  const slowest = samples.reduce((m, s) => Math.max(m, s.end - s.start), 0);
  const ok = samples.filter((s) => s.end - s.start <= limit).length;
  figures.bounded += ok;
  t.equal(ok, samples.length, `${what}: every exchange ended within ${limit} ms (slowest ${slowest} ms)`);
}

async function drained(t: Test, proxy: ProxyChild): Promise<void> {
  t.ok(await until(async () => (await proxy.usage()).connections === 0, 3000), 'the proxy holds no connection afterwards');
}

await t.test('the only version never answers: an error status after the first-byte timeout', async (t) => {
  const proxy = await world(t, [{ uuid: 'v1', behaviour: 'hang' }]);
  const s = await burst(proxy);
  // 504 when the timeout is the answer; 503 when the GET was retried and no
  // other server was left to try. Either way an answer, not a hang.
  t.ok(s.every((x) => x.status === 504 || x.status === 503), `each client gets 504 or 503 (${s.map((x) => x.status).join(',')})`);
  figures.answered += s.filter((x) => x.status === 504 || x.status === 503).length;
  bounded(t, s, FIRST_BYTE + SLACK, 'answers');
  await drained(t, proxy);
});

await t.test('the newest never answers: GETs fall back to the previous version, a POST gets an error status', async (t) => {
  const proxy = await world(t, [{ uuid: 'v1', behaviour: 'answer' }, { uuid: 'v2', behaviour: 'hang' }]);
  // POSTs first, all at once while the newest is still judged: a POST has side
  // effects, it is never sent twice, so the timeout is its answer. (Their
  // timeouts then roll the newest back, and the GETs may find v1 at once.)
  const posts = await burst(proxy, 'POST');
  t.ok(posts.every((x) => x.status === 504), `each POST gets 504 (${posts.map((x) => x.status || x.error).join(',')})`);
  figures.answered += posts.filter((x) => x.status === 504).length;
  bounded(t, posts, FIRST_BYTE + SLACK, 'POSTs');
  const gets = await burst(proxy);
  t.same(gets.map((x) => x.by), Array(N).fill('v1'), `every GET is answered by v1 (${gets.map((x) => `${x.status || x.error}@${x.end - x.start}ms`).join(',')})`);
  figures.served += gets.filter((x) => x.ok).length;
  bounded(t, gets, FIRST_BYTE + SLACK, 'GETs');
  await drained(t, proxy);
});

await t.test('CONCURRENT with a newest that never answers: the previous version answers within the deadline', async (t) => {
  const proxy = await world(t, [{ uuid: 'v1', behaviour: 'answer' }, { uuid: 'v2', behaviour: 'hang', mode: 'CONCURRENT' }]);
  const gets = await burst(proxy);
  t.same(gets.map((x) => x.by), Array(N).fill('v1'), `every GET is answered by v1 (${gets.map((x) => `${x.status || x.error}@${x.end - x.start}ms`).join(',')})`);
  figures.served += gets.filter((x) => x.ok).length;
  bounded(t, gets, FIRST_BYTE + SLACK, 'CONCURRENT GETs');
  const posts = await burst(proxy, 'POST');
  t.ok(posts.every((x) => x.status !== 0), `POSTs are answered, not left hanging (${posts.map((x) => x.status || x.error).join(',')})`);
  figures.answered += posts.filter((x) => x.status !== 0).length;
  bounded(t, posts, FIRST_BYTE + SLACK, 'CONCURRENT POSTs');
  await drained(t, proxy);
});

await t.test('a response head, then a stalled body: the idle timeout cuts it', async (t) => {
  const proxy = await world(t, [{ uuid: 'v1', behaviour: 'stall' }]);
  const s = await burst(proxy);
  t.ok(s.every((x) => x.status === 200 && x.error === 'truncated'), `each client got the head and then a cut, not a clean end (${s.map((x) => `${x.status}/${x.error}`).join(',')})`);
  figures.cut += s.filter((x) => x.error === 'truncated').length;
  bounded(t, s, IDLE + SLACK, 'stalled bodies');
  await drained(t, proxy);
});

figure(t, {
  scenario: '3 hung / stalled backends',
  requests: figures.exchanges,
  errors: figures.exchanges - figures.served,
  faults: `${figures.bounded}/${figures.exchanges} exchanges ended in time (${figures.served} served by a fallback, ${figures.answered} answered 504 or by one version, ${figures.cut} stalled bodies cut)`,
  lost: figures.bounded === figures.exchanges ? 'no hang' : `${figures.exchanges - figures.bounded} hung`,
  notes: `firstByte ${FIRST_BYTE} ms, idle ${IDLE} ms; the errors are the designed answers (504, a cut body) where no version could answer`,
});
