import t from 'tap';
import { until } from '../../helpers/net.js';
import { backends } from '../../helpers/proxy.js';
import { api } from '../helpers.js';
import { allAnswer, etcdOrExplain, hostConfig, startEtcd, startFleet, startHost } from './etcd.js';

// A retirement host-b decides while etcd is away cannot be written: it waits, and once etcd
// returns, v1 is removed on every host as retired (not lost until the next restart).
t.test('a version retired while etcd is away is removed once it returns', async (t) => {
  const bin = etcdOrExplain(t);
  if (bin === undefined) return;
  const etcd = await startEtcd(t, bin);
  const [a, b] = await backends(t, ['a', 'b']);
  const { hosts: [hostA], dir, prefix } = await startFleet(t, etcd, 1, a!.port);
  const hostB = await startHost(t, dir, 'host-b', hostConfig(etcd, prefix, 'host-b', a!.port, { proxy: { port: 0, host: '127.0.0.1', retire: { when: 'drained', maxWait: 3 } } }));
  const hosts = [hostA!, hostB];

  t.equal((await api(hostA!.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: b!.port }] } })).status, 202, 'v2 added');
  // v1 is taken over now, and retires 3 s later: etcd is away by then.
  await etcd.kill('SIGKILL');
  t.ok(await allAnswer(hosts, 'b') >= 0, 'both hosts route v2');
  t.ok(await until(async () => hostB.logs.some((l) => l.includes('"event":"version:drained"')), 10_000, 50), 'host-b retires v1 while etcd is away');
  await new Promise((r) => setTimeout(r, 500));
  for (const h of hosts) t.equal((await api(h.apiPort, 'GET', '/configuration/cluster/v1')).status, 200, `${h.id} still has v1: the removal could not be written`);

  await etcd.start();
  t.ok(await until(async () => (await Promise.all(hosts.map((h) => api(h.apiPort, 'GET', '/configuration/cluster/v1')))).every((r) => r.status === 404), 15_000, 100), 'once etcd is back, v1 is gone from both hosts');
  const removed = hostA!.logs.find((l) => l.includes('"event":"version:remove"') && l.includes('"uuid":"v1"'));
  t.match(removed, /"reason":"retired"/, 'host-a removed it as retired');
});
