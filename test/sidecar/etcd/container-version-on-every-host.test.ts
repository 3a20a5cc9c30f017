import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { backends } from '../../helpers/proxy.js';
import { containersOf, engineName, engineOrExplain, ensureAppImages, removeContainersOf, testSidecarId } from '../../docker/engine.js';
import { app, until, waitLaunch } from '../../docker/sidecar-env.js';
import { api } from '../helpers.js';
import { allAnswer, answer, etcdOrExplain, hostConfig, startEtcd, startHost, type Host } from './etcd.js';

// Two sidecars sharing etcd, on one real Docker engine: a container version added through one
// host's config API starts its own container on each host and routes on each once ready there;
// removed through the other host, it stops routing everywhere and each host stops its container.
const bin = etcdOrExplain(t);
const docker = bin === undefined ? undefined : await engineOrExplain(t);
if (bin !== undefined && docker !== undefined) {
  await ensureAppImages();

  t.test('a container version added through one host runs on both, and removed through the other, stops on both', async (t) => {
    const etcd = await startEtcd(t, bin);
    const [a] = await backends(t, ['a']);
    const ids = [testSidecarId('fleet-a'), testSidecarId('fleet-b')];
    for (const id of ids) t.teardown(() => removeContainersOf(docker, id));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'upshift-fleet-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const prefix = `/upshift/containers-${process.pid}/`;
    const hosts: Host[] = [];
    for (const id of ids) hosts.push(await startHost(t, dir, id, hostConfig(etcd, prefix, id, a!.port, { dockerHost: engineName(), drainTimeout: 300 })));
    const [hostA, hostB] = hosts as [Host, Host];
    t.ok(await allAnswer(hosts, 'a') >= 0, 'both hosts route the seeded v1');

    const put = await api(hostA.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', containers: app('2') } });
    t.equal(put.status, 202, 'a container version added through the first host');
    for (const h of hosts) t.match(await waitLaunch(h, 'v2', 'ready', [], 60_000), { state: 'ready' }, `${h.id} launched it`);
    for (const id of ids) t.equal((await containersOf(docker, id, 'v2')).length, 1, `${id} runs its own container of v2`);
    // The test app ends its page with a newline.
    t.ok(await until(async () => (await Promise.all(hosts.map((h) => answer(h)))).every((b) => b.trim() === 'upshift-test-app version 2'), 10_000), 'both hosts route v2 to their own container');
    const servers = await Promise.all(hosts.map(async (h) => JSON.stringify((await api(h.apiPort, 'GET', '/configuration/cluster/v2')).json?.cluster?.servers)));
    t.not(servers[0], servers[1], `each host's v2 is served by its own container (${servers.join(' / ')})`);
    // Host records are refreshed every second.
    t.ok(await until(async () => {
      const fleet = (await api(hostB.apiPort, 'GET', '/status')).json?.fleet;
      const v2 = fleet?.hosts?.find((h: { id: string }) => h.id === ids[0])?.versions?.find((v: { uuid: string }) => v.uuid === 'v2');
      return v2?.launch === 'ready' && v2.serversUp === 1;
    }, 5000), 'the second host\'s fleet view shows the first\'s launch of v2 ready');

    const del = await api(hostB.apiPort, 'DELETE', '/configuration/cluster/v2');
    t.equal(del.status, 202, 'removed through the second host');
    t.ok(await allAnswer(hosts, 'a', 5000) >= 0, 'both hosts route v1 again');
    for (const id of ids) t.ok(await until(async () => (await containersOf(docker, id, 'v2')).length === 0, 30_000), `${id}'s container of v2 is gone`);
  });
}
