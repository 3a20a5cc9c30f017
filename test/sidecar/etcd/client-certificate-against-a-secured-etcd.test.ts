import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { backends } from '../../helpers/proxy.js';
import { api, startBinary, writeJson } from '../helpers.js';
import { allAnswer, etcdOrExplain, hostConfig, startEtcd, startHost, type Host } from './etcd.js';
import { makeCerts } from './secured.js';

// etcd asking every client for a certificate signed by its CA (`--client-cert-auth`).
// host-a gives `tls.ca`, `tls.cert` and `tls.key`; host-b gives only the client certificate and
// trusts etcd's CA as a system one: without `tls.ca` gRPC's default CAs apply (GRPC_DEFAULT_SSL_ROOTS_FILE_PATH).
t.test('with a client certificate: two hosts share the routing, one trusting etcd through the system CAs', async (t) => {
  const bin = etcdOrExplain(t);
  if (bin === undefined) return;
  const certs = await makeCerts(t);
  const etcd = await startEtcd(t, bin, [], { ca: certs.ca, ...certs.server, clientCA: certs.ca, client: certs.client });
  const prefix = '/upshift/client-cert/';
  const [a, b] = await backends(t, ['a', 'b']);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'upshift-fleet-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const withTls = (id: string, tls: Record<string, string>): Record<string, unknown> => ({
    ...hostConfig(etcd, prefix, id, a!.port),
    store: { etcd: { endpoints: [etcd.endpoint], prefix, tls } },
  });
  const hostA = await startHost(t, dir, 'host-a', withTls('host-a', { ca: certs.ca, cert: certs.client.cert, key: certs.client.key }));
  const fileB = writeJson(dir, 'host-b.json', withTls('host-b', { cert: certs.client.cert, key: certs.client.key }));
  const hostB: Host = { ...(await startBinary(t, ['--config', fileB, '--state', path.join(dir, 'host-b.state.json')], { GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: certs.ca })), id: 'host-b', configFile: fileB };
  const hosts = [hostA, hostB];
  t.ok(await allAnswer(hosts, 'a') >= 0, 'both hosts route the seeded version');

  const put = await api(hostB.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: b!.port }] } });
  t.equal(put.status, 202, 'a PUT through host-b is committed');
  const ms = await allAnswer(hosts, 'b', 5000);
  t.ok(ms >= 0 && ms <= 1000, `both hosts route it within 1 s (${ms.toFixed(0)} ms)`);
  for (const h of hosts) t.equal((await api(h.apiPort, 'GET', '/status')).json?.fleet?.store?.state, 'connected', `${h.id} is connected`);

  // Without a client certificate etcd refuses the handshake: the field to fix is named.
  const bare = await startHost(t, dir, 'host-c', withTls('host-c', { ca: certs.ca }));
  t.equal(await allAnswer([bare], 'a', 2000) >= 0, true, 'a host without a client certificate serves its config\'s version');
  const refused = await api(bare.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v3', version: '3.0.0', servers: [{ hostname: '127.0.0.1', port: b!.port }] } });
  t.equal(refused.status, 503, 'and refuses changes');
  t.match(refused.json?.error, { code: 'UPS_ERR_STORE_UNAVAILABLE', field: 'store.etcd.tls.cert', message: /asks for a client certificate/ }, 'naming store.etcd.tls.cert and the cause');
});
