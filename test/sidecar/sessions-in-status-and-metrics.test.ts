import t from 'tap';
import { startSidecar } from '../../src/sidecar/index.js';
import { backend, get } from '../helpers/net.js';
import { api, runBinary } from './helpers.js';

const MODES = ['stream', 'http'] as const;

for (const mode of MODES) {
  t.test(`${mode}: live sessions in /status, in upshift_sessions and in upshift status, with what the figures count`, async (t) => {
    const v1 = await backend('v1');
    t.teardown(() => v1.close());
    const sc = await startSidecar({
      proxy: { port: 0, host: '127.0.0.1', mode }, configService: { port: 0 }, logLevel: 'silent',
      clusters: [{ uuid: 'one', version: '1.0', servers: [{ hostname: '127.0.0.1', port: v1.port }] }],
    });
    t.teardown(() => sc.close({ drainTimeout: 0 }));
    const port = sc.proxyAddress.port;
    for (let i = 0; i < 2; i++) {
      const first = await get(port);
      const line = (first.headers['set-cookie'] as string[])[0]!;
      await get(port, { cookie: line.slice(0, line.indexOf(';')) });
    }
    const st = JSON.parse((await api(sc.apiAddress.port, 'GET', '/status')).text) as { versions: Array<{ sessions: number; counts: string }> };
    t.equal(st.versions[0]!.sessions, 2);
    t.equal(st.versions[0]!.counts, mode === 'http' ? 'requests' : 'first-requests');
    const metrics = (await api(sc.apiAddress.port, 'GET', '/metrics')).text;
    t.match(metrics, /\nupshift_sessions\{uuid="one",version="1\.0"\} 2\n/);
    t.match(metrics, /# HELP upshift_errors_total .*stream mode: of the first request of each connection only/);
    const out = await runBinary(['status', '--api', `127.0.0.1:${sc.apiAddress.port}`]);
    t.equal(out.code, 0, out.stderr);
    t.match(out.stdout, /SHARE\s+SESSIONS\s+REQUESTS/);
    t.match(out.stdout, /1\.0 \*\s+one\s+INSTANT\s+up\s+100%\s+2\s+/);
    if (mode === 'stream') t.match(out.stdout, /stream mode: REQUESTS, ERRORS and FALLBACKS count the first request of each connection only/);
    else t.notMatch(out.stdout, /stream mode/);
  });
}
