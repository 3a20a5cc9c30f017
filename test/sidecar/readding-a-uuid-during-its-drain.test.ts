import t from 'tap';
import { fakeEngine } from '../helpers/fake-docker-engine.js';
import { backend, get, sleep, until } from '../helpers/net.js';
import { api, config, startBinary, tmpDir, writeJson } from './helpers.js';

// A container version removed with DELETE drains for drainTimeout before its
// containers stop. A PUT of the same uuid inside that window is a new launch:
// the old launch's stop must remove the old containers only, never the new.

t.test('a uuid added again while its containers drain keeps its new containers', async (t) => {
  const app = await backend('app');
  const engine = await fakeEngine(app.port);
  t.teardown(async () => { await app.close(); await engine.close(); });
  const dir = tmpDir(t);
  const cfg = config(9, { dockerHost: engine.address, drainTimeout: 1500 });
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', cfg), '--no-state']);
  const port = sc.apiPort;
  const v2 = { cluster: { uuid: 'v2', version: '2.0', containers: [{ image: 'app', portToProxy: 8080, readiness: { type: 'none' } }] } };
  const ready = async (): Promise<boolean> => until(async () => (await api(port, 'GET', '/configuration/cluster/v2')).json?.cluster?.launch?.state === 'ready', 10_000, 50);

  t.equal((await api(port, 'PUT', '/configuration/cluster', v2)).status, 202);
  t.ok(await ready(), 'the first launch is ready');
  const [first] = engine.live();
  t.ok(first, 'one container');

  t.equal((await api(port, 'DELETE', '/configuration/cluster/v2')).status, 202, 'removed: its containers drain');
  t.equal((await api(port, 'PUT', '/configuration/cluster', v2)).status, 202, 'added again inside the drain');
  t.ok(await ready(), 'the second launch is ready');
  const second = engine.live().find((c) => c.id !== first!.id);
  t.ok(second, 'a second container, beside the draining one');

  await sleep(2500);
  t.ok(first!.removed, 'after the drain, the first launch\'s container is removed');
  t.notOk(second!.removed, 'the second launch\'s container is not');
  t.ok(second!.running, 'and still runs');
  const got = (await api(port, 'GET', '/configuration/cluster/v2')).json;
  t.equal(got.cluster.launch.state, 'ready', 'the version is still ready');
  t.equal((await get(sc.proxyPort)).body, 'app', 'and serves');
});
