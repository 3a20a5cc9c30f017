import t from 'tap';
import { backend, get, until } from '../helpers/net.js';
import { api, config, runBinary, startBinary, tmpDir, writeJson } from './helpers.js';

// The comparison as an operator sees it: `upshift diff ID`, /status and /metrics.
t.test('upshift diff prints the differing fields; /metrics counts comparisons and differences', async (t) => {
  const json = (price: number) => (_req: unknown, res: import('node:http').ServerResponse) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ items: [{ id: 1, price }], at: Date.now() }));
  };
  const v1 = await backend('v1', json(1));
  const v2 = await backend('v2', json(2));
  t.teardown(async () => { await v1.close(); await v2.close(); });
  const dir = tmpDir(t);
  // `at` is a timestamp: with one server behind v1 no baseline can tell it is noise, so it is ignored by name.
  const cfg = config(v1.port, { proxy: { port: 0, host: '127.0.0.1', compare: { ignoreFields: ['at'] } } });
  const s = await startBinary(t, ['--config', writeJson(dir, 'c.json', cfg), '--no-state']);
  const cluster = { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: v2.port }], upgradeTransition: { mode: 'CONCURRENT' } };
  t.equal((await api(s.apiPort, 'PUT', '/configuration/cluster', { cluster })).status, 202);
  const v2Status = async () => (await api(s.apiPort, 'GET', '/status')).json.versions.find((v: { uuid: string }) => v.uuid === 'v2');
  // Only a race the newest wins is compared, and a comparison ends when the slower leg's answer has
  // been read to its end: on a busy machine 30 requests may hold fewer than the 20 comparisons the
  // rule wants, so requests go on (bounded) until the rollback.
  let sent = 0;
  for (; sent < 400; sent++) {
    await get(s.proxyPort);
    if (sent >= 30 && sent % 10 === 0 && (await v2Status()).state === 'rolled-back') break;
  }
  t.ok(await until(async () => (await v2Status()).state === 'rolled-back', 10_000, 50), `v2 rolled back (after ${sent} requests)`);
  const st = await v2Status();
  t.match(st, { state: 'rolled-back', rolledBack: { reason: 'differences', evidence: { field: 'items[].price' } } });
  t.match(st.comparison, { enabled: true, noiseBaseline: { available: false }, differences: [{ field: 'items[].price', sample: { newest: '2', previous: '1' } }] });
  t.equal(st.comparison.differences.length, 1, 'the ignored timestamp is not a difference');

  t.ok(s.logs.some((l) => /rolled back \(differences: items\[\]\.price differed in \d+ of \d+ compared answers, e\.g\. 2 instead of 1\)/.test(l)), 'a warning names the field');
  const base = `http://127.0.0.1:${s.apiPort}`;
  const diff = await runBinary(['diff', 'v2', '--api', base]);
  t.equal(diff.code, 0, diff.stderr);
  t.match(diff.stdout, /^version 2\.0\.0 \(v2\), rolled-back: \d+ compared in the window \(\d+ in all\), verdict fail\n/);
  t.match(diff.stdout, /no noise baseline \(the previous version has one server\)/);
  t.match(diff.stdout, /FIELD\s+KIND\s+COUNT\s+RATE\s+TOTAL\s+NOISE\s+NEWEST\s+PREVIOUS\n/);
  t.match(diff.stdout, /items\[\]\.price\s+difference\s+\d+\s+100\.0%\s+\d+\s+-\s+2\s+1\n/);
  const asJson = await runBinary(['diff', 'v2', '--json', '--api', base]);
  t.match(JSON.parse(asJson.stdout), { differences: [{ field: 'items[].price' }] });
  const missing = await runBinary(['diff', 'nope', '--api', base]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /no version nope \(versions: v2, v1\)/);

  const metrics = (await api(s.apiPort, 'GET', '/metrics')).text;
  const compared = /upshift_compared_total\{uuid="v2",version="2\.0\.0"\} (\d+)/.exec(metrics);
  t.ok(compared !== null && Number(compared[1]) >= 20, `upshift_compared_total ${compared?.[1]}`);
  t.match(metrics, /upshift_differences_total\{uuid="v2",version="2\.0\.0",field="items\[\]\.price"\} \d+/);
  t.match(metrics, /upshift_rollbacks_total\{from="2\.0\.0",to="1\.0\.0",reason="differences"\} 1/);
});
