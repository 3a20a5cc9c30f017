import net from 'node:net';
import t from 'tap';
import { raw } from '../helpers/net.js';
import { at, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions } from '../helpers/modes.js';

/** A server that answers every request head with `answer`, then closes. */
async function rawServer(t: { teardown(fn: () => unknown): void }, answer: string): Promise<number> {
  const srv = net.createServer((s) => {
    s.on('error', () => {});
    s.once('data', () => s.end(answer, 'latin1'));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => srv.close());
  return (srv.address() as net.AddressInfo).port;
}

const CASES: Array<[string, string]> = [
  ['a four-digit status', 'HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok'],
  ['a bare CR inside a field', 'HTTP/1.1 200 OK\r\nX-A: 1\rX-B: 2\r\nContent-Length: 2\r\n\r\nok'],
  ['more than 8 interim answers', `${'HTTP/1.1 100 Continue\r\n\r\n'.repeat(9)}HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok`],
];

for (const mode of MODES) {
  t.test(mode, async (t) => {
    for (const [name, answer] of CASES) {
      t.test(`${name}: 502, on the connection's first answer too`, async (t) => {
        const port = await rawServer(t, answer);
        const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [{ version: '1.0', servers: at(port) }] });
        const r = await raw(proxy.address.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { ms: 3000 });
        const finals = r.text.split('\r\n').filter((l) => /^HTTP\/1\.1 [2-5]\d\d /.test(l));
        t.match(finals.at(-1) ?? '', /^HTTP\/1\.1 502 /, r.text.slice(0, 80));
        t.notMatch(r.text, /HTTP\/1\.1 2000|X-A: 1\r/, 'nothing of the broken head reached the client');
      });
    }
    t.test('8 interim answers are still taken', async (t) => {
      const port = await rawServer(t, `${'HTTP/1.1 100 Continue\r\n\r\n'.repeat(8)}HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok`);
      const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [{ version: '1.0', servers: at(port) }] });
      const r = await raw(proxy.address.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { ms: 3000 });
      t.match(r.text, /HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok/);
    });
  });
}
