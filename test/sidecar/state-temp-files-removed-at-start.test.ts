import { existsSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { api, config, startBinary, tmpDir, writeJson } from './helpers.js';

// A write of the state file that a crash interrupted leaves its temp file
// (`<state>.<pid>.<n>.tmp`), which holds environment values. The next start
// removes such files, and only those.

t.test('leftover temp files of the state file are removed at start', async (t) => {
  const dir = tmpDir(t);
  const state = `${dir}/state.json`;
  const leftovers = [`${state}.4242.1.tmp`, `${state}.77.13.tmp`];
  for (const f of leftovers) writeFileSync(f, '{"clusters": [{"containers": [{"environment": {"KEY": "sk-live-secret"}}]}]}');
  const kept = [`${dir}/other.json.1.1.tmp`, `${state}.bak`, `${state}.x.1.tmp`];
  for (const f of kept) writeFileSync(f, 'not ours');
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(9)), '--state', state]);
  t.equal((await api(sc.apiPort, 'GET', '/healthz')).status, 200);
  for (const f of leftovers) t.notOk(existsSync(f), `${f} removed`);
  for (const f of kept) t.ok(existsSync(f), `${f} kept (not a temp file of this state file)`);
  t.ok(sc.logs.some((l) => /removed 2 leftover temp file/.test(l)), 'the removal is logged');
});
