import t from 'tap';
import { backend } from '../helpers/net.js';
import { api, config, runBinary, startBinary, tmpDir, writeJson } from './helpers.js';

// GET /configuration/cluster answers the prototype's shape: a JSON array of
// exactly what GET /configuration/cluster/{id} answers, newest first.
t.test('the list is an array of {"cluster": {...}}, newest first, as each GET by id', async (t) => {
  const v1 = await backend('v1');
  t.teardown(() => v1.close());
  const dir = tmpDir(t);
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(v1.port)), '--no-state']);
  const servers = [{ hostname: '127.0.0.1', port: v1.port }];
  for (const [uuid, version] of [['v10', '10.0'], ['v2', '2.0']]) {
    t.equal((await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid, version, servers } })).status, 202);
  }
  const list = await api(sc.apiPort, 'GET', '/configuration/cluster');
  t.equal(list.status, 200);
  t.match(list.headers['content-type'], /^application\/json/);
  t.ok(Array.isArray(list.json), 'a JSON array');
  t.same(list.json.map((item: { cluster: { uuid: string } }) => item.cluster.uuid), ['v10', 'v2', 'v1'], 'newest first (10.0 > 2.0 > 1.0.0)');
  for (const item of list.json as Array<Record<string, { uuid: string }>>) {
    t.same(Object.keys(item), ['cluster'], 'each item holds only "cluster"');
    t.same(item, (await api(sc.apiPort, 'GET', `/configuration/cluster/${item['cluster']!.uuid}`)).json, `item ${item['cluster']!.uuid} is what GET by id answers`);
  }
  t.same((await api(sc.apiPort, 'GET', '/configuration/cluster/')).json, list.json, 'the trailing slash answers the same');

  const apiArgs = ['--api', `127.0.0.1:${sc.apiPort}`];
  const json = await runBinary(['cluster', 'list', '--json', ...apiArgs]);
  t.equal(json.code, 0, json.stderr);
  t.same(JSON.parse(json.stdout), list.json, 'cluster list --json prints the array');
  const table = await runBinary(['cluster', 'list', ...apiArgs]);
  t.equal(table.code, 0, table.stderr);
  t.same(table.stdout.trim().split('\n').slice(1).map((r) => r.split(/\s+/)[1]), ['v10', 'v2', 'v1'], 'cluster list reads it, newest first');
});
