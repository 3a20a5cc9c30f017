import t from 'tap';
import { config, runBinary, tmpDir, writeJson } from './helpers.js';

// An empty bearer token would switch the config API's authentication off:
// from the flag, the environment or the config file, it is an error that
// names where it came from, and the sidecar does not start.

t.test('the sidecar refuses an empty token from every source', async (t) => {
  const dir = tmpDir(t);
  const plain = writeJson(dir, 'plain.json', config(9));
  const withToken = writeJson(dir, 'token.json', config(9, { configService: { port: 0, token: '' } }));
  const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
    ['--api-token ""', ['--config', plain, '--no-state', '--api-token', ''], {}, /--api-token: must not be empty/],
    ['UPSHIFT_API_TOKEN=""', ['--config', plain, '--no-state'], { UPSHIFT_API_TOKEN: '' }, /UPSHIFT_API_TOKEN: must not be empty/],
    ['--api-token "" beside a token in the environment', ['--config', plain, '--no-state', '--api-token', ''], { UPSHIFT_API_TOKEN: 'env-token' }, /--api-token: must not be empty/],
    ['"token": "" in the config', ['--config', withToken, '--no-state'], {}, /configService\.token/],
    ['a token with a space', ['--config', plain, '--no-state', '--api-token', 'two words'], {}, /--api-token: must not contain spaces/],
  ];
  for (const [name, args, env, message] of cases) {
    const r = await runBinary(args, env, 20_000);
    t.equal(r.code, 1, `${name}: exit 1`);
    t.match(r.stderr, message, `${name}: the error names the source`);
    t.notMatch(r.stderr, /"event":"started"/, `${name}: nothing started`);
  }
});

t.test('the subcommands refuse an empty token too (a bare "Bearer " would be sent)', async (t) => {
  for (const [args, env, source] of [
    [['status', '--api', 'http://127.0.0.1:9', '--api-token', ''], {}, '--api-token'],
    [['cluster', 'list', '--api', 'http://127.0.0.1:9'], { UPSHIFT_API_TOKEN: '' }, 'UPSHIFT_API_TOKEN'],
  ] as Array<[string[], Record<string, string>, string]>) {
    const r = await runBinary(args, env, 20_000);
    t.equal(r.code, 1, `${args.join(' ')}: exit 1`);
    t.match(r.stderr, new RegExp(`${source}: must not be empty`), 'names the source');
    t.notMatch(r.stderr, /cannot reach/, 'refused before any call');
  }
});
