import t from 'tap';
import { backend, get, until } from '../../helpers/net.js';
import { backends } from '../../helpers/proxy.js';
import { api } from '../helpers.js';
import { allAnswer, etcdOrExplain, startEtcd, startFleet } from './etcd.js';

const v2Status = async (port: number): Promise<any> => (await api(port, 'GET', '/status')).json.versions.find((v: { uuid: string }) => v.uuid === 'v2');

// A rollback is decided once, on one host, and applied by all: the judgement's verdict from that
// host's own traffic, with its id in the evidence; an operator's through any host's API.
t.test('a rollback decided on one host is applied by every host', async (t) => {
  const bin = etcdOrExplain(t);
  if (bin === undefined) return;
  const etcd = await startEtcd(t, bin);
  const [a, b] = await backends(t, ['a', 'b']);
  const broken = await backend('broken', (_req, res) => {
    res.statusCode = 500;
    res.end('broken');
  });
  t.teardown(() => broken.close());
  const { hosts } = await startFleet(t, etcd, 3, a!.port);
  const [hostA, hostB, hostC] = hosts as [typeof hosts[0], typeof hosts[0], typeof hosts[0]];

  t.test('judgement: host-a sees the errors, every host rolls back', async (t) => {
    t.equal((await api(hostA.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: broken.port }] } })).status, 202);
    t.ok(await until(async () => (await Promise.all(hosts.map((h) => v2Status(h.apiPort)))).every((v) => v !== undefined)), 'every host has v2');
    let sent = 0;
    while ((await v2Status(hostA.apiPort)).state !== 'rolled-back' && sent < 60) {
      await get(hostA.proxyPort);
      sent++;
    }
    t.equal((await v2Status(hostA.apiPort)).state, 'rolled-back', `host-a's judgement rolled v2 back after ${sent} requests`);
    const start = performance.now();
    t.ok(await until(async () => (await v2Status(hostB.apiPort)).state === 'rolled-back' && (await v2Status(hostC.apiPort)).state === 'rolled-back', 1000, 10), 'host-b and host-c, which saw no error, roll it back within 1 s');
    t.comment(`rollback reached the other hosts in ${(performance.now() - start).toFixed(0)} ms`);
    const onB = await v2Status(hostB.apiPort);
    t.match(onB.rolledBack, { reason: 'errors', evidence: { host: 'host-a' } }, 'with the reason and the deciding host');
    t.ok(await allAnswer(hosts, 'a') >= 0, 'every host routes v1 again');
  });

  t.test('operator: a rollback through host-c is applied by every host', async (t) => {
    t.equal((await api(hostA.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v3', version: '3.0.0', servers: [{ hostname: '127.0.0.1', port: b!.port }] } })).status, 202);
    t.ok(await allAnswer(hosts, 'b') >= 0, 'every host routes v3');
    const res = await api(hostC.apiPort, 'POST', '/configuration/cluster/v3/rollback');
    t.equal(res.status, 200, `the rollback is accepted (${res.text})`);
    const ms = await allAnswer(hosts, 'a', 1000);
    t.ok(ms >= 0, `every host routes away from v3 within 1 s (${ms.toFixed(0)} ms)`);
    const onA = (await api(hostA.apiPort, 'GET', '/status')).json.versions.find((v: { uuid: string }) => v.uuid === 'v3');
    t.match(onA, { state: 'rolled-back', rolledBack: { reason: 'operator', evidence: { host: 'host-c' } } }, 'host-a shows it rolled back by the operator on host-c');
  });
});
