import t from 'tap';
import { backend, until } from '../helpers/net.js';
import { api, config, runBinary, startBinary, tmpDir, writeJson } from './helpers.js';

// The sidecar checks its servers by default (a TCP connect every 2 s): a
// killed server is reported down by /status, `upshift status` and /metrics
// without any client having to fail on it first, and stays down past its
// ejection window.
t.test('a killed server is reported down without client traffic', async (t) => {
  const v1 = await backend('v1');
  const v2 = await backend('v2');
  t.teardown(async () => { await v1.close(); await v2.close().catch(() => {}); });
  const dir = tmpDir(t);
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(v1.port, {
    proxy: { port: 0, host: '127.0.0.1', health: { ejectBase: 200, ejectMax: 400 } },
    clusters: [{ uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: v2.port }] }],
  })), '--no-state']);
  const status = async () => (await api(sc.apiPort, 'GET', '/status')).json.versions as Array<{ uuid: string; state: string; share: number; servers: Array<{ state: string }> }>;
  t.same((await status()).map((v) => [v.uuid, v.state, v.share]), [['v2', 'up', 100], ['v1', 'up', 0]]);

  await v2.close();
  t.ok(await until(async () => (await status())[0]!.state === 'down', 6000, 100), 'the active check finds v2 down');
  // Well past the ejection window (at most 400 ms): still down, ejected or probing, never healthy.
  await new Promise((r) => setTimeout(r, 1500));
  const st = await status();
  t.same(st.map((v) => [v.uuid, v.state, v.share]), [['v2', 'down', 0], ['v1', 'up', 100]], 'v2 down, v1 has every new client');
  t.match(st[0]!.servers[0]!.state, /^(ejected|probing)$/);

  const metrics = (await api(sc.apiPort, 'GET', '/metrics')).text;
  t.match(metrics, /^upshift_version_up\{uuid="v2"[^}]*\} 0$/m, 'upshift_version_up is 0 for v2');
  t.match(metrics, /^upshift_traffic_share_percent\{uuid="v2"[^}]*\} 0$/m);
  t.match(metrics, /^upshift_traffic_share_percent\{uuid="v1"[^}]*\} 100$/m);

  const cli = await runBinary(['status', '--api', `127.0.0.1:${sc.apiPort}`]);
  t.equal(cli.code, 0, cli.stderr);
  t.match(cli.stdout, /2\.0\.0 \*\s+v2\s+INSTANT\s+down\s+0%.*\((ejected|probing)\)/, 'upshift status says v2 is down');
  t.match(cli.stdout, /1\.0\.0\s+v1\s+INSTANT\s+up\s+100%/);
});
