import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { backend, get, type Backend } from '../helpers/net.js';
import { backends } from '../helpers/proxy.js';
import { api, config, startBinary, tmpDir, writeJson } from './helpers.js';

// A 202 means the change is on disk: SIGKILL right after it loses nothing.
t.test('a version acknowledged with 202 survives SIGKILL', async (t) => {
  const [v1, v2, v3] = (await backends(t, ['v1', 'v2', 'v3'])) as [Backend, Backend, Backend];
  const dir = tmpDir(t);
  const cfgFile = writeJson(dir, 'c.json', config(v1.port));
  const state = `${dir}/state.json`;

  const first = await startBinary(t, ['--config', cfgFile, '--state', state]);
  const put = await api(first.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: v2.port }], upgradeTransition: { mode: 'SESSION', sessionTimeout: 60 } } });
  t.equal(put.status, 202);
  first.child.kill('SIGKILL');
  t.equal((await first.exited).signal, 'SIGKILL', 'killed without a chance to flush anything');

  const second = await startBinary(t, ['--config', cfgFile, '--state', state]);
  const got = await api(second.apiPort, 'GET', '/configuration/cluster/v2');
  t.equal(got.status, 200, 'v2 is back after the restart');
  t.same(got.json.cluster.upgradeTransition, { mode: 'SESSION', sessionTimeout: 60 }, 'with its transition');
  t.equal((await get(second.proxyPort)).body, 'v2', 'and routes');
  t.equal((await get(second.proxyPort, { cookie: 'dynsoftup=v1' })).body, 'v1', 'the config\'s version kept its uuid, so old sessions still find it');

  // Removal and changes are durable the same way.
  t.equal((await api(second.apiPort, 'DELETE', '/configuration/cluster/v2')).status, 202);
  t.equal((await api(second.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v3', version: '3.0.0', servers: [{ hostname: '127.0.0.1', port: v3.port }], upgradeTransition: { mode: 'GRADUAL', percentageTransitionPerRequest: 0.001 } } })).status, 202);
  t.equal((await api(second.apiPort, 'PATCH', '/configuration/cluster/v3', { cluster: { percentage: 0 } })).status, 200);
  second.child.kill('SIGKILL');
  await second.exited;

  const third = await startBinary(t, ['--config', cfgFile, '--state', state]);
  const list = await api(third.apiPort, 'GET', '/configuration/cluster');
  t.same(list.json.map((c: { cluster: { uuid: string } }) => c.cluster.uuid), ['v3', 'v1'], 'the delete and the add survived');
  const st = await api(third.apiPort, 'GET', '/status');
  t.equal(st.json.versions[0].percentage, 0, 'the GRADUAL share set by PATCH survived');
  t.equal((await get(third.proxyPort)).body, 'v1', 'share 0: new clients stay on v1');
  t.ok(third.logs.some((l) => l.includes('"event":"restore"')), 'the restart says where the versions came from');

  const parsed = JSON.parse(readFileSync(state, 'utf8')) as { format: string; clusters: unknown[] };
  t.equal(parsed.format, 'upshift-state/1');
  t.same(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp files left behind');
});

t.test('the state file wins over the config file\'s clusters', async (t) => {
  const v1 = await backend('v1');
  const other = await backend('other');
  t.teardown(async () => { await v1.close(); await other.close(); });
  const dir = tmpDir(t);
  const state = `${dir}/state.json`;
  const a = await startBinary(t, ['--config', writeJson(dir, 'a.json', config(v1.port)), '--state', state]);
  a.child.kill('SIGTERM');
  t.equal((await a.exited).code, 0);
  // Same state, a config that now names another server: the runtime state is what counts.
  const b = await startBinary(t, ['--config', writeJson(dir, 'b.json', config(other.port)), '--state', state]);
  t.equal((await get(b.proxyPort)).body, 'v1');
});
