import t from 'tap';
import { backend, until } from '../helpers/net.js';
import { api, config, startBinary, tmpDir, writeJson } from './helpers.js';

// dockerode is an optional peer dependency: a sidecar installed without it
// routes plain servers as ever, and a version with containers says what to install.
t.test('without dockerode, container versions fail with the package to install', async (t) => {
  const v1 = await backend('v1');
  t.teardown(() => v1.close());
  const dir = tmpDir(t);
  // A resolve hook that makes dockerode missing, as in an install without it.
  const hook = writeJson(dir, 'no-dockerode.mjs', `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`export async function resolve(s, c, next) {
  if (s === 'dockerode') { const e = new Error("Cannot find package 'dockerode' imported from " + c.parentURL); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; }
  return next(s, c);
}\`));
`);
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(v1.port, {
    clusters: [{ uuid: 'c2', version: '2.0.0', containers: { image: 'app', portToProxy: 80 } }],
  })), '--no-state'], { NODE_OPTIONS: `--import ${hook}` });
  t.ok(await until(async () => (await api(sc.apiPort, 'GET', '/configuration/cluster/c2')).json.cluster.launch.state === 'failed', 10_000), 'the container version fails');
  const launch = (await api(sc.apiPort, 'GET', '/configuration/cluster/c2')).json.cluster.launch;
  t.match(launch.message, /need the optional package dockerode: run `npm install dockerode`/, 'saying what to install');
  const put = await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'c3', version: '3.0.0', containers: { image: 'app', portToProxy: 80 } } });
  t.equal(put.status, 400);
  t.equal(put.json.error.code, 'UPS_ERR_NO_LAUNCHER');
  t.match(put.json.error.message, /npm install dockerode/);
  const status = (await api(sc.apiPort, 'GET', '/status')).json.versions;
  t.same(status.map((v: { uuid: string; state: string; share: number }) => [v.uuid, v.state, v.share]), [['c2', 'down', 0], ['v1', 'up', 100]], 'plain servers route as ever');
});
