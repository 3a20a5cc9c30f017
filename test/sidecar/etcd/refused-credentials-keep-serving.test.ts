import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { backends } from '../../helpers/proxy.js';
import { api, type Running } from '../helpers.js';
import { allAnswer, answer, etcdOrExplain, hostConfig, startEtcd, startHost } from './etcd.js';
import { enableAuth, makeCerts } from './secured.js';

// A host whose credentials etcd refuses (a wrong password, a CA that did not sign etcd's
// certificate, a user without rights on the prefix) keeps serving what it cached, never exits,
// and says which field is wrong and why: in /status, in its log, and in the 503 a change gets.
t.test('a wrong password, an untrusted CA, a prefix not granted: named, and the cache keeps serving', async (t) => {
  const bin = etcdOrExplain(t);
  if (bin === undefined) return;
  const certs = await makeCerts(t);
  const etcd = await startEtcd(t, bin, [], { ca: certs.ca, ...certs.server });
  const prefix = '/upshift/refused/';
  await enableAuth(t, etcd, certs, 'shop', 'shop-secret', prefix);
  const [a, b] = await backends(t, ['a', 'b']);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'upshift-fleet-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = (id: string, etcdPart: Record<string, unknown>): Record<string, unknown> => ({
    ...hostConfig(etcd, prefix, id, a!.port),
    store: { etcd: { endpoints: [etcd.endpoint], prefix, username: 'shop', password: 'shop-secret', tls: { ca: certs.ca }, ...etcdPart } },
  });
  const hostA = await startHost(t, dir, 'host-a', cfg('host-a', {}));
  let hostB = await startHost(t, dir, 'host-b', cfg('host-b', {}));
  t.equal((await api(hostA.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: b!.port }] } })).status, 202);
  t.ok(await allAnswer([hostA, hostB], 'b') >= 0, 'both hosts route v2');
  // Its cache is written within 200 ms of applying.
  await new Promise((r) => setTimeout(r, 500));

  const restartB = async (etcdPart: Record<string, unknown>): Promise<Running> => {
    hostB.child.kill('SIGTERM');
    await hostB.exited;
    hostB = await startHost(t, dir, 'host-b', cfg('host-b', etcdPart));
    return hostB;
  };
  const refusedWith = async (h: Running, field: string, cause: RegExp, what: string): Promise<void> => {
    t.equal(await answer(h), 'b', `${what}: the host serves v2 from its cache`);
    const store = (await api(h.apiPort, 'GET', '/status')).json?.fleet?.store;
    t.match(store, { state: 'unreachable', servedFrom: 'cache', field }, `${what}: /status says it serves the cache and names ${field}`);
    t.match(store?.error, cause, `${what}: and the cause`);
    const put = await api(h.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v3', version: '3.0.0', servers: [{ hostname: '127.0.0.1', port: a!.port }] } });
    t.equal(put.status, 503, `${what}: a change answers 503`);
    t.match(put.json?.error, { code: 'UPS_ERR_STORE_UNAVAILABLE', field, message: cause }, `${what}: with a coded error naming ${field} and the cause`);
    t.ok(h.logs.some((l) => l.includes('"level":50') && l.includes(`"field":"${field}"`) && cause.test(l)), `${what}: the log says it as an error`);
    // Retrying with backoff, it stays up and serving.
    await new Promise((r) => setTimeout(r, 1500));
    t.equal(h.child.exitCode, null, `${what}: the process is still running`);
    t.equal(await answer(h), 'b', `${what}: and still serving`);
  };

  await refusedWith(await restartB({ password: 'not-the-password' }), 'store.etcd.password', /authentication failed/, 'wrong password');
  await refusedWith(await restartB({ tls: { ca: certs.otherCA } }), 'store.etcd.tls.ca', /not signed by the CA in .*other-ca\.crt/, 'untrusted CA');

  // A user whose role does not cover the prefix: no cache for this prefix, so it serves its config.
  const elsewhere = await startHost(t, dir, 'host-c', { ...cfg('host-c', {}), store: { etcd: { endpoints: [etcd.endpoint], prefix: '/upshift/not-granted/', username: 'shop', password: 'shop-secret', tls: { ca: certs.ca } } } });
  t.equal(await answer(elsewhere), 'a', 'prefix not granted: the host serves its config\'s version');
  const store = (await api(elsewhere.apiPort, 'GET', '/status')).json?.fleet?.store;
  t.match(store, { state: 'unreachable', servedFrom: 'config', field: 'store.etcd.prefix', error: /denied user "shop" access to \/upshift\/not-granted\// }, 'prefix not granted: named, with the user');

  // Fixed: the host connects and catches up.
  await restartB({});
  t.equal((await api(hostB.apiPort, 'GET', '/status')).json?.fleet?.store?.state, 'connected', 'with the right credentials again, it connects');
});
