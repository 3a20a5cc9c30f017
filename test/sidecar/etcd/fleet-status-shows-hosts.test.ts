import t from 'tap';
import { until } from '../../helpers/net.js';
import { backends } from '../../helpers/proxy.js';
import { api, runBinary } from '../helpers.js';
import { etcdOrExplain, startEtcd, startFleet } from './etcd.js';

// Each host publishes itself under <prefix>hosts/<id> with a lease: GET /status and
// `upshift status` show every host, its revision, whether the fleet converged, and who went silent.
t.test('GET /status and upshift status show the fleet: hosts, revisions, converged, silent hosts', async (t) => {
  const bin = etcdOrExplain(t);
  if (bin === undefined) return;
  const etcd = await startEtcd(t, bin);
  const [a, b] = await backends(t, ['a', 'b']);
  const { hosts, prefix } = await startFleet(t, etcd, 3, a!.port);
  t.equal((await api(hosts[0]!.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: b!.port }] } })).status, 202);

  let fleet: any;
  t.ok(await until(async () => {
    fleet = (await api(hosts[1]!.apiPort, 'GET', '/status')).json.fleet;
    return fleet.converged === true && fleet.hosts.length === 3 && fleet.hosts.every((h: { revision: number }) => h.revision === fleet.revision);
  }, 5000, 50), 'three hosts at one revision, converged');
  t.match(fleet, { self: 'host-b', store: { kind: 'etcd', endpoints: [etcd.endpoint], prefix, state: 'connected', servedFrom: 'etcd' }, silent: [] });
  t.same(fleet.hosts.map((h: { id: string }) => h.id), ['host-a', 'host-b', 'host-c'], 'every host, by id');
  t.match(fleet.hosts[0], { id: 'host-a', self: false, silent: false, addresses: { proxy: `127.0.0.1:${hosts[0]!.proxyPort}`, api: `127.0.0.1:${hosts[0]!.apiPort}` } }, 'with its addresses');
  t.match(fleet.hosts[0].versions.find((v: { uuid: string }) => v.uuid === 'v2'), { version: '2.0.0', state: 'up', share: 100, serversUp: 1, servers: 1 }, 'and its view of each version');
  const stored = JSON.parse((await etcd.client.get(`${prefix}hosts/host-a`).string())!);
  t.equal(stored.id, 'host-a', 'the record lives under <prefix>hosts/<id>');
  t.ok((await etcd.client.get(`${prefix}hosts/host-a`).exec()).kvs[0]!.lease !== '0', 'bound to a lease');

  const text = await runBinary(['status', '--api', `127.0.0.1:${hosts[1]!.apiPort}`]);
  t.equal(text.code, 0);
  t.match(text.stdout, new RegExp(`fleet at revision ${fleet.revision}: 3 host\\(s\\), converged`), 'upshift status says the fleet converged');
  t.match(text.stdout, /host-b \*\s+\d+\s+converged/, 'and lists this host, marked');

  hosts[2]!.child.kill('SIGKILL');
  await hosts[2]!.exited;
  t.ok(await until(async () => {
    fleet = (await api(hosts[1]!.apiPort, 'GET', '/status')).json.fleet;
    return fleet.silent.includes('host-c');
  }, 10_000, 100), 'a killed host is shown silent');
  t.equal(fleet.converged, true, 'the live hosts still count as converged');
  t.match((await runBinary(['status', '--api', `127.0.0.1:${hosts[1]!.apiPort}`])).stdout, /silent: host-c/, 'upshift status names the silent host');
});
