import t from 'tap';
import { get, until } from '../../helpers/net.js';
import { backends } from '../../helpers/proxy.js';
import { bucketOf } from '../../../src/core/index.js';
import { api } from '../helpers.js';
import { etcdOrExplain, startEtcd, startFleet } from './etcd.js';

const shareOn = async (port: number): Promise<number | undefined> => (await api(port, 'GET', '/status')).json.versions.find((v: { uuid: string }) => v.uuid === 'v2')?.percentage;

// One GRADUAL share for the whole fleet: every host adds its good answers to it, every host
// applies it within 1 s, so a client keeps its version whichever host it reaches.
t.test('50 clients with fixed cookies get the same version from every host while the share grows', async (t) => {
  const bin = etcdOrExplain(t);
  if (bin === undefined) return;
  const etcd = await startEtcd(t, bin);
  const [a, b] = await backends(t, ['a', 'b']);
  const { hosts } = await startFleet(t, etcd, 3, a!.port);
  const v2 = { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: b!.port }], upgradeTransition: { mode: 'GRADUAL', initialPercentage: 10, percentageTransitionPerRequest: 0.1 } };
  t.equal((await api(hosts[1]!.apiPort, 'PUT', '/configuration/cluster', { cluster: v2 })).status, 202);
  const clients = Array.from({ length: 50 }, (_, i) => `transition=client-${String(i).padStart(6, '0')}`);

  let last = 10;
  for (let round = 0; round < 5; round++) {
    // Traffic spread over the hosts: client i goes to host (i + round) mod 3.
    await Promise.all(clients.map((cookie, i) => get(hosts[(i + round) % 3]!.proxyPort, { cookie })));
    const start = performance.now();
    let shares: Array<number | undefined> = [];
    const same = await until(async () => {
      shares = await Promise.all(hosts.map((h) => shareOn(h.apiPort)));
      return shares.every((s) => s === shares[0]) && shares[0] !== last;
    }, 3000, 10);
    t.ok(same, `round ${round}: every host applies the same share (${shares.join(', ')}) within ${(performance.now() - start).toFixed(0)} ms`);
    t.ok(performance.now() - start <= 1000, `round ${round}: within 1 s`);
    t.ok(shares[0]! > last, `round ${round}: the share grew from ${last} to ${shares[0]}`);
    last = shares[0]!;
    // Every client asks every host at once: the same answer from each. These asks are traffic
    // too and grow the share, so a client whose bucket the share passed meanwhile may move, forward only.
    const before = last;
    const differing: string[] = [];
    for (const cookie of clients) {
      const seen = await Promise.all(hosts.map(async (h) => (await get(h.proxyPort, { cookie })).body));
      if (new Set(seen).size !== 1) differing.push(cookie);
    }
    await until(async () => {
      const s = await Promise.all(hosts.map((h) => shareOn(h.apiPort)));
      const settled = s.every((x) => x === s[0]);
      if (settled) last = s[0]!;
      return settled;
    }, 3000, 300);
    const unexplained = differing.filter((cookie) => {
      const bucket = bucketOf(cookie.slice('transition='.length));
      return !(bucket >= before && bucket < last);
    });
    t.same(unexplained, [], `round ${round}: each of the 50 clients gets one version from all three hosts (${differing.length} moved forward while asked, share ${before} → ${last})`);
  }
  t.ok(last > 10 && last < 100, `the share grew with the traffic and the fleet's answers (${last} %)`);
});
