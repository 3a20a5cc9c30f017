import t from 'tap';
import { renderWatch } from '../../../src/sidecar/watch.js';

const status = (requests: number, errors: number) => ({
  address: { host: '127.0.0.1', port: 8080 },
  connections: 3,
  versions: [
    {
      uuid: 'v2', version: '2.0.0', mode: 'GRADUAL', state: 'up', newest: true, share: 31.98, percentage: 31.98, open: 2, requests, errors,
      judgement: { verdict: 'pass', window: { p99FirstByteMs: 41.6 } },
      servers: [{ hostname: '10.0.0.2', port: 3000, healthy: true, state: 'healthy' }, { hostname: '10.0.0.3', port: 3000, healthy: false, state: 'probing' }],
    },
    {
      uuid: 'v1', version: '1.0.0', mode: 'INSTANT', state: 'rolled-back', rolledBack: { reason: 'operator' }, newest: false, share: 68.02, open: 1, requests: 10, errors: 0,
      servers: [{ hostname: '10.0.0.1', port: 3000, healthy: false }],
      launch: { state: 'ready' },
    },
  ],
  events: [{ at: '2026-12-01T10:00:01.000Z', text: '2.0.0 added (GRADUAL)' }],
});

t.test('requests/s and the error share come from two frames', async (t) => {
  const first = renderWatch(status(100, 5), { color: false, now: 1_000, previous: undefined, events: 8 });
  const row1 = first.lines.find((l) => l.startsWith('2.0.0'))!;
  t.match(row1, /2\.0\.0 \*\s+v2\s+GRADUAL 32%\s+up\s+\[###\.{7}\] 32%\s+-\s+5% all\s+42 ms\s+-\s+2\s+pass\s+10\.0\.0\.2:3000 healthy, 10\.0\.0\.3:3000 probing$/, 'first frame: no rate yet, the lifetime error share');
  const second = renderWatch(status(150, 10), { color: false, now: 3_000, previous: first.sample, events: 8 });
  const row2 = second.lines.find((l) => l.startsWith('2.0.0'))!;
  t.match(row2, /\s25\.0\s+10%\s/, '50 requests in 2 s, 5 of them errors');
  t.match(second.lines.find((l) => l.startsWith('1.0.0'))!, /rolled-back \(operator\)[\s\S]*ready 10\.0\.0\.1:3000 ejected$/, 'a rolled-back version says why; an old server without a state field is read from healthy');
  t.equal(second.lines[0], 'upshift 00:00:03  proxy 127.0.0.1:8080  3 open connection(s)  2 version(s)');
  t.same(second.lines.slice(-2), ['last events:', '  10:00:01  2.0.0 added (GRADUAL)']);
});

t.test('plain frames carry no escape codes; colour frames keep the columns aligned', async (t) => {
  const plain = renderWatch(status(1, 0), { color: false, now: 0, previous: undefined, events: 8 });
  t.notOk(plain.lines.some((l) => l.includes('\x1b')), 'no ANSI without colour');
  const color = renderWatch(status(1, 0), { color: true, now: 0, previous: undefined, events: 8 });
  t.ok(color.lines.some((l) => l.includes('\x1b[33mrolled-back')), 'a rolled-back state is painted');
  // eslint-disable-next-line no-control-regex
  const strip = (l: string): string => l.replace(/\x1b\[[0-9;]*m/g, '');
  t.same(color.lines.map(strip), plain.lines, 'and, without its escapes, is the plain frame');
});
