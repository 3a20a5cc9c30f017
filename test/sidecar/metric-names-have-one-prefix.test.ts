import t from 'tap';
import { startSidecar } from '../../src/sidecar/index.js';
import { api } from './helpers.js';

// prom-client's default metrics are named process_* and nodejs_*; with the
// sidecar's prefix they must read upshift_process_* and upshift_nodejs_*,
// never upshift_process_process_* (a doubled prefix).

t.test('process and runtime metrics carry the upshift_ prefix once', async (t) => {
  const sc = await startSidecar({
    proxy: { port: 0, host: '127.0.0.1' }, configService: { port: 0 }, logLevel: 'silent',
    cluster: { uuid: 'one', version: '1.0', servers: [{ hostname: '127.0.0.1', port: 9 }] },
  });
  t.teardown(() => sc.close({ drainTimeout: 0 }));
  const r = await api(sc.apiAddress.port, 'GET', '/metrics');
  const names = new Set(r.text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]!));
  const doubled = [...names].filter((n) => /^upshift_(process|nodejs)_(process|nodejs)_/.test(n));
  t.same(doubled, [], 'no doubled prefix');
  t.ok(names.has('upshift_process_cpu_user_seconds_total'), 'upshift_process_cpu_user_seconds_total');
  t.ok(names.has('upshift_process_start_time_seconds'), 'upshift_process_start_time_seconds');
  t.ok([...names].some((n) => n.startsWith('upshift_nodejs_')), 'upshift_nodejs_* runtime metrics');
  t.same([...names].filter((n) => !n.startsWith('upshift_')), [], 'every metric is upshift_*');
});
