import net from 'node:net';
import t from 'tap';
import { dockerOptions } from '../../src/sidecar/docker/host.js';
import { api, startBinary, tmpDir, writeJson } from '../sidecar/helpers.js';
import { engineName, engineOrExplain, ensureAppImages, fetchText, removeContainersOf, testSidecarId } from './engine.js';
import { app, body, waitLaunch } from './sidecar-env.js';

// The prototype's dockerHost {"ip", "port"}: the sidecar reaches the engine
// over TCP. The test engine listens on a socket, so a plain TCP relay on
// 127.0.0.1 stands in for an engine's TCP port (bytes pass unchanged).
const docker = await engineOrExplain(t);
if (docker !== undefined) {
  await ensureAppImages();

  t.test('a sidecar given dockerHost {"ip", "port"} launches its containers through it', async (t) => {
    const target = dockerOptions(engineName());
    let relayed = 0;
    const open = new Set<net.Socket>();
    const relay = net.createServer((client) => {
      relayed++;
      open.add(client);
      const engine = target.socketPath !== undefined ? net.connect(target.socketPath) : net.connect(Number(target.port), String(target.host));
      client.pipe(engine).pipe(client);
      const end = (): void => { client.destroy(); engine.destroy(); };
      client.on('error', end);
      engine.on('error', end);
      client.on('close', () => { open.delete(client); end(); });
      engine.on('close', end);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    t.teardown(() => new Promise<void>((r) => { relay.close(() => r()); for (const c of open) c.destroy(); }));

    const dir = tmpDir(t);
    const sidecarId = testSidecarId('proto-ip');
    t.teardown(() => removeContainersOf(docker, sidecarId));
    const cfg = writeJson(dir, 'upshift.json', {
      proxy: { port: 0, host: '127.0.0.1' },
      configService: { port: 0 },
      dockerHost: { ip: '127.0.0.1', port: (relay.address() as net.AddressInfo).port },
      sidecarId,
      cluster: { uuid: 'v1', version: '1.0', containers: app('1') },
    });
    const sc = await startBinary(t, ['--config', cfg, '--no-state']);
    const launch = await waitLaunch(sc, 'v1', 'ready');
    t.equal(launch.state, 'ready', 'v1 becomes ready');
    t.ok(relayed > 0, 'the engine was reached at the given ip and port');
    t.equal(body(await fetchText('127.0.0.1', sc.proxyPort)), 'upshift-test-app version 1', 'the container serves through the proxy');
    t.equal((await api(sc.apiPort, 'GET', '/status')).json.versions[0].state, 'up', 'and is up');
  });
}
