import t from 'tap';
import { bucketOf } from '../../src/core/index.js';
import { api } from '../sidecar/helpers.js';
import { containersOf, engineOrExplain, ensureAppImages, fetchText } from './engine.js';
import { SECRET, app, body, sidecarWithV1, until, waitLaunch } from './sidecar-env.js';

// Upgrades to container versions, end to end: the real `upshift` binary,
// its REST config port, and versions run as containers on a real engine
// (INSTANT with a container death and a DELETE, SESSION, GRADUAL).

const docker = await engineOrExplain(t);
if (docker !== undefined) {
  await ensureAppImages();

  t.test('INSTANT upgrade to a container version; its death falls back to v1; DELETE removes it', async (t) => {
    const { sc, sidecarId } = await sidecarWithV1(t, docker, 'instant');
    t.equal(body(await fetchText('127.0.0.1', sc.proxyPort)), 'upshift-test-app version 1', 'v1 serves');

    const put = await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', containers: app('2'), upgradeTransition: { mode: 'INSTANT' } } });
    t.equal(put.status, 202, 'PUT answers at once with 202');
    const seen: string[] = [];
    const launch = await waitLaunch(sc, 'v2', 'ready', seen);
    t.same(seen, ['starting', 'ready'], 'the status goes starting, then ready');
    t.equal(launch.state, 'ready');
    for (let i = 0; i < 3; i++) t.equal(body(await fetchText('127.0.0.1', sc.proxyPort)), 'upshift-test-app version 2', 'new traffic goes to v2');

    const [c2] = await containersOf(docker!, sidecarId, 'v2');
    await docker!.getContainer(c2!.Id).kill();
    // Every request started after the kill must be answered, by v1.
    const after: string[] = [];
    for (let i = 0; i < 20; i++) after.push(body(await fetchText('127.0.0.1', sc.proxyPort)));
    t.same([...new Set(after)], ['upshift-test-app version 1'], 'after the kill every new request is served by v1, without errors');
    const died = await waitLaunch(sc, 'v2', 'failed');
    t.match(died.message, /container died: .*exited with code 137/, 'the status says the container died');

    const del = await api(sc.apiPort, 'DELETE', '/configuration/cluster/v2');
    t.equal(del.status, 202);
    t.ok(await until(async () => (await containersOf(docker!, sidecarId, 'v2')).length === 0), 'v2\'s container is gone after the drain');
    t.equal((await containersOf(docker!, sidecarId, 'v1')).length, 1, 'v1\'s container stays');
    t.equal(body(await fetchText('127.0.0.1', sc.proxyPort)), 'upshift-test-app version 1');
    t.notOk(sc.logs.join('\n').includes(SECRET), 'the environment value is in no log line');
  });

  t.test('SESSION upgrade to a container version keeps old sessions on v1', async (t) => {
    const { sc } = await sidecarWithV1(t, docker, 'session');
    await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', containers: app('2'), upgradeTransition: { mode: 'SESSION', sessionTimeout: 120 } } });
    // While v2 starts, everyone is still on v1.
    t.equal(body(await fetchText('127.0.0.1', sc.proxyPort, '/', { cookie: 'dynsoftup=v1' })), 'upshift-test-app version 1');
    t.equal((await waitLaunch(sc, 'v2', 'ready')).state, 'ready');
    const fresh = await fetchText('127.0.0.1', sc.proxyPort);
    t.equal(body(fresh), 'upshift-test-app version 2', 'a client without a session goes to v2');
    t.match(String('headers' in fresh ? fresh.headers['set-cookie'] : ''), /^dynsoftup=v2~[\w-]{16}~[0-9a-z]+; Max-Age=120;/, 'and gets a v2 session');
    t.equal(body(await fetchText('127.0.0.1', sc.proxyPort, '/', { cookie: 'dynsoftup=v1' })), 'upshift-test-app version 1', 'a v1 session stays on v1');
    t.equal(body(await fetchText('127.0.0.1', sc.proxyPort, '/', { cookie: 'dynsoftup=v2' })), 'upshift-test-app version 2', 'a v2 session stays on v2');
  });

  t.test('GRADUAL upgrade to a container version moves clients by bucket as the share grows', async (t) => {
    const { sc } = await sidecarWithV1(t, docker, 'gradual');
    await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', containers: app('2'), upgradeTransition: { mode: 'GRADUAL', percentageTransitionPerRequest: 10 } } });
    t.equal((await waitLaunch(sc, 'v2', 'ready')).state, 'ready');
    // Transition ids must be 8-128 of [A-Za-z0-9_-], or the proxy hands out a fresh one.
    // Transition ids must be 8-128 of [A-Za-z0-9_-], or the proxy hands out a fresh one.
    const inside = Array.from({ length: 5000 }, (_, i) => `inside-client-${i}`).find((id) => bucketOf(id) < 10)!;
    const outside = Array.from({ length: 5000 }, (_, i) => `outside-client-${i}`).find((id) => bucketOf(id) >= 95)!;
    t.equal(body(await fetchText('127.0.0.1', sc.proxyPort, '/', { cookie: `transition=${outside}` })), 'upshift-test-app version 1', 'outside the share: v1');
    t.equal(body(await fetchText('127.0.0.1', sc.proxyPort, '/', { cookie: `transition=${inside}` })), 'upshift-test-app version 2', 'inside the share: v2');
    for (let i = 0; i < 12; i++) await fetchText('127.0.0.1', sc.proxyPort, '/', { cookie: `transition=${inside}` });
    t.equal(body(await fetchText('127.0.0.1', sc.proxyPort, '/', { cookie: `transition=${outside}` })), 'upshift-test-app version 2', 'once v2 answered enough requests, everyone is on v2');
  });
}
