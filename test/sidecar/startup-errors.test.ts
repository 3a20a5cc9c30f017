import t from 'tap';
import { config, runBinary, tmpDir, writeJson } from './helpers.js';

// Each bad start exits 1 with one line naming the field. The real binary is spawned for the
// cases the issue names and one per distinct path (file, JSON, schema, core validator, launcher
// rules, flag, state file); the exhaustive table runs in process in config-file.test.ts.
t.test('startup errors exit 1 with one message naming the field', async (t) => {
  const dir = tmpDir(t);
  const good = config(3000);
  const cases: Array<[string, string[] | unknown, RegExp]> = [
    ['missing file', ['--config', `${dir}/nope.json`], /--config: file .*nope\.json does not exist/],
    ['no --config', [], /--config <file> is required/],
    ['not JSON', '{"proxy": ', /config: .* is not valid JSON/],
    ['missing proxy', { configService: { port: 0 }, cluster: good.cluster }, /^upshift: proxy: is required/],
    ['port too large', { ...good, proxy: { port: 70000 } }, /^upshift: proxy\.port: must be an integer from 0 to 65535/],
    ['missing configService', { proxy: { port: 0 }, cluster: good.cluster }, /^upshift: configService: is required/],
    ['bad configService port', { ...good, configService: { port: -1 } }, /^upshift: configService\.port: must be an integer from 0 to 65535/],
    ['missing cluster', { proxy: { port: 0 }, configService: { port: 0 } }, /^upshift: cluster: is required/],
    ['bad server port', { ...good, cluster: { version: '1', servers: [{ hostname: 'h', port: 0 }] } }, /^upshift: cluster\.servers\[0\]\.port: must be an integer from 1 to 65535/],
    ['bad proxy option', { ...good, proxy: { port: 0, timeouts: { connect: -5 } } }, /^upshift: proxy\.timeouts\.connect: must be an integer/],
    ['bad log level flag', ['--log-level', 'LOUD'], /^upshift: --log-level: must be one of/],
    ['bad containers', { ...good, cluster: { version: '2', containers: { image: 'app' } } }, /^upshift: cluster\.containers\.portToProxy: is required/],
    ['corrupt state file', ['--state', 'CORRUPT'], /^upshift: state file .* is not valid JSON/],
  ];
  for (const [name, input, expected] of cases) {
    let args: string[];
    if (Array.isArray(input) && (input.length === 0 || typeof input[0] === 'string') && name !== 'not an object') {
      args = input as string[];
      if (name === 'bad log level flag') args = ['--config', writeJson(dir, 'good.json', good), '--no-state', ...args];
      if (name === 'corrupt state file') args = ['--config', writeJson(dir, 'good.json', good), '--state', writeJson(dir, 'corrupt.json', '{"format": "upsh')];
    } else {
      args = ['--config', writeJson(dir, `${name.replace(/\W/g, '_')}.json`, input), '--no-state'];
    }
    const r = await runBinary(args);
    t.equal(r.code, 1, `${name}: exit 1`);
    t.match(r.stderr, expected, `${name}: names the field`);
    t.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line`);
  }
});

t.test('a port in use is named', async (t) => {
  const net = await import('node:net');
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => blocker.close());
  const busy = (blocker.address() as { port: number }).port;
  const dir = tmpDir(t);
  const r1 = await runBinary(['--config', writeJson(dir, 'a.json', config(3000, { proxy: { port: busy, host: '127.0.0.1' } })), '--no-state']);
  t.equal(r1.code, 1);
  t.match(r1.stderr, /^upshift: proxy\.port: 127\.0\.0\.1:\d+ is in use/);
  const r2 = await runBinary(['--config', writeJson(dir, 'b.json', config(3000, { configService: { port: busy } })), '--no-state']);
  t.equal(r2.code, 1);
  t.match(r2.stderr, /^upshift: configService\.port: 127\.0\.0\.1:\d+ is in use/);
});

t.test('--help explains every option with an example config', async (t) => {
  const r = await runBinary(['--help']);
  t.equal(r.code, 0);
  for (const opt of ['--config', '--log-level', '--state', '--api-token', 'status', 'cluster', 'demo', '"configService"', 'CRITICAL', 'WARNING', 'NOTICE']) {
    t.ok(r.stdout.includes(opt), `mentions ${opt}`);
  }
});
