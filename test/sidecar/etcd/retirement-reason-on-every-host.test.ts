import t from 'tap';
import { until } from '../../helpers/net.js';
import { backends } from '../../helpers/proxy.js';
import { api } from '../helpers.js';
import { allAnswer, etcdOrExplain, hostConfig, startEtcd, startFleet, startHost } from './etcd.js';

type Event = { type: string; uuid?: string; text: string };
const removeLog = (logs: string[]): Record<string, unknown> | undefined => logs.map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return {}; } })
  .find((j) => j['event'] === 'version:remove' && j['uuid'] === 'v1');

// Only host-b retires old versions (`proxy.retire` in its config alone): once v2 took over, it
// retires v1 and removes it through the store. host-a removes it too, and says why as host-b
// does: `retired`, not as if an operator had removed it.
t.test('a version retired on one host is removed on the others as retired', async (t) => {
  const bin = etcdOrExplain(t);
  if (bin === undefined) return;
  const etcd = await startEtcd(t, bin);
  const [a, b] = await backends(t, ['a', 'b']);
  const { hosts: [hostA], dir, prefix } = await startFleet(t, etcd, 1, a!.port);
  const retiring = hostConfig(etcd, prefix, 'host-b', a!.port, { proxy: { port: 0, host: '127.0.0.1', retire: { when: 'drained', maxWait: 0 } } });
  const hostB = await startHost(t, dir, 'host-b', retiring);
  const hosts = [hostA!, hostB];
  t.ok(await allAnswer(hosts, 'a') >= 0, 'both hosts route v1');

  t.equal((await api(hostA!.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: b!.port }] } })).status, 202, 'v2 added through host-a');
  t.ok(await until(async () => (await Promise.all(hosts.map((h) => api(h.apiPort, 'GET', '/configuration/cluster/v1')))).every((r) => r.status === 404), 10_000, 50), 'v1 is retired: gone from both hosts');
  t.equal(await etcd.client.get(`${prefix}versions/v1`).string(), null, 'and from etcd');

  for (const h of hosts) {
    const name = h.id;
    t.ok(await until(() => removeLog(h.logs) !== undefined, 2000, 20), `${name} logged version:remove for v1`);
    t.match(removeLog(h.logs), { reason: 'retired', msg: /removed \(retired\)/ }, `${name}'s log says retired`);
    const events = (await api(h.apiPort, 'GET', '/status')).json?.events as Event[];
    t.match(events.find((e) => e.type === 'version:remove' && e.uuid === 'v1'), { text: /retired when drained/ }, `${name}'s /status says retired`);
  }
  t.ok(hostB.logs.some((l) => l.includes('"event":"version:drained"')), 'host-b decided it (version:drained)');
  t.notOk(hostA!.logs.some((l) => l.includes('"event":"version:drained"')), 'host-a did not');
});
