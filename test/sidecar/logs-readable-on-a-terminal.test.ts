import { spawn } from 'node:child_process';
import t from 'tap';
import { until } from '../helpers/net.js';
import { BIN, config, startBinary, tmpDir, writeJson } from './helpers.js';

// On a terminal the sidecar logs lines a person reads; into a pipe or a
// file (a collector) JSON lines; --log-format says which either way.
function onTerminal(t: { teardown(fn: () => Promise<void>): void }, args: string[]): Promise<string> {
  // util-linux's script(1) gives the child a pseudo-terminal.
  const cmd = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-q', '-e', '-c', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise((r) => child.once('exit', r));
  t.teardown(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  });
  return until(() => /upshift listening on/.test(out), 20_000).then(async () => {
    child.kill('SIGTERM');
    await exited;
    return out;
  });
}

t.test('readable lines on a terminal', async (t) => {
  const dir = tmpDir(t);
  const file = writeJson(dir, 'c.json', config(1));
  const out = await onTerminal(t, ['--config', file, '--no-state']);
  const line = out.split(/\r?\n/).find((l) => l.includes('upshift listening on'))!;
  t.match(line, /^\d\d:\d\d:\d\d\.\d{3} (\x1b\[36m)?INFO\b/, 'time and level first');
  t.match(line, /event=started/, 'then the fields');
  t.notMatch(out, /"level":30/, 'no JSON');

  const json = await onTerminal(t, ['--config', file, '--no-state', '--log-format', 'json']);
  t.match(json, /\{"level":30,"time":\d+,.*"event":"started"/, '--log-format json on a terminal');
});

t.test('JSON into a pipe, pretty when asked', async (t) => {
  const dir = tmpDir(t);
  const file = writeJson(dir, 'c.json', config(1));
  const piped = await startBinary(t, ['--config', file, '--no-state']);
  t.equal(JSON.parse(piped.logs[0]!).event, 'started', 'a pipe gets JSON lines');

  const child = spawn(process.execPath, [BIN, '--config', file, '--no-state', '--log-format', 'pretty'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  t.teardown(() => { child.kill('SIGKILL'); });
  t.ok(await until(() => err.includes('upshift listening on'), 20_000));
  t.match(err, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}upshift listening on .* {2}event=started /m, 'forced pretty, without colour into a pipe');
});
