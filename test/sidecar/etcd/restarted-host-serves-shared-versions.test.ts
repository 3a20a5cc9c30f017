import t from 'tap';
import { backends } from '../../helpers/proxy.js';
import { api } from '../helpers.js';
import { allAnswer, answer, etcdOrExplain, hostConfig, startEtcd, startFleet, startHost } from './etcd.js';

// A host killed with SIGKILL and started again takes the shared versions from etcd, including
// the changes made while it was down, not its config's clusters nor its cache.
t.test('a host SIGKILLed and restarted serves the shared versions', async (t) => {
  const bin = etcdOrExplain(t);
  if (bin === undefined) return;
  const etcd = await startEtcd(t, bin);
  const [a, b, c] = await backends(t, ['a', 'b', 'c']);
  const { hosts, dir, prefix } = await startFleet(t, etcd, 3, a!.port);
  t.equal((await api(hosts[0]!.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: b!.port }] } })).status, 202);
  t.ok(await allAnswer(hosts, 'b') >= 0, 'every host routes v2');

  const killed = hosts[2]!;
  killed.child.kill('SIGKILL');
  await killed.exited;
  // Changed while it is down: v3 added, v2 removed.
  t.equal((await api(hosts[1]!.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v3', version: '3.0.0', servers: [{ hostname: '127.0.0.1', port: c!.port }] } })).status, 202);
  t.equal((await api(hosts[1]!.apiPort, 'DELETE', '/configuration/cluster/v2')).status, 202);

  const back = await startHost(t, dir, 'host-c', hostConfig(etcd, prefix, 'host-c', a!.port));
  t.equal(await answer(back), 'c', 'the restarted host routes the newest shared version at once');
  const list = (await api(back.apiPort, 'GET', '/configuration/cluster')).json.map((e: { cluster: { uuid: string } }) => e.cluster.uuid);
  t.same(list, ['v3', 'v1'], 'it holds exactly the shared versions');
  const fleet = (await api(back.apiPort, 'GET', '/status')).json.fleet;
  t.match(fleet, { self: 'host-c', store: { state: 'connected', servedFrom: 'etcd' } }, 'from etcd');
  t.ok(await allAnswer([...hosts.slice(0, 2), back], 'c') >= 0, 'every host agrees');
});
