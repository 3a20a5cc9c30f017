import { Writable } from 'node:stream';
import t from 'tap';
import { startSidecar, toPinoLevel } from '../../src/sidecar/index.js';
import { backend, freePort, get } from '../helpers/net.js';
import { api } from './helpers.js';

function capture(): { stream: Writable; lines: Array<Record<string, any>> } {
  const lines: Array<Record<string, any>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { stream, lines };
}

t.test('seed level names map to pino levels', async (t) => {
  const table: Array<[string, string | undefined]> = [
    ['CRITICAL', 'fatal'], ['ERROR', 'error'], ['WARNING', 'warn'], ['NOTICE', 'info'], ['INFO', 'info'], ['DEBUG', 'debug'],
    ['warn', 'warn'], ['trace', 'trace'], ['silent', 'silent'], ['Debug', 'debug'], ['LOUD', undefined], ['', undefined],
  ];
  for (const [name, level] of table) t.equal(toPinoLevel(name), level, `${name} -> ${level}`);
});

t.test('core events become logs: warn for eject/fallback/rollback, info for changes, debug for routes', async (t) => {
  const v1 = await backend('v1');
  t.teardown(() => v1.close());
  const gone = await freePort();
  const run = async (level: string) => {
    const { stream, lines } = capture();
    const sc = await startSidecar({
      proxy: { port: 0, host: '127.0.0.1' }, configService: { port: 0 }, logLevel: level,
      cluster: { uuid: 'v1', version: '1.0', servers: [{ hostname: '127.0.0.1', port: v1.port }] },
    }, { logStream: stream });
    t.teardown(() => sc.close({ drainTimeout: 0 }));
    await api(sc.apiAddress.port, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0', servers: [{ hostname: '127.0.0.1', port: gone }] } });
    t.equal((await get(sc.proxyAddress.port)).body, 'v1', 'v2 refuses: the client is served by v1');
    return lines;
  };

  const debug = await run('DEBUG');
  const find = (lines: Array<Record<string, any>>, event: string) => lines.find((l) => l['event'] === event);
  t.equal(find(debug, 'version:add')?.['level'], 30, 'a config change is info');
  t.equal(find(debug, 'upstream:eject')?.['level'], 40, 'an ejection is warn');
  t.equal(find(debug, 'fallback')?.['level'], 40, 'a fallback is warn');
  t.equal(find(debug, 'rollback')?.['level'], 40, 'a rollback is warn');
  t.match(find(debug, 'rollback')?.['msg'], /newest version 2\.0 is down: new traffic goes to 1\.0/);
  t.equal(find(debug, 'route')?.['level'], 20, 'a route decision is debug');
  t.equal(find(debug, 'started')?.['name'], 'upshift');

  const warning = await run('WARNING');
  t.equal(find(warning, 'version:add'), undefined, 'WARNING hides info');
  t.equal(find(warning, 'route'), undefined, 'and debug');
  t.ok(find(warning, 'rollback'), 'but keeps warnings');
});
