import t from 'tap';
import { backend } from '../helpers/net.js';
import { config, runBinary, startBinary, tmpDir, writeJson } from './helpers.js';

// `cluster patch` says what it changed, field by field, and its echo of the
// version includes the GRADUAL share (`percentage`), which the cluster JSON
// itself does not carry.
t.test('cluster patch prints what changed and the share', async (t) => {
  const v1 = await backend('v1');
  t.teardown(() => v1.close());
  const dir = tmpDir(t);
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(v1.port, {
    clusters: [{ uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: v1.port }] }],
  })), '--no-state']);
  const patch = (json: string) => runBinary(['cluster', 'patch', 'v2', json, '--api', `127.0.0.1:${sc.apiPort}`]);

  const r = await patch('{"upgradeTransition": {"mode": "GRADUAL", "initialPercentage": 20}, "percentage": 10}');
  t.equal(r.code, 0, r.stderr);
  const [head, ...rest] = r.stdout.split('\n{');
  t.equal(head, [
    'v2 changed:',
    '  upgradeTransition.mode: "INSTANT" -> "GRADUAL"',
    '  upgradeTransition.percentageTransitionPerRequest: (none) -> 1',
    '  upgradeTransition.initialPercentage: (none) -> 20',
    '  percentage: (none) -> 10',
  ].join('\n'));
  const echo = JSON.parse(`{${rest.join('\n{')}`);
  t.equal(echo.cluster.uuid, 'v2');
  t.equal(echo.cluster.percentage, 10, 'the echo includes percentage');

  const again = await patch('{"percentage": 10}');
  t.match(again.stdout, /^v2: nothing changed\n/);
  const share = await patch('{"percentage": 35}');
  t.match(share.stdout, /^v2 changed:\n {2}percentage: 10 -> 35\n\{/);
});
