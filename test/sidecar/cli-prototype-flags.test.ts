import t from 'tap';
import { backend, get } from '../helpers/net.js';
import { rewritePrototypeFlags } from '../../src/sidecar/prototype-flags.js';
import { config, runBinary, startBinary, tmpDir, writeJson } from './helpers.js';

// The prototype's Go-style flags are aliases of --config and --log-level.
t.test('the rewrite maps the prototype\'s flags and leaves the rest alone', async (t) => {
  const cases: Array<[string[], string[]]> = [
    [['-configFile=c.json'], ['--config=c.json']],
    [['-configFile', 'c.json'], ['--config', 'c.json']],
    [['--configFile=c.json'], ['--config=c.json']],
    [['-logLevel=DEBUG'], ['--log-level=DEBUG']],
    [['-logLevel', 'DEBUG'], ['--log-level', 'DEBUG']],
    [['-configFile=a=b.json'], ['--config=a=b.json']],
    [['-configFile='], ['--config=']],
    [['-c', 'c.json', '-l', 'INFO'], ['-c', 'c.json', '-l', 'INFO']],
    [['--config', 'c.json', '--log-level', 'info'], ['--config', 'c.json', '--log-level', 'info']],
    [['-configfile=c.json'], ['-configfile=c.json']],
    [['-configFileX'], ['-configFileX']],
    [['cluster', 'add', '--', '-logLevel'], ['cluster', 'add', '--', '-logLevel']],
  ];
  for (const [input, want] of cases) t.same(rewritePrototypeFlags(input), want, input.join(' '));
  const argv = ['/usr/bin/node', '/x/bin.js', '-configFile', 'c.json'];
  t.same(rewritePrototypeFlags(argv), ['/usr/bin/node', '/x/bin.js', '--config', 'c.json'], 'node and script paths pass through');
});

t.test('the binary starts with -configFile=FILE -logLevel=LEVEL and with -configFile FILE -logLevel LEVEL', async (t) => {
  const v1 = await backend('v1');
  t.teardown(() => v1.close());
  const dir = tmpDir(t);
  const file = writeJson(dir, 'c.json', config(v1.port));
  for (const args of [[`-configFile=${file}`, '-logLevel=DEBUG'], ['-configFile', file, '-logLevel', 'DEBUG']]) {
    const sc = await startBinary(t, [...args, '--no-state']);
    t.equal((await get(sc.proxyPort)).body, 'v1', `${args.join(' ')}: the config's cluster serves`);
    // Routing decisions are logged at debug only: one proves the level took effect.
    const deadline = Date.now() + 5000;
    while (!sc.logs.some((l) => l.includes('"event":"route"')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    t.ok(sc.logs.some((l) => l.includes('"event":"route"')), `${args.join(' ')}: logs at DEBUG`);
    sc.child.kill('SIGTERM');
    t.equal((await sc.exited).code, 0);
  }
});

t.test('a missing file is named as the prototype flag gave it, and --help shows the aliases', async (t) => {
  const missing = await runBinary(['-configFile=/nonexistent/c.json']);
  t.equal(missing.code, 1);
  t.equal(missing.stderr, 'upshift: --config: file /nonexistent/c.json does not exist\n');
  const file = writeJson(tmpDir(t), 'c.json', config(1));
  const bad = await runBinary(['-logLevel', 'LOUD', '-configFile', file, '--no-state']);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /^upshift: --log-level: must be one of .*, got "LOUD"\n$/, 'a bad level is named as --log-level');
  const help = await runBinary(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /-c, --config <file>[^]*-configFile=FILE\s+and\s+-configFile\s+FILE/);
  t.match(help.stdout, /-l, --log-level <level>[^]*-logLevel=LEVEL\s+and\s+-logLevel\s+LEVEL/);
});
