import t from 'tap';
import { backend, get } from '../helpers/net.js';
import { api, config, startBinary, tmpDir, writeJson } from './helpers.js';

// The prototype's REST bodies give upgradeTransition fields without "mode":
// the fields say the mode, in a PUT and in a PATCH.
t.test('{"sessionTimeout": 1} without mode is SESSION, and routes as SESSION', async (t) => {
  const v1 = await backend('v1');
  const v2 = await backend('v2');
  t.teardown(async () => { await v1.close(); await v2.close(); });
  const dir = tmpDir(t);
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(v1.port)), '--no-state']);

  const put = await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: { servers: [{ hostname: '127.0.0.1', port: v2.port }], upgradeTransition: { sessionTimeout: 1 } } });
  t.equal(put.status, 202, put.text);
  const uuid = put.text;
  t.same((await api(sc.apiPort, 'GET', `/configuration/cluster/${uuid}`)).json.cluster.upgradeTransition, { mode: 'SESSION', sessionTimeout: 1 }, 'GET shows the mode it took');
  // The config's v1 is 1.0.0 and the new one "0.0": it is an older version, so v1 stays the newest.
  t.equal((await get(sc.proxyPort)).body, 'v1');

  const newest = await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v3', version: '3.0', servers: [{ hostname: '127.0.0.1', port: v2.port }], upgradeTransition: { sessionTimeout: 1 } } });
  t.equal(newest.status, 202);
  const fresh = await get(sc.proxyPort);
  t.equal(fresh.body, 'v2', 'a client without a session goes to the newest');
  t.match(String(fresh.headers['set-cookie']), /^dynsoftup=v3~[\w-]{16}~[0-9a-z]+; Max-Age=1;/, 'and gets the seed\'s session cookie with the sessionTimeout');
  t.equal((await get(sc.proxyPort, { cookie: 'dynsoftup=v1' })).body, 'v1', 'a session on v1 stays on v1');
});

t.test('a PATCH with only sessionTimeout switches a GRADUAL version to SESSION; two modes\' fields are refused', async (t) => {
  const v1 = await backend('v1');
  t.teardown(() => v1.close());
  const dir = tmpDir(t);
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(v1.port, { cluster: { uuid: 'v1', servers: [{ hostname: '127.0.0.1', port: v1.port }], upgradeTransition: { percentageTransitionPerRequest: 5 } } })), '--no-state']);
  t.same((await api(sc.apiPort, 'GET', '/configuration/cluster/v1')).json.cluster.upgradeTransition, { mode: 'GRADUAL', percentageTransitionPerRequest: 5, initialPercentage: 5 }, 'a config\'s percentageTransitionPerRequest is GRADUAL');

  const patched = await api(sc.apiPort, 'PATCH', '/configuration/cluster/v1', { cluster: { upgradeTransition: { sessionTimeout: 60 } } });
  t.equal(patched.status, 200, patched.text);
  t.same(patched.json.cluster.upgradeTransition, { mode: 'SESSION', sessionTimeout: 60 });

  const both = await api(sc.apiPort, 'PATCH', '/configuration/cluster/v1', { cluster: { upgradeTransition: { sessionTimeout: 60, initialPercentage: 10 } } });
  t.equal(both.status, 400);
  t.same(both.json.error.field, 'cluster.upgradeTransition.initialPercentage');
  t.match(both.json.error.message, /give "mode" to say which/);
  t.same((await api(sc.apiPort, 'GET', '/configuration/cluster/v1')).json.cluster.upgradeTransition, { mode: 'SESSION', sessionTimeout: 60 }, 'the refused PATCH changed nothing');
});
