import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { until } from '../../helpers/net.js';
import { backends } from '../../helpers/proxy.js';
import { api } from '../helpers.js';
import { allAnswer, etcdOrExplain, hostConfig, startEtcd, startHost } from './etcd.js';
import { enableAuth, makeCerts } from './secured.js';

// etcd as a production user runs it: clients over TLS only, authentication on, and upshift's
// user allowed its own prefix and nothing else. Two hosts connect with `store.etcd.tls.ca`,
// `username` and `password`, and a change through one routes on the other.
t.test('over TLS with a username and password: two hosts share the routing', async (t) => {
  const bin = etcdOrExplain(t);
  if (bin === undefined) return;
  const certs = await makeCerts(t);
  const etcd = await startEtcd(t, bin, [], { ca: certs.ca, ...certs.server });
  const prefix = '/upshift/secured/';
  const root = await enableAuth(t, etcd, certs, 'shop', 'shop-secret', prefix);
  const [a, b] = await backends(t, ['a', 'b']);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'upshift-fleet-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const secured = (id: string): Record<string, unknown> => ({
    ...hostConfig(etcd, prefix, id, a!.port),
    store: { etcd: { endpoints: [etcd.endpoint], prefix, username: 'shop', password: 'shop-secret', tls: { ca: certs.ca } } },
  });
  const hosts = [await startHost(t, dir, 'host-a', secured('host-a')), await startHost(t, dir, 'host-b', secured('host-b'))];
  t.ok(await allAnswer(hosts, 'a') >= 0, 'both hosts route the seeded version');

  const put = await api(hosts[0]!.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: b!.port }] } });
  t.equal(put.status, 202, 'a PUT through host-a is committed');
  const ms = await allAnswer(hosts, 'b', 5000);
  t.ok(ms >= 0 && ms <= 1000, `both hosts route it within 1 s (${ms.toFixed(0)} ms)`);
  t.ok(await root.get(`${prefix}versions/v2`).string(), 'it is in etcd under the prefix');

  let fleet: any;
  t.ok(await until(async () => {
    fleet = (await api(hosts[1]!.apiPort, 'GET', '/status')).json?.fleet;
    return fleet?.converged === true && fleet.hosts.length === 2;
  }, 5000, 50), 'the fleet (host records with leases) works under the same user');
  t.match(fleet.store, { endpoints: [etcd.endpoint], state: 'connected', servedFrom: 'etcd' });
  t.notOk(hosts.some((h) => h.logs.some((l) => /"level":(40|50)/.test(l))), 'no warning or error logged');
});
