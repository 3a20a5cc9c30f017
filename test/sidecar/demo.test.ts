import { spawn } from 'node:child_process';
import t from 'tap';
import { get, sleep, until } from '../helpers/net.js';
import { BIN, api, runBinary } from './helpers.js';

// The README's demo, driven like a newcomer would with curl: every step it prints must do what it says.
t.test('upshift demo walks through INSTANT, SESSION, GRADUAL and a rollback', async (t) => {
  const child = spawn(process.execPath, [BIN, 'demo', '--proxy-port', '0', '--api-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.teardown(async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  t.ok(await until(() => out.includes('Press Ctrl-C'), 15_000), `the demo starts (stderr: ${err})`);
  const m = /^demo: proxy http:\/\/127\.0\.0\.1:(\d+) config-api http:\/\/127\.0\.0\.1:(\d+) v1-pid (\d+) v2-pid (\d+)$/m.exec(out);
  t.ok(m, 'first line names the addresses');
  const [P, A, , v2pid] = [Number(m![1]), Number(m![2]), Number(m![3]), Number(m![4])];
  const commands = out.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('curl') || l.startsWith('kill') || l.startsWith('for ') || l.startsWith('npx upshift'));
  // The printed `npx upshift status --api URL`, run as the binary it names.
  const statusArgs = /^npx upshift (status --api \S+)/.exec(commands.find((c) => c.startsWith('npx upshift status'))!)![1]!.split(' ');
  t.equal(statusArgs[2], `http://127.0.0.1:${m![2]}`, 'upshift status is pointed at the config API');
  t.ok(commands.length >= 10, 'prints the commands to try');

  t.equal((await get(P)).body, 'hello from v1\n', 'step 1: v1 serves');

  const putCmd = commands.find((c) => c.includes('-X PUT'))!;
  const putBody = /-d '(.*)'$/.exec(putCmd)![1]!;
  t.equal((await api(A, 'PUT', '/configuration/cluster', putBody)).status, 202, 'step 2: the printed PUT is accepted');
  t.equal((await get(P)).body, 'hello from v2\n', 'INSTANT: new clients get v2');

  const patches = commands.filter((c) => c.includes('-X PATCH')).map((c) => /-d '(.*)'$/.exec(c)![1]!);
  t.equal((await api(A, 'PATCH', '/configuration/cluster/v2', patches[0]!)).status, 200, 'step 3: SESSION');
  const fresh = await get(P);
  t.equal(fresh.body, 'hello from v2\n');
  t.match(String(fresh.headers['set-cookie']), /^dynsoftup=v2~[\w-]{16}~[0-9a-z]+;/, 'a new client gets a session cookie on v2');
  t.equal((await get(P, { cookie: 'dynsoftup=v1' })).body, 'hello from v1\n', 'a session on v1 stays there');

  t.equal((await api(A, 'PATCH', '/configuration/cluster/v2', patches[1]!)).status, 200, 'step 4: GRADUAL');
  const counts = new Map<string, number>();
  for (let i = 0; i < 20; i++) {
    const b = (await get(P)).body;
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  t.ok((counts.get('hello from v1\n') ?? 0) > 0 && (counts.get('hello from v2\n') ?? 0) > 0, `GRADUAL splits new clients (${JSON.stringify([...counts])})`);
  const share = (await api(A, 'GET', '/status')).json.versions[0].percentage;
  t.ok(share >= 30 && share <= 50, `the share started at 30 and grew with good answers (${share})`);

  process.kill(v2pid, 'SIGTERM');
  t.ok(await until(() => out.includes('app v2')), 'the demo notices v2 stopped');
  t.ok(await until(async () => (await api(A, 'GET', '/status')).json.versions[0].state === 'down', 3000, 100), 'within 2 s of the kill v2 is down, with no client asking');
  await sleep(100);
  for (let i = 0; i < 10; i++) t.equal((await get(P)).body, 'hello from v1\n', `step 5: request ${i} falls back to v1 without an error`);
  const status = (await api(A, 'GET', '/status')).json.versions;
  t.equal(status[0].state, 'down', 'v2 is down');
  t.equal(status[1].share, 100, 'v1 takes all new traffic');
  await sleep(1500);
  const later = await runBinary(statusArgs);
  t.equal(later.code, 0, later.stderr);
  t.match(later.stdout, /2\.0\.0 \*\s+v2\s+GRADUAL \d+%\s+down\s+0%.*\((ejected|probing)\)/, 'past its ejection window, upshift status still says v2 is down');
  t.match(later.stdout, /1\.0\.0\s+v1\s+INSTANT\s+up\s+100%/, 'and v1 has a share of 100');

  child.kill('SIGINT');
  t.equal(await exited, 0, 'Ctrl-C stops the demo cleanly');
  t.throws(() => process.kill(Number(m![3]), 0), 'and v1\'s process with it');
});
