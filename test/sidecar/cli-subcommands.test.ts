import t from 'tap';
import { backend, freePort } from '../helpers/net.js';
import { config, runBinary, startBinary, tmpDir, writeJson } from './helpers.js';

t.test('status and cluster subcommands talk to a running sidecar', async (t) => {
  const v1 = await backend('v1');
  const v2 = await backend('v2');
  t.teardown(async () => { await v1.close(); await v2.close(); });
  const dir = tmpDir(t);
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(v1.port)), '--no-state', '--api-token', 'tok']);
  const apiArgs = ['--api', `127.0.0.1:${sc.apiPort}`, '--api-token', 'tok'];

  const add = await runBinary(['cluster', 'add', writeJson(dir, 'v2.json', { cluster: { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: v2.port }], upgradeTransition: { mode: 'SESSION' } } }), ...apiArgs]);
  t.equal(add.code, 0, add.stderr);
  t.equal(add.stdout, 'v2\n', 'prints the new uuid');

  // A bare cluster (without the {"cluster": ...} wrapper) is accepted too.
  const bare = await runBinary(['cluster', 'add', writeJson(dir, 'v0.json', { uuid: 'v0', version: '0.5', servers: [{ hostname: '127.0.0.1', port: v1.port }] }), ...apiArgs]);
  t.equal(bare.code, 0, bare.stderr);

  const list = await runBinary(['cluster', 'list', ...apiArgs]);
  t.equal(list.code, 0);
  const rows = list.stdout.trim().split('\n');
  t.match(rows[0], /^VERSION\s+UUID\s+MODE\s+STATE\s+SERVERS$/);
  t.match(rows[1], /^2\.0\.0\s+v2\s+SESSION\s+up\s+127\.0\.0\.1:\d+$/, 'newest first, with its state');
  t.match(rows[2], /^1\.0\.0\s+v1\s+INSTANT\s+up/);
  t.match(rows[3], /^0\.5\s+v0/);

  const status = await runBinary(['status', ...apiArgs]);
  t.equal(status.code, 0);
  t.match(status.stdout, /^proxy 127\.0\.0\.1:\d+, \d+ open connection\(s\)\n/);
  t.match(status.stdout, /2\.0\.0 \*\s+v2\s+SESSION\s+up\s+100%/, 'the newest is marked and has the traffic');

  const json = await runBinary(['status', '--json', ...apiArgs]);
  t.equal(JSON.parse(json.stdout).versions.length, 3);

  const patch = await runBinary(['cluster', 'patch', 'v2', '{"upgradeTransition": {"mode": "GRADUAL"}, "percentage": 10}', ...apiArgs]);
  t.equal(patch.code, 0, patch.stderr);
  t.match(patch.stdout, /^v2 changed:\n/, 'says what changed (cluster-patch-prints-changes.test.ts has the detail)');

  const get = await runBinary(['cluster', 'get', 'v2', ...apiArgs]);
  t.equal(JSON.parse(get.stdout).cluster.uuid, 'v2');

  const rm = await runBinary(['cluster', 'rm', 'v2', ...apiArgs]);
  t.equal(rm.code, 0);
  t.match(rm.stdout, /removed v2/);

  const again = await runBinary(['cluster', 'rm', 'v2', ...apiArgs]);
  t.equal(again.code, 1, 'an API error exits 1');
  t.match(again.stderr, /^upshift: 404 UPS_ERR_VERSION_NOT_FOUND: no version with id "v2"\n$/);

  const bad = await runBinary(['cluster', 'add', writeJson(dir, 'bad.json', { cluster: { version: '3' } }), ...apiArgs]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /400 UPS_ERR_INVALID_VERSION: cluster\.servers: is required/);

  const noToken = await runBinary(['status', '--api', `127.0.0.1:${sc.apiPort}`]);
  t.equal(noToken.code, 1);
  t.match(noToken.stderr, /401 UPS_ERR_UNAUTHORIZED/);

  // The address and token can come from the sidecar's own config file.
  const viaConfig = await runBinary(['cluster', 'list', '--config', writeJson(dir, 'same.json', config(v1.port, { configService: { port: sc.apiPort, token: 'tok' } }))]);
  t.equal(viaConfig.code, 0, viaConfig.stderr);
  t.match(viaConfig.stdout, /v1/);
});

t.test('a sidecar that is not running is reported plainly', async (t) => {
  const port = await freePort();
  const r = await runBinary(['status', '--api', `http://127.0.0.1:${port}`]);
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`^upshift: cannot reach the config API at http://127\\.0\\.0\\.1:${port}: ECONNREFUSED \\(is the sidecar running`));
});
