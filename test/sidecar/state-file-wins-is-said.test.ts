import t from 'tap';
import { backend } from '../helpers/net.js';
import { config, runBinary, startBinary, tmpDir, writeJson } from './helpers.js';

// After a first run the state file, not the config's clusters, decides the
// versions. A person who edited the config must see that: a warn line at
// start-up naming the file and the way back, and a line in `upshift status`.
t.test('a restart from the state file warns that the config\'s clusters are not used', async (t) => {
  const v1 = await backend('v1');
  t.teardown(() => v1.close());
  const dir = tmpDir(t);
  const cfgFile = writeJson(dir, 'c.json', config(v1.port));

  const first = await startBinary(t, ['--config', cfgFile]);
  t.notOk(first.logs.some((l) => l.includes('"event":"restore"')), 'the first run seeds the state file silently');
  const fresh = await runBinary(['status', '--api', `127.0.0.1:${first.apiPort}`]);
  t.notMatch(fresh.stdout, /restored/, 'and its status says nothing of a restore');
  first.child.kill('SIGTERM');
  await first.exited;

  // The operator edits the config: a new version in place of 1.0.0.
  writeJson(dir, 'c.json', config(v1.port, { cluster: { uuid: 'v9', version: '9.0.0', servers: [{ hostname: '127.0.0.1', port: v1.port }] } }));
  const second = await startBinary(t, ['--config', cfgFile]);
  const line = second.logs.map((l) => JSON.parse(l) as { event?: string; level: number; msg: string; stateFile?: string }).find((l) => l.event === 'restore');
  t.ok(line, 'a restore line');
  t.equal(line!.level, 40, 'at warn level');
  t.equal(line!.stateFile, `${cfgFile}.state.json`);
  t.match(line!.msg, `${cfgFile}.state.json`, 'naming the state file');
  t.match(line!.msg, /wins over the config's clusters/);
  t.match(line!.msg, /delete the state file \(or start with --no-state\)/, 'and how to start from the config again');

  const st = await runBinary(['status', '--api', `127.0.0.1:${second.apiPort}`]);
  t.equal(st.code, 0, st.stderr);
  t.match(st.stdout, `versions restored from the state file ${cfgFile}.state.json: the config's clusters were not used.`);
  t.match(st.stdout, /--no-state/);
  t.notMatch(st.stdout, /9\.0\.0/, 'the edited cluster is indeed not used');

  second.child.kill('SIGTERM');
  await second.exited;
  const third = await startBinary(t, ['--config', cfgFile, '--no-state']);
  const st3 = await runBinary(['status', '--api', `127.0.0.1:${third.apiPort}`]);
  t.match(st3.stdout, /9\.0\.0/, '--no-state starts from the config');
});
