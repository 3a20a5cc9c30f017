import t from 'tap';
import { freePort } from '../helpers/net.js';
import { api, startBinary, tmpDir, writeJson } from '../sidecar/helpers.js';
import { APP_IMAGE, containersOf, engineName, engineOrExplain, ensureAppImages, fetchText, removeContainersOf, testSidecarId } from './engine.js';
import { body, waitLaunch } from './sidecar-env.js';

// The prototype's container spec, unchanged: portToProxy is the host port
// that portBindings binds, and the proxy dials it there.
const docker = await engineOrExplain(t);
if (docker !== undefined) {
  await ensureAppImages();

  t.test('a container bound at a host port of portBindings serves at that port', async (t) => {
    const dir = tmpDir(t);
    const sidecarId = testSidecarId('proto-ports');
    t.teardown(() => removeContainersOf(docker, sidecarId));
    const [p1, p2] = [await freePort(), await freePort()];
    const cfg = writeJson(dir, 'upshift.json', {
      proxy: { port: 0, host: '127.0.0.1' },
      configService: { port: 0 },
      dockerHost: engineName(),
      sidecarId,
      cluster: {
        uuid: 'v1',
        containers: [{ image: APP_IMAGE, tag: '1', portBindings: { '8080/tcp': [{ hostIp: '127.0.0.1', hostPort: String(p1) }] }, portToProxy: p1 }],
      },
    });
    const sc = await startBinary(t, ['--config', cfg, '--no-state']);
    t.equal((await waitLaunch(sc, 'v1', 'ready')).state, 'ready', 'v1 becomes ready');
    const v1 = (await api(sc.apiPort, 'GET', '/configuration/cluster/v1')).json.cluster;
    t.same(v1.servers, [{ hostname: '127.0.0.1', port: p1 }], 'the proxy dials the bound host address');
    t.equal(body(await fetchText('127.0.0.1', p1)), 'upshift-test-app version 1', 'the container is bound as given');
    t.equal(body(await fetchText('127.0.0.1', sc.proxyPort)), 'upshift-test-app version 1', 'and the proxy routes to it');
    const [c1] = await containersOf(docker, sidecarId, 'v1');
    t.same((await docker.getContainer(c1!.Id).inspect()).HostConfig.PortBindings, { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(p1) }] }, 'no other publication was added');

    // The prototype's REST body: an empty hostIp binds every address; the proxy reaches it on 127.0.0.1.
    const put = await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: {
      uuid: 'v2', version: '2.0',
      containers: [{ image: APP_IMAGE, tag: '2', portBindings: { '8080/tcp': [{ hostIp: '', hostPort: String(p2) }] }, portToProxy: p2 }],
    } });
    t.equal(put.status, 202);
    t.equal((await waitLaunch(sc, 'v2', 'ready')).state, 'ready', 'v2 becomes ready');
    t.same((await api(sc.apiPort, 'GET', '/configuration/cluster/v2')).json.cluster.servers, [{ hostname: '127.0.0.1', port: p2 }]);
    t.equal(body(await fetchText('127.0.0.1', sc.proxyPort)), 'upshift-test-app version 2', 'INSTANT: new traffic goes to v2');

    const refused = await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: {
      version: '3.0', containers: [{ image: APP_IMAGE, tag: '2', portBindings: { '8080/tcp': [{ hostPort: String(p2) }] }, portToProxy: p2, network: 'host' }],
    } });
    t.equal(refused.status, 400, 'a port that fits neither model is refused');
    t.equal(refused.json.error.field, 'cluster.containers[0].portToProxy');
    t.match(refused.json.error.message, /must be exposed in portBindings/);
  });
}
