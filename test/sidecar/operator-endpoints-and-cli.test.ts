import t from 'tap';
import { backend, get } from '../helpers/net.js';
import { api, config, runBinary, startBinary, tmpDir, writeJson } from './helpers.js';

t.test('rollback, promote and resume over REST and from the CLI', async (t) => {
  const v1 = await backend('v1');
  const v2 = await backend('v2');
  t.teardown(async () => { await v1.close(); await v2.close(); });
  const dir = tmpDir(t);
  const cfgFile = writeJson(dir, 'c.json', config(v1.port));
  const s = await startBinary(t, ['--config', cfgFile, '--no-state']);
  const cluster = { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: v2.port }], upgradeTransition: { mode: 'GRADUAL', initialPercentage: 0 } };
  t.equal((await api(s.apiPort, 'PUT', '/configuration/cluster', { cluster })).status, 202);
  const state = async () => (await api(s.apiPort, 'GET', '/status')).json.versions[0];
  const cookie = 'transition=client-0123456789';

  const r = await api(s.apiPort, 'POST', '/configuration/cluster/v2/promote');
  t.equal(r.status, 200);
  t.match(r.json, { cluster: { uuid: 'v2', version: '2.0.0' } }, 'answers the cluster JSON');
  t.match(await state(), { state: 'up', share: 100, judgement: { verdict: 'promoted' } });
  t.equal((await get(s.proxyPort, { cookie })).body, 'v2', 'promoted: every new client goes to it');

  t.equal((await api(s.apiPort, 'POST', '/configuration/cluster/v2/rollback')).status, 200);
  t.match(await state(), { state: 'rolled-back', share: 0, rolledBack: { reason: 'operator' } });
  t.equal((await get(s.proxyPort, { cookie })).body, 'v1');
  t.equal((await api(s.apiPort, 'POST', '/configuration/cluster/v2/resume')).status, 200);
  t.match(await state(), { state: 'up', judgement: { verdict: 'too-few', lastDecision: { action: 'resume' } } });

  t.match(await api(s.apiPort, 'POST', '/configuration/cluster/nope/rollback'), { status: 404, json: { error: { code: 'UPS_ERR_VERSION_NOT_FOUND' } } });
  const wrong = await api(s.apiPort, 'GET', '/configuration/cluster/v2/rollback');
  t.equal(wrong.status, 405);
  t.equal(wrong.headers['allow'], 'POST');
  t.equal((await api(s.apiPort, 'PUT', '/configuration/cluster/v2/promote')).status, 405);
  t.equal((await api(s.apiPort, 'POST', '/configuration/cluster/v2/abort')).status, 404, 'only the three actions');
  await api(s.apiPort, 'POST', '/configuration/cluster/v2/rollback');
  t.match(await api(s.apiPort, 'POST', '/configuration/cluster/v1/rollback'), { status: 409, json: { error: { code: 'UPS_ERR_NO_ROLLBACK_TARGET' } } }, 'the last version left cannot be rolled back');

  // The CLI, as an operator runs it.
  const base = `http://127.0.0.1:${s.apiPort}`;
  const resume = await runBinary(['resume', 'v2', '--api', base]);
  t.equal(resume.code, 0, resume.stderr);
  t.equal(resume.stdout, 'version 2.0.0 (v2) resumed\n');
  t.equal((await state()).state, 'up');
  const rb = await runBinary(['rollback', 'v2', '--api', base]);
  t.equal(rb.stdout, 'version 2.0.0 (v2) rolled back\n');
  t.equal((await state()).state, 'rolled-back');
  const st = await runBinary(['status', '--api', base]);
  t.match(st.stdout, /2\.0\.0 \*\s+v2\s+GRADUAL 0%\s+rolled-back \(operator\)/, 'status shows the state and its reason');
  const pr = await runBinary(['promote', 'v2', '--api', base]);
  t.equal(pr.stdout, 'version 2.0.0 (v2) promoted\n');
  t.equal((await state()).judgement.verdict, 'promoted');
  const missing = await runBinary(['rollback', 'nope', '--api', base]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /404 UPS_ERR_VERSION_NOT_FOUND/);
});
