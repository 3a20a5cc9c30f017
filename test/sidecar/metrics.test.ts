import t from 'tap';
import { startSidecar } from '../../src/sidecar/index.js';
import { backend, get } from '../helpers/net.js';
import { api } from './helpers.js';

const MODES = ['stream', 'http'] as const;

// Values as Prometheus reads them (Go's ParseFloat: NaN in any case; prom-client writes "Nan" for an empty event-loop histogram).
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,|(?=\})))*\})? (-?[0-9.eE+-]+|[Nn][Aa][Nn]|\+Inf|-Inf)$/;

/** Parses the Prometheus text format strictly enough to fail on a malformed line. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = SAMPLE.exec(line);
    if (m === null) throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
    out.set(m[1]! + (m[2] ?? ''), Number(m[3]));
  }
  return out;
}

for (const mode of MODES) t.test(`${mode}: /metrics is Prometheus text, counts per version, one registry per sidecar`, async (t) => {
  const v1 = await backend('v1');
  const v2 = await backend('v2');
  t.teardown(async () => { await v1.close(); await v2.close(); });
  const mk = (port: number) => startSidecar({
    proxy: { port: 0, host: '127.0.0.1', mode }, configService: { port: 0 }, logLevel: 'silent',
    clusters: [
      { uuid: 'one', version: '1.0', servers: [{ hostname: '127.0.0.1', port: v1.port }] },
      { uuid: 'two', version: '2.0', servers: [{ hostname: '127.0.0.1', port }] },
    ],
  });
  // Two sidecars in one process: with the global registry the second would fail to register its metrics.
  const a = await mk(v2.port);
  const b = await mk(v2.port);
  t.teardown(async () => { await a.close({ drainTimeout: 0 }); await b.close({ drainTimeout: 0 }); });

  for (let i = 0; i < 3; i++) t.equal((await get(a.proxyAddress.port)).body, 'v2');
  t.equal((await get(a.proxyAddress.port, { cookie: 'x=1' })).body, 'v2');
  const r = await api(a.apiAddress.port, 'GET', '/metrics');
  t.equal(r.status, 200);
  t.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const m = parse(r.text);
  t.equal(m.get('upshift_requests_total{uuid="two",version="2.0"}'), 4, 'four requests counted on 2.0');
  t.equal(m.get('upshift_requests_total{uuid="one",version="1.0"}'), 0, 'none on 1.0');
  t.equal(m.get('upshift_connections_total{uuid="two",version="2.0"}'), 4);
  t.equal(m.get('upshift_traffic_share_percent{uuid="two",version="2.0"}'), 100);
  t.equal(m.get('upshift_version_up{uuid="two",version="2.0",mode="INSTANT",newest="true",launch="none"}'), 1);
  t.equal(m.get('upshift_versions'), 2);
  t.ok([...m.keys()].some((k) => k.startsWith('upshift_process_')), 'process metrics too');

  const mb = parse((await api(b.apiAddress.port, 'GET', '/metrics')).text);
  t.equal(mb.get('upshift_requests_total{uuid="two",version="2.0"}'), 0, 'the other sidecar counts its own traffic only');

  // A down version, a fallback and an ejection show up after its server goes away.
  await v2.close();
  t.equal((await get(a.proxyAddress.port)).body, 'v1', 'fell back to 1.0');
  await api(a.apiAddress.port, 'PUT', '/configuration/cluster', { cluster: { uuid: 'three', version: '3.0', servers: [{ hostname: '127.0.0.1', port: v1.port }] } });
  const after = parse((await api(a.apiAddress.port, 'GET', '/metrics')).text);
  t.equal(after.get('upshift_version_up{uuid="two",version="2.0",mode="INSTANT",newest="false",launch="none"}'), 0, '2.0 is down');
  t.equal(after.get('upshift_fallbacks_total{uuid="two",version="2.0",direction="out"}'), 1);
  t.equal(after.get('upshift_fallbacks_total{uuid="one",version="1.0",direction="in"}'), 1);
  t.equal(after.get('upshift_ejections_total{uuid="two",version="2.0"}'), 1);
  t.equal(after.get('upshift_rollbacks_total{from="2.0",to="1.0",reason="down"}'), 1, 'the rollback is counted');
  t.equal(after.get('upshift_config_changes_total{action="add"}'), 1);
  t.equal(after.get('upshift_versions'), 3);
});

t.test('http mode: upshift_upstream_connections shows pooled connections idle between requests', async (t) => {
  const v1 = await backend('v1');
  t.teardown(() => v1.close());
  const sc = await startSidecar({
    proxy: { port: 0, host: '127.0.0.1', mode: 'http' }, configService: { port: 0 }, logLevel: 'silent',
    clusters: [{ uuid: 'one', version: '1.0', servers: [{ hostname: '127.0.0.1', port: v1.port }] }],
  });
  t.teardown(() => sc.close({ drainTimeout: 0 }));
  const server = `127.0.0.1:${v1.port}`;
  const before = parse((await api(sc.apiAddress.port, 'GET', '/metrics')).text);
  t.equal(before.get(`upshift_upstream_connections{uuid="one",version="1.0",server="${server}",state="idle"}`), 0, 'nothing pooled yet');
  t.equal((await get(sc.proxyAddress.port)).body, 'v1');
  const m = parse((await api(sc.apiAddress.port, 'GET', '/metrics')).text);
  t.equal(m.get(`upshift_upstream_connections{uuid="one",version="1.0",server="${server}",state="idle"}`), 1, 'the connection waits in the pool');
  t.equal(m.get(`upshift_upstream_connections{uuid="one",version="1.0",server="${server}",state="active"}`), 0, 'and carries no request');
});
