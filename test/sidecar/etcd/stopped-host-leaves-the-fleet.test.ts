import t from 'tap';
import { until } from '../../helpers/net.js';
import { backends } from '../../helpers/proxy.js';
import { api } from '../helpers.js';
import { etcdOrExplain, startEtcd, startFleet } from './etcd.js';

type FleetView = { hosts: Array<{ id: string; silent: boolean }>; silent: string[]; converged: boolean };
const fleetOf = async (port: number): Promise<FleetView> => (await api(port, 'GET', '/status')).json?.fleet as FleetView;

// A host stopped with SIGTERM says it leaves and revokes its lease: the others drop it at once.
// A SIGKILLed host cannot: its lease runs out and the others show it silent (as before).
// With etcd away, a stopping host does not wait for it longer than a moment.
t.test('SIGTERM: the host leaves every fleet view at once; SIGKILL: it shows silent; etcd away: the stop is not held up', async (t) => {
  const bin = etcdOrExplain(t);
  if (bin === undefined) return;
  const etcd = await startEtcd(t, bin);
  const [a] = await backends(t, ['a']);
  const { hosts, prefix } = await startFleet(t, etcd, 3, a!.port);
  const [hostA, hostB, hostC] = hosts as [typeof hosts[0], typeof hosts[0], typeof hosts[0]];
  t.ok(await until(async () => (await fleetOf(hostA.apiPort)).hosts.length === 3, 5000, 50), 'host-a sees three hosts');

  hostC.child.kill('SIGTERM');
  const exit = await hostC.exited;
  const stoppedAt = performance.now();
  t.equal(exit.code, 0, 'host-c stops cleanly');
  t.ok(await until(async () => !(await fleetOf(hostA.apiPort)).hosts.some((h) => h.id === 'host-c'), 3000, 20), 'host-a no longer lists host-c');
  const gone = performance.now() - stoppedAt;
  t.ok(gone < 1000, `within a second of its exit (${gone.toFixed(0)} ms), not as a silent host`);
  t.notOk((await fleetOf(hostB.apiPort)).hosts.some((h) => h.id === 'host-c'), 'nor does host-b');
  t.same((await fleetOf(hostA.apiPort)).silent, [], 'no host is silent');
  t.equal(await etcd.client.get(`${prefix}hosts/host-c`).string(), null, 'its record is gone from etcd');

  hostB.child.kill('SIGKILL');
  await hostB.exited;
  let fleet: FleetView | undefined;
  t.ok(await until(async () => {
    fleet = await fleetOf(hostA.apiPort);
    return fleet.silent.includes('host-b');
  }, 10_000, 100), 'a SIGKILLed host-b is shown silent');
  t.ok(await until(async () => (await etcd.client.get(`${prefix}hosts/host-b`).string()) === null, 10_000, 100), 'once its lease ran out, its record is gone from etcd');
  fleet = await fleetOf(hostA.apiPort);
  t.match(fleet.hosts.find((h) => h.id === 'host-b'), { silent: true }, 'and host-a still shows it silent');

  await etcd.kill('SIGKILL');
  t.ok(await until(async () => (await api(hostA.apiPort, 'GET', '/status')).json?.fleet?.store?.state === 'unreachable', 10_000, 50), 'host-a sees etcd away');
  const start = performance.now();
  hostA.child.kill('SIGTERM');
  t.equal((await hostA.exited).code, 0, 'host-a stops cleanly with etcd away');
  const took = performance.now() - start;
  t.ok(took < 5000, `without waiting on etcd (${took.toFixed(0)} ms)`);
});
