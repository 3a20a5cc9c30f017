import net from 'node:net';
import t from 'tap';
import { at, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions } from '../helpers/modes.js';

for (const mode of MODES) {
  t.test(`${mode}: a 100 Continue reaches the client when it comes, not with the final answer`, async (t) => {
    const srv = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => {
        s.write('HTTP/1.1 100 Continue\r\n\r\n');
        setTimeout(() => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'), 500);
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    t.teardown(() => srv.close());
    const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [{ version: '1.0', servers: at((srv.address() as net.AddressInfo).port) }] });
    const c = net.connect(proxy.address.port, '127.0.0.1');
    t.teardown(() => c.destroy());
    const t0 = Date.now();
    let text = '';
    const seen: Array<[string, number]> = [];
    await new Promise<void>((resolve) => {
      c.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        if (seen.length === 0 && text.includes('100 Continue\r\n\r\n')) seen.push(['100', Date.now() - t0]);
        if (text.includes('\r\n\r\nok')) {
          seen.push(['200', Date.now() - t0]);
          resolve();
        }
      });
      c.write('PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n');
    });
    t.equal(seen[0]?.[0], '100');
    t.ok(seen[1]![1] - seen[0]![1] >= 300, `the 100 came ${seen[0]![1]} ms in, the 200 at ${seen[1]![1]} ms`);
    t.notMatch(text.slice(0, text.indexOf('HTTP/1.1 200')), /set-cookie/i, 'no cookie on the interim answer');
  });
}
