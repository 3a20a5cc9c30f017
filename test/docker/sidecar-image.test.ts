import t from 'tap';
import { chmodSync } from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../helpers/net.js';
import { api, tmpDir, writeJson } from '../sidecar/helpers.js';
import {
  APP_IMAGE, containersOf, engineOrExplain, ensureAppImages, fetchText, removeContainersOf, repoRoot, testSidecarId,
} from './engine.js';
import { dockerOptions } from '../../src/sidecar/docker/host.js';

// The sidecar itself as a container, built from the repo's Dockerfile on a
// base made from the host's node (no registry): it runs as a non-root user
// on the host network, with the engine's socket, starts version containers
// and routes to them, and its HEALTHCHECK reports healthy.

const SIDECAR_IMAGE = 'upshift-sidecar:test';

const docker = await engineOrExplain(t);
const socketPath = dockerOptions(undefined).socketPath;
if (docker !== undefined && socketPath === undefined) {
  t.fail('this test mounts the engine\'s socket into the sidecar container: DOCKER_HOST must be a unix socket');
} else if (docker !== undefined && socketPath !== undefined) {
  // Building the image can take minutes on a loaded machine (CI builds it before the tests).
  t.setTimeout(900_000);
  await ensureAppImages();
  await new Promise<void>((resolve, reject) => {
    execFile(path.join(repoRoot, 'test/docker/build-sidecar-image.sh'), { timeout: 900_000 }, (err, _out, stderr) => (err ? reject(new Error(`building ${SIDECAR_IMAGE} failed: ${stderr || err.message}`)) : resolve()));
  });

  t.test('the sidecar container starts version containers and routes to them', async (t) => {
    const sidecarId = testSidecarId('image');
    const dir = tmpDir(t);
    // The sidecar runs as uid 10001: it must be able to read its config.
    chmodSync(dir, 0o755);
    const [proxyPort, apiPort] = [await freePort(), await freePort()];
    const cfg = writeJson(dir, 'upshift.json', {
      proxy: { port: proxyPort, host: '127.0.0.1' },
      configService: { port: apiPort },
      sidecarId,
      stateFile: '/var/lib/upshift/state.json',
      drainTimeout: 300,
      cluster: { uuid: 'v1', version: '1.0.0', containers: [{ image: APP_IMAGE, tag: '1', portToProxy: 8080 }] },
    });
    chmodSync(cfg, 0o644);
    const sockGid = String((await import('node:fs')).statSync(socketPath).gid);
    const container = await docker.createContainer({
      name: `upshift-sidecar-${sidecarId}`,
      Image: SIDECAR_IMAGE,
      Labels: { 'io.upshift.test': sidecarId },
      Env: [`UPSHIFT_HEALTH_URL=http://127.0.0.1:${apiPort}/healthz`],
      HostConfig: {
        NetworkMode: 'host',
        GroupAdd: [sockGid],
        Binds: [`${socketPath}:/var/run/docker.sock`, `${dir}:/etc/upshift:ro`],
      },
    });
    t.teardown(async () => {
      await container.remove({ force: true, v: true }).catch(() => {});
      await removeContainersOf(docker, sidecarId);
    });
    await container.start();
    const info = await container.inspect();
    t.equal(info.Config.User, '10001:10001', 'the image runs as a non-root user');
    t.ok(info.Config.Healthcheck?.Test?.length, 'the image has a HEALTHCHECK');

    const ready = async (uuid: string): Promise<string | undefined> => {
      const end = Date.now() + 60_000;
      while (Date.now() < end) {
        const r = await api(apiPort, 'GET', `/configuration/cluster/${uuid}`).catch(() => undefined);
        const state = r?.json?.cluster?.launch?.state as string | undefined;
        if (state === 'ready' || state === 'failed') return state;
        await new Promise((res) => setTimeout(res, 200));
      }
      return undefined;
    };
    t.equal(await ready('v1'), 'ready', 'v1 is started by the containerised sidecar');
    t.equal(((await fetchText('127.0.0.1', proxyPort)) as { body?: string }).body, 'upshift-test-app version 1\n', 'and served through it');

    const put = await api(apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', containers: [{ image: APP_IMAGE, tag: '2', portToProxy: 8080 }] } });
    t.equal(put.status, 202);
    t.equal(await ready('v2'), 'ready');
    t.equal(((await fetchText('127.0.0.1', proxyPort)) as { body?: string }).body, 'upshift-test-app version 2\n', 'the upgrade routes to v2');
    t.equal((await containersOf(docker, sidecarId)).length, 2, 'one container per version');

    // The first health check runs 10 s after start (the HEALTHCHECK interval).
    let health: string | undefined;
    const end = Date.now() + 60_000;
    while (Date.now() < end) {
      health = (await container.inspect()).State.Health?.Status;
      if (health === 'healthy' || health === 'unhealthy') break;
      await new Promise((res) => setTimeout(res, 500));
    }
    t.equal(health, 'healthy', 'the HEALTHCHECK reports healthy');
  });
}
