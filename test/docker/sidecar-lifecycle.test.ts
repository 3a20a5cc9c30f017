import t from 'tap';
import { api, startBinary } from '../sidecar/helpers.js';
import { APP_IMAGE, containersOf, engineOrExplain, ensureAppImages, fetchText } from './engine.js';
import { app, body, sidecarWithV1, waitLaunch } from './sidecar-env.js';

// Container versions across a sidecar restart, and versions that cannot
// start: the real `upshift` binary and its REST port on a real engine.

const docker = await engineOrExplain(t);
if (docker !== undefined) {
  await ensureAppImages();

  t.test('a killed and restarted sidecar adopts its containers: no duplicates, routing as before', async (t) => {
    const { sc, sidecarId, cfgFile } = await sidecarWithV1(t, docker, 'restart');
    await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', containers: app('2') } });
    await waitLaunch(sc, 'v2', 'ready');
    const before = (await containersOf(docker!, sidecarId)).map((c) => c.Id).sort();
    t.equal(before.length, 2);
    sc.child.kill('SIGKILL');
    await sc.exited;

    const again = await startBinary(t, ['--config', cfgFile]);
    t.equal((await waitLaunch(again, 'v1', 'ready')).message, 'adopted running containers', 'v1 is adopted');
    t.equal((await waitLaunch(again, 'v2', 'ready')).message, 'adopted running containers', 'v2 is adopted');
    const after = (await containersOf(docker!, sidecarId)).map((c) => c.Id).sort();
    t.same(after, before, 'the same containers, none added');
    t.equal(body(await fetchText('127.0.0.1', again.proxyPort)), 'upshift-test-app version 2', 'routing as before: v2 is the newest');
    t.equal(body(await fetchText('127.0.0.1', again.proxyPort, '/', { cookie: 'dynsoftup=v1' })), 'upshift-test-app version 2', 'INSTANT ignores old sessions, as before');
  });

  t.test('a version whose image does not exist fails cleanly', async (t) => {
    const { sc, sidecarId } = await sidecarWithV1(t, docker, 'missing');
    const put = await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v9', version: '9.0.0', containers: [{ image: 'upshift-test-missing', tag: 'nope', portToProxy: 8080 }] } });
    t.equal(put.status, 202);
    const launch = await waitLaunch(sc, 'v9', 'ready');
    t.equal(launch.state, 'failed', 'status failed');
    t.match(launch.message, /image upshift-test-missing:nope is not present and could not be pulled/, 'with a clear reason');
    t.equal((await containersOf(docker!, sidecarId, 'v9')).length, 0, 'no container left over');
    t.equal(body(await fetchText('127.0.0.1', sc.proxyPort)), 'upshift-test-app version 1', 'traffic stays on v1');
  });

  t.test('a bad containers value is refused with the field named', async (t) => {
    const { sc } = await sidecarWithV1(t, docker, 'invalid');
    const r = await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: { version: '2.0.0', containers: [{ image: APP_IMAGE, portToProxy: 8080, memory: 'lots' }] } });
    t.equal(r.status, 400);
    t.equal(r.json?.error?.field, 'cluster.containers[0].memory');
  });
}
