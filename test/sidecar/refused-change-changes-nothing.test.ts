import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { get, type Backend } from '../helpers/net.js';
import { backends } from '../helpers/proxy.js';
import { api, config, startBinary, tmpDir, writeJson } from './helpers.js';

// When the state file cannot be written, PUT, PATCH and DELETE answer 500
// UPS_ERR_STATE_FILE and change nothing: not the answers of GET, not
// routing, not what a restart brings back. The state directory is replaced
// by a plain file while the sidecar runs (root ignores permissions, not
// ENOTDIR), then put back.

t.test('a change the state file refuses reaches neither routing nor the restart', async (t) => {
  const [v1, v2, v3] = (await backends(t, ['v1', 'v2', 'v3'])) as [Backend, Backend, Backend];
  const dir = tmpDir(t);
  const cfgFile = writeJson(dir, 'c.json', config(v1.port));
  const stateDir = `${dir}/state`;
  mkdirSync(stateDir);
  const args = ['--config', cfgFile, '--state', `${stateDir}/state.json`];
  const first = await startBinary(t, args);
  const port = first.apiPort;
  const v2Cluster = { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: v2.port }], upgradeTransition: { mode: 'GRADUAL', percentageTransitionPerRequest: 0.001, initialPercentage: 100 } };
  t.equal((await api(port, 'PUT', '/configuration/cluster', { cluster: v2Cluster })).status, 202, 'writable: the PUT is taken');
  const before = (await api(port, 'GET', '/configuration/cluster')).json;
  t.equal((await get(first.proxyPort)).body, 'v2', 'v2 routes');

  renameSync(stateDir, `${stateDir}.away`);
  writeFileSync(stateDir, 'not a directory');

  const refused: Array<[string, string, object | undefined]> = [
    ['PATCH', '/configuration/cluster/v2', { cluster: { version: '2.5.0', upgradeTransition: { mode: 'GRADUAL', percentageTransitionPerRequest: 0.001 } } }],
    ['PATCH', '/configuration/cluster/v2', { cluster: { percentage: 0 } }],
    ['DELETE', '/configuration/cluster/v2', undefined],
    ['PUT', '/configuration/cluster', { cluster: { uuid: 'v3', version: '3.0.0', servers: [{ hostname: '127.0.0.1', port: v3.port }] } }],
  ];
  for (const [method, path, body] of refused) {
    const r = await api(port, method, path, body);
    t.equal(r.status, 500, `${method} ${path}: 500`);
    t.equal(r.json?.error?.code, 'UPS_ERR_STATE_FILE', `${method}: UPS_ERR_STATE_FILE`);
    t.same((await api(port, 'GET', '/configuration/cluster')).json, before, `${method}: GET shows the old state`);
    for (let i = 0; i < 3; i++) t.equal((await get(first.proxyPort)).body, 'v2', `${method}: routing is as it was`);
  }
  const st = (await api(port, 'GET', '/status')).json;
  t.equal(st.versions[0].percentage, 100, 'the refused share was never applied');
  t.equal((await api(port, 'GET', '/configuration/cluster/v3')).status, 404, 'the refused PUT left no version');

  rmSync(stateDir);
  renameSync(`${stateDir}.away`, stateDir);
  first.child.kill('SIGKILL');
  await first.exited;
  const second = await startBinary(t, args);
  t.same((await api(second.apiPort, 'GET', '/configuration/cluster')).json, before, 'a restart shows the old state');
  t.equal((await get(second.proxyPort)).body, 'v2', 'and routes as before');
  t.equal((await api(second.apiPort, 'PATCH', '/configuration/cluster/v2', { cluster: { percentage: 50 } })).status, 200, 'writable again: changes are taken');
});
