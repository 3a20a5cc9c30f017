import t from 'tap';
import { until } from '../../helpers/net.js';
import { backends } from '../../helpers/proxy.js';
import { api } from '../helpers.js';
import { allAnswer, answer, etcdOrExplain, hostConfig, startEtcd, startFleet, startHost } from './etcd.js';

const storeState = async (port: number): Promise<{ state: string; servedFrom: string } | undefined> => (await api(port, 'GET', '/status')).json?.fleet?.store;

// etcd killed: every host serves what it applied last, changes are refused with a coded 503,
// a host restarted meanwhile serves from its cache, and once etcd is back every host catches up.
t.test('etcd SIGKILLed: traffic goes on, PUT answers 503, a restarted host serves its cache, all catch up on return', async (t) => {
  const bin = etcdOrExplain(t);
  if (bin === undefined) return;
  const etcd = await startEtcd(t, bin);
  const [a, b] = await backends(t, ['a', 'b']);
  const { hosts, dir, prefix } = await startFleet(t, etcd, 3, a!.port);
  const v2 = { cluster: { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: b!.port }] } };
  t.equal((await api(hosts[0]!.apiPort, 'PUT', '/configuration/cluster', v2)).status, 202, 'v2 added through host-a');
  t.ok(await allAnswer(hosts, 'b') >= 0, 'every host routes v2');

  await etcd.kill('SIGKILL');
  t.ok(await until(async () => (await Promise.all(hosts.map((h) => storeState(h.apiPort)))).every((s) => s?.state === 'unreachable'), 10_000, 50), 'every host sees etcd unreachable');
  const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => answer(hosts[i % 3]!)));
  t.same([...new Set(answers)], ['b'], '60 requests spread over the hosts all succeed on v2');

  const refused = await api(hosts[1]!.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v3', version: '3.0.0', servers: [{ hostname: '127.0.0.1', port: a!.port }] } });
  t.equal(refused.status, 503, 'a PUT while etcd is down answers 503');
  t.equal(refused.json?.error?.code, 'UPS_ERR_STORE_UNAVAILABLE', 'with a coded error');
  t.match(refused.json?.error?.message, /store etcd \(http:\/\/127\.0\.0\.1:\d+\) is unreachable/, 'naming the store');

  // host-c dies during the outage and comes back: it routes from its cache of the last applied versions.
  const c = hosts[2]!;
  c.child.kill('SIGKILL');
  await c.exited;
  const c2 = await startHost(t, dir, 'host-c', hostConfig(etcd, prefix, 'host-c', a!.port));
  t.equal(await answer(c2), 'b', 'the restarted host serves v2 from its cache');
  t.equal((await storeState(c2.apiPort))?.servedFrom, 'cache', 'and says it serves from the cache');

  await etcd.start();
  const live = [hosts[0]!, hosts[1]!, c2];
  t.ok(await until(async () => (await Promise.all(live.map((h) => storeState(h.apiPort)))).every((s) => s?.state === 'connected' && s.servedFrom === 'etcd'), 15_000, 50), 'every host is connected to etcd again');
  const v3 = await api(c2.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v3', version: '3.0.0', servers: [{ hostname: '127.0.0.1', port: a!.port }] } });
  t.equal(v3.status, 202, 'a PUT through the restarted host is accepted once etcd is back');
  const ms = await allAnswer(live, 'a', 5000);
  t.ok(ms >= 0 && ms <= 1000, `every host routes the new version within 1 s (${ms.toFixed(0)} ms)`);
  t.ok(await until(async () => {
    const fleet = (await api(hosts[0]!.apiPort, 'GET', '/status')).json?.fleet;
    return fleet?.converged === true && fleet.hosts.filter((h: { silent: boolean }) => !h.silent).length === 3;
  }, 10_000, 100), 'the fleet shows three live hosts, converged');
});
