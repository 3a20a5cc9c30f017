import t from 'tap';
import { backends } from '../../helpers/proxy.js';
import { api } from '../helpers.js';
import { allAnswer, etcdOrExplain, percentile, startEtcd, startFleet } from './etcd.js';

// A change made through any host's config API routes on all three hosts within 1 s: measured over 100 changes.
t.test('a change on one host routes on every host within 1 s (p50/p99 over 100 changes)', async (t) => {
  const bin = etcdOrExplain(t);
  if (bin === undefined) return;
  const etcd = await startEtcd(t, bin);
  const [a, b] = await backends(t, ['a', 'b']);
  const { hosts } = await startFleet(t, etcd, 3, a!.port);
  t.ok(await allAnswer(hosts, 'a') >= 0, 'every host routes the seeded version');

  const times: number[] = [];
  for (let i = 0; i < 100; i++) {
    const writer = hosts[i % 3]!;
    const start = performance.now();
    // Even changes add a newer version (served by b), odd ones remove it again (back to a).
    const res = i % 2 === 0
      ? await api(writer.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: `c${i}`, version: `2.0.${i}`, servers: [{ hostname: '127.0.0.1', port: b!.port }] } })
      : await api(writer.apiPort, 'DELETE', `/configuration/cluster/c${i - 1}`);
    if (res.status !== 202) {
      t.fail(`change ${i} answered ${res.status}: ${res.text}`);
      return;
    }
    const waited = await allAnswer(hosts, i % 2 === 0 ? 'b' : 'a', 5000);
    if (waited < 0) {
      t.fail(`change ${i} did not reach every host within 5 s`);
      return;
    }
    times.push(performance.now() - start);
  }
  times.sort((x, y) => x - y);
  const p50 = percentile(times, 50);
  const p99 = percentile(times, 99);
  t.comment(`propagation to 3 hosts over ${times.length} changes: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms`);
  t.ok(p99 <= 1000, `p99 ${p99.toFixed(1)} ms is within 1 s`);
});
