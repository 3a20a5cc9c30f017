import t from 'tap';
import { createProxy, type Proxy } from '../../src/core/proxy.js';
import type { ProxyOptions } from '../../src/core/options.js';
import type { ExchangeRecord, JudgeSink } from '../../src/core/judge/types.js';
import { backend, get, type Backend } from '../helpers/net.js';

import { MODES, modeOptions, type ModeName } from '../helpers/modes.js';

/** A judgement stand-in: retries every 5xx and keeps what the exchange tells it. */
function sink(): JudgeSink & { records: ExchangeRecord[] } {
  const records: ExchangeRecord[] = [];
  return { records, retryOn: (status) => status >= 500, record: (r) => records.push(r) };
}

async function answering(t: Tap, name: string, status: number): Promise<Backend> {
  const b = await backend(name, (_req, res) => {
    res.statusCode = status;
    res.end(name);
  });
  t.teardown(() => b.close());
  return b;
}

type Tap = { teardown(fn: () => unknown): void };

async function twoVersions(t: Tap, mode: ModeName, oldB: Backend, newB: Backend, judge: JudgeSink, extra: ProxyOptions = {}): Promise<Proxy> {
  const proxy = await createProxy({
    host: '127.0.0.1', ...modeOptions(mode), ...extra,
    versions: [
      { uuid: 'old', version: '1.0', servers: [{ hostname: '127.0.0.1', port: oldB.port }] },
      { uuid: 'new', version: '2.0', servers: [{ hostname: '127.0.0.1', port: newB.port }] },
    ],
  }, { judge });
  t.teardown(() => proxy.close({ drainTimeout: 0 }));
  return proxy;
}

for (const mode of MODES) {
  t.test(mode, async (t) => {
    t.test('a newest answering 500 to every GET: the clients get the previous version\'s answer, and judgement both attempts', async (t) => {
      const oldB = await answering(t, 'old', 200);
      const newB = await answering(t, 'new', 500);
      const judge = sink();
      const proxy = await twoVersions(t, mode, oldB, newB, judge);
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await get(proxy.address.port, { path: `/${i}` });
        statuses.push(r.status);
        t.equal(r.body, 'old', `GET ${i} answered by the previous version`);
      }
      t.equal(statuses.filter((s) => s >= 500).length, 0, '0 of the GETs saw a 5xx');
      t.equal(newB.requests.length, 20, 'each GET was tried on the newest first');
      t.equal(judge.records.length, 20, 'one record per request');
      for (const r of judge.records) {
        t.same(r.attempts.map((a) => [a.version.uuid, a.outcome, a.status]), [['new', 'status', 500], ['old', 'good', 200]]);
        t.equal(r.idempotent, true);
        t.ok(r.attempts.every((a) => typeof a.firstByteMs === 'number' && a.firstByteMs >= 0), 'first-byte times');
      }
      const [oldS, newS] = [proxy.status().versions[1]!, proxy.status().versions[0]!];
      t.equal(newS.errors, 20, 'the 500s count as errors of the newest');
      t.equal(oldS.fallbacksIn, 20, 'and each request as a fallback');
    });

    t.test('a POST answered 500 is returned as it came, never sent again', async (t) => {
      const oldB = await answering(t, 'old', 200);
      const newB = await answering(t, 'new', 500);
      const judge = sink();
      const proxy = await twoVersions(t, mode, oldB, newB, judge);
      const r = await get(proxy.address.port, { method: 'POST', body: 'x=1' });
      t.equal(r.status, 500);
      t.equal(r.body, 'new');
      t.equal(oldB.requests.length, 0, 'the previous version never saw the POST');
      t.same(judge.records.map((x) => [x.idempotent, x.attempts.map((a) => a.outcome)]), [[false, ['status']]]);
    });

    t.test('a GET failing on every version gets the last answer (not a 503)', async (t) => {
      const oldB = await answering(t, 'old', 503);
      const newB = await answering(t, 'new', 500);
      const judge = sink();
      const proxy = await twoVersions(t, mode, oldB, newB, judge);
      const r = await get(proxy.address.port);
      t.equal(r.status, 503);
      t.equal(r.body, 'old', 'the previous version\'s own answer, body and all');
      t.same(judge.records[0]?.attempts.map((a) => [a.version.uuid, a.status]), [['new', 500], ['old', 503]]);
    });

    t.test('the retry budget holds when every version fails', async (t) => {
      const oldB = await answering(t, 'old', 502);
      const newB = await answering(t, 'new', 500);
      const proxy = await twoVersions(t, mode, oldB, newB, sink());
      const n = 40;
      for (let i = 0; i < n; i++) {
        const r = await get(proxy.address.port);
        t.ok(r.status >= 500, 'nothing could serve');
      }
      const upstream = oldB.requests.length + newB.requests.length;
      // Defaults: 20 % of the requests, at least 3.
      t.ok(upstream <= 1.2 * n + 3, `the servers saw ${upstream} requests for ${n} (at most ${1.2 * n + 3})`);
      t.ok(upstream > n, 'some were retried');
    });
  });
}
