import { existsSync, readFileSync } from 'node:fs';
import t from 'tap';
import { backend, get, until } from '../helpers/net.js';
import { api, config, startBinary, tmpDir, writeJson } from './helpers.js';

t.test('a version judgement rolled back stays rolled back after SIGKILL and a restart', async (t) => {
  const v1 = await backend('v1');
  const v2 = await backend('v2', (_req, res) => {
    res.statusCode = 500;
    res.end('broken');
  });
  t.teardown(async () => { await v1.close(); await v2.close(); });
  const dir = tmpDir(t);
  const cfgFile = writeJson(dir, 'c.json', config(v1.port));
  const state = `${dir}/state.json`;

  const first = await startBinary(t, ['--config', cfgFile, '--state', state]);
  t.equal((await api(first.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: v2.port }] } })).status, 202);
  let sent = 0;
  const rolledBack = async (port: number): Promise<boolean> => (await api(port, 'GET', '/status')).json.versions[0].state === 'rolled-back';
  while (!(await rolledBack(first.apiPort)) && sent < 50) {
    await get(first.proxyPort);
    sent++;
  }
  t.ok(sent <= 20, `judged and rolled back after ${sent} requests`);
  const warn = first.logs.map((l) => JSON.parse(l)).find((l) => l.event === 'rollback');
  t.match(warn, { level: 40, reason: 'errors', from: '2.0.0', to: '1.0.0', msg: /version 2\.0\.0 rolled back \(errors: \d+ of \d+ requests failed(, the previous version \d+ of \d+)?\): new traffic goes to 1\.0\.0/ }, 'a warn log says why');
  const metrics = (await api(first.apiPort, 'GET', '/metrics')).text;
  t.match(metrics, /upshift_rollbacks_total\{from="2\.0\.0",to="1\.0\.0",reason="errors"\} 1/);
  t.match(metrics, /upshift_version_state\{uuid="v2",version="2\.0\.0",state="rolled-back"\} 1/);
  t.match(metrics, /upshift_version_state\{uuid="v2",version="2\.0\.0",state="up"\} 0/);
  // A verdict is written to the state file in the background, right after it is taken.
  const before = (await api(first.apiPort, 'GET', '/status')).json.versions[0];
  t.ok(await until(() => existsSync(state) && readFileSync(state, 'utf8').includes('"rolled-back"')), 'the state file holds the rollback');
  first.child.kill('SIGKILL');
  await first.exited;

  const second = await startBinary(t, ['--config', cfgFile, '--state', state]);
  const after = (await api(second.apiPort, 'GET', '/status')).json.versions[0];
  t.match(after, { uuid: 'v2', state: 'rolled-back', rolledBack: { reason: 'errors', at: before.rolledBack.at } }, 'still rolled back, with its reason and time');
  t.same(after.rolledBack.evidence, before.rolledBack.evidence, 'and its evidence');
  const seen = v2.requests.length;
  for (let i = 0; i < 5; i++) t.equal((await get(second.proxyPort)).body, 'v1');
  t.equal(v2.requests.length, seen, 'no new traffic reaches it');
  t.notMatch((await api(second.apiPort, 'GET', '/metrics')).text, /upshift_rollbacks_total\{/, 'restoring is not a new rollback');
});
