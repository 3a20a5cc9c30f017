import t, { type Test } from 'tap';
import { bucketOf } from '../../src/core/index.js';
import { api, startBinary, tmpDir, writeJson, type Running } from '../sidecar/helpers.js';
import {
  APP_IMAGE, containersOf, engineName, engineOrExplain, ensureAppImages, fetchText, removeContainersOf, testSidecarId,
} from './engine.js';

// The done-when scenarios, end to end: the real `upshift` binary,
// its REST config port, and versions run as containers on a real engine.

const docker = await engineOrExplain(t);
if (docker !== undefined) {
  await ensureAppImages();
  const SECRET = 'pw-never-in-logs-90210';

  const app = (tag: string, extra: Record<string, unknown> = {}) => [{ image: APP_IMAGE, tag, portToProxy: 8080, ...extra }];
  const body = (r: Awaited<ReturnType<typeof fetchText>>): string => ('body' in r ? r.body.trim() : `error ${r.error}`);

  interface Env { dir: string; sidecarId: string; cfgFile: string; sc: Running }

  /** A sidecar with v1 (uuid "v1") as a container, started and ready. */
  async function sidecarWithV1(tt: Test, name: string): Promise<Env> {
    const dir = tmpDir(tt);
    const sidecarId = testSidecarId(name);
    tt.teardown(() => removeContainersOf(docker!, sidecarId));
    const cfgFile = writeJson(dir, 'upshift.json', {
      proxy: { port: 0, host: '127.0.0.1' },
      configService: { port: 0 },
      dockerHost: engineName(),
      sidecarId,
      stateFile: `${dir}/state.json`,
      drainTimeout: 300,
      cluster: { uuid: 'v1', version: '1.0.0', containers: app('1', { environment: { DB_PASSWORD: SECRET } }) },
    });
    const sc = await startBinary(tt, ['--config', cfgFile]);
    await waitLaunch(sc, 'v1', 'ready');
    return { dir, sidecarId, cfgFile, sc };
  }

  /** Polls a version's launch state until it is `want` (or failed), recording every state seen. */
  async function waitLaunch(sc: Running, uuid: string, want: string, seen: string[] = [], ms = 30_000): Promise<{ state: string; message?: string }> {
    const end = Date.now() + ms;
    for (;;) {
      const r = await api(sc.apiPort, 'GET', `/configuration/cluster/${uuid}`);
      const launch = r.json?.cluster?.launch as { state: string; message?: string } | undefined;
      if (launch !== undefined && seen.at(-1) !== launch.state) seen.push(launch.state);
      if (launch?.state === want || launch?.state === 'failed') return launch;
      if (Date.now() > end) throw new Error(`version ${uuid} not ${want} after ${ms} ms: ${r.text}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  async function until(fn: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await fn()) return true;
      await new Promise((res) => setTimeout(res, 50));
    }
    return false;
  }

  t.test('INSTANT upgrade to a container version; its death falls back to v1; DELETE removes it', async (t) => {
    const { sc, sidecarId } = await sidecarWithV1(t, 'instant');
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
    const { sc } = await sidecarWithV1(t, 'session');
    await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', containers: app('2'), upgradeTransition: { mode: 'SESSION', sessionTimeout: 120 } } });
    // While v2 starts, everyone is still on v1.
    t.equal(body(await fetchText('127.0.0.1', sc.proxyPort, '/', { cookie: 'dynsoftup=v1' })), 'upshift-test-app version 1');
    t.equal((await waitLaunch(sc, 'v2', 'ready')).state, 'ready');
    const fresh = await fetchText('127.0.0.1', sc.proxyPort);
    t.equal(body(fresh), 'upshift-test-app version 2', 'a client without a session goes to v2');
    t.match(String('headers' in fresh ? fresh.headers['set-cookie'] : ''), /^dynsoftup=v2; Max-Age=120;/, 'and gets a v2 session');
    t.equal(body(await fetchText('127.0.0.1', sc.proxyPort, '/', { cookie: 'dynsoftup=v1' })), 'upshift-test-app version 1', 'a v1 session stays on v1');
    t.equal(body(await fetchText('127.0.0.1', sc.proxyPort, '/', { cookie: 'dynsoftup=v2' })), 'upshift-test-app version 2', 'a v2 session stays on v2');
  });

  t.test('GRADUAL upgrade to a container version moves clients by bucket as the share grows', async (t) => {
    const { sc } = await sidecarWithV1(t, 'gradual');
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

  t.test('a killed and restarted sidecar adopts its containers: no duplicates, routing as before', async (t) => {
    const { sc, sidecarId, cfgFile } = await sidecarWithV1(t, 'restart');
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
    const { sc, sidecarId } = await sidecarWithV1(t, 'missing');
    const put = await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v9', version: '9.0.0', containers: [{ image: 'upshift-test-missing', tag: 'nope', portToProxy: 8080 }] } });
    t.equal(put.status, 202);
    const launch = await waitLaunch(sc, 'v9', 'ready');
    t.equal(launch.state, 'failed', 'status failed');
    t.match(launch.message, /image upshift-test-missing:nope is not present and could not be pulled/, 'with a clear reason');
    t.equal((await containersOf(docker!, sidecarId, 'v9')).length, 0, 'no container left over');
    t.equal(body(await fetchText('127.0.0.1', sc.proxyPort)), 'upshift-test-app version 1', 'traffic stays on v1');
  });

  t.test('a bad containers value is refused with the field named', async (t) => {
    const { sc } = await sidecarWithV1(t, 'invalid');
    const r = await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: { version: '2.0.0', containers: [{ image: APP_IMAGE, portToProxy: 8080, memory: 'lots' }] } });
    t.equal(r.status, 400);
    t.equal(r.json?.error?.field, 'cluster.containers[0].memory');
  });
}
