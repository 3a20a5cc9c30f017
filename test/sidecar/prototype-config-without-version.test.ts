import { readFileSync } from 'node:fs';
import t from 'tap';
import { backend, get } from '../helpers/net.js';
import { api, startBinary, tmpDir, writeJson } from './helpers.js';

// The prototype's configs and REST bodies often give no version: it is "0.0".
t.test('a config and a PUT without version run as version "0.0", reported in GET', async (t) => {
  const v1 = await backend('v1');
  const v2 = await backend('v2');
  t.teardown(async () => { await v1.close(); await v2.close(); });
  const dir = tmpDir(t);
  const state = `${dir}/state.json`;
  const cfg = writeJson(dir, 'c.json', {
    proxy: { port: 0, host: '127.0.0.1' },
    configService: { port: 0 },
    cluster: { servers: [{ hostname: '127.0.0.1', port: v1.port }] },
  });
  const sc = await startBinary(t, ['--config', cfg, '--state', state]);
  t.equal((await get(sc.proxyPort)).body, 'v1', 'the config\'s cluster serves');
  const [first] = (await api(sc.apiPort, 'GET', '/configuration/cluster')).json;
  t.equal(first.cluster.version, '0.0', 'GET reports the default');

  const put = await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: { servers: [{ hostname: '127.0.0.1', port: v2.port }] } });
  t.equal(put.status, 202, 'a PUT without version is accepted');
  const one = await api(sc.apiPort, 'GET', `/configuration/cluster/${put.text}`);
  t.equal(one.json.cluster.version, '0.0');
  t.equal((await get(sc.proxyPort)).body, 'v2', 'of two "0.0" versions the one added last is the newest');
  const stored = JSON.parse(readFileSync(state, 'utf8')) as { clusters: Array<{ version: string }> };
  t.same(stored.clusters.map((c) => c.version), ['0.0', '0.0'], 'the state file keeps the version it got');
});
