import t from 'tap';
import { fakeEngine } from '../helpers/fake-docker-engine.js';
import { backend, until } from '../helpers/net.js';
import { api, config, startBinary, tmpDir, writeJson } from './helpers.js';

// An engine that takes a request and never answers must not hold the
// sidecar's start-up: every engine call at start-up has a deadline (10 s by
// default), the reason is logged, and the config API listens regardless.

const containers = [{ image: 'app', portToProxy: 8080, readiness: { type: 'none' } }];
const BOUND_MS = 30_000;

t.test('an engine that never answers /events: start-up goes on, containers still launch', async (t) => {
  const app = await backend('app');
  const engine = await fakeEngine(app.port);
  engine.hang.add('events');
  t.teardown(async () => { await app.close(); await engine.close(); });
  const dir = tmpDir(t);
  const cfg = config(9, { dockerHost: engine.address, clusters: [{ uuid: 'v2', version: '2.0', containers }] });
  const started = Date.now();
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', cfg), '--no-state']);
  t.ok(Date.now() - started < BOUND_MS, `started in ${Date.now() - started} ms`);
  t.equal((await api(sc.apiPort, 'GET', '/healthz')).status, 200, 'the config API answers');
  t.ok(sc.logs.some((l) => /cannot watch Docker events \(no answer within 10 s\)/.test(l)), 'the reason is logged');
  t.ok(await until(async () => (await api(sc.apiPort, 'GET', '/configuration/cluster/v2')).json?.cluster?.launch?.state === 'ready', 20_000, 100), 'the container version launches without the event stream');
});

t.test('an engine that answers nothing at all: the API listens, the versions say why they wait', async (t) => {
  const engine = await fakeEngine();
  for (const r of ['ping', 'events', 'list', 'image', 'create', 'start', 'inspect', 'stop', 'remove'] as const) engine.hang.add(r);
  t.teardown(() => engine.close());
  const dir = tmpDir(t);
  const cfg = config(9, { dockerHost: engine.address, clusters: [{ uuid: 'v2', version: '2.0', containers }] });
  const started = Date.now();
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', cfg), '--no-state']);
  t.ok(Date.now() - started < BOUND_MS, `started in ${Date.now() - started} ms`);
  t.equal((await api(sc.apiPort, 'GET', '/healthz')).status, 200, 'the config API answers');
  const v2 = (await api(sc.apiPort, 'GET', '/configuration/cluster/v2')).json.cluster;
  t.equal(v2.launch.state, 'failed', 'the container version is failed');
  t.match(v2.launch.message, /did not answer within 10 s/, 'with the reason');
  t.ok(sc.logs.some((l) => /did not answer within 10 s/.test(l)), 'the reason is logged');
  t.equal((await api(sc.apiPort, 'GET', '/configuration/cluster/v1')).status, 200, 'the plain version is there and routed');
});
