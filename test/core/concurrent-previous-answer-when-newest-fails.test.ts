import net from 'node:net';
import t from 'tap';
import { freePort, get } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

// The thesis's CONCURRENT rule: when the newest answers 5xx, cannot be
// reached or sends no head in time, the client gets the previous version's
// answer whatever its status, a 5xx included.
import { MODES, modeOptions } from '../helpers/modes.js';

for (const mode of MODES) {
  t.test(mode, async (t) => {
    t.test('both answer 5xx: the previous version\'s 5xx reaches the client, whichever answers first', async (t) => {
      for (const [newDelay, oldDelay] of [[0, 80], [80, 0]] as const) {
        const oldBody = `old broken ${'o'.repeat(50_000)}`;
        const [o, n] = await backends(t, ['old', 'new'], (name) => (_req, res) => {
          setTimeout(() => {
            res.statusCode = name === 'new' ? 502 : 503;
            res.setHeader('x-version', name);
            res.end(name === 'new' ? 'new broken' : oldBody);
          }, name === 'new' ? newDelay : oldDelay);
        });
        const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [
          { version: '1.0', servers: at(o!) },
          { version: '2.0', servers: at(n!), upgradeTransition: { mode: 'CONCURRENT', firstByteTimeout: 2000 } },
        ] });
        const r = await get(proxy.address.port);
        const order = newDelay < oldDelay ? 'newest first' : 'previous first';
        t.equal(r.status, 503, `${order}: the previous version's status`);
        t.equal(r.headers['x-version'], 'old', `${order}: its headers`);
        t.equal(r.body, oldBody, `${order}: its whole body`);
        t.same([n!.requests.length, o!.requests.length], [1, 1], `${order}: both versions got the request`);
      }
    });

    t.test('the newest sends no head in time: the previous version\'s 5xx', async (t) => {
      const [o] = await backends(t, ['old'], () => (_req, res) => { res.statusCode = 500; res.end('old broken'); });
      const hung = new Set<net.Socket>();
      const silent = net.createServer((s) => { hung.add(s); s.resume(); });
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
      t.teardown(() => { for (const s of hung) s.destroy(); silent.close(); });
      const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [
        { version: '1.0', servers: at(o!) },
        { version: '2.0', servers: at((silent.address() as net.AddressInfo).port), upgradeTransition: { mode: 'CONCURRENT', firstByteTimeout: 200 } },
      ] });
      const r = await get(proxy.address.port);
      t.equal(r.status, 500);
      t.equal(r.body, 'old broken');
    });

    t.test('the newest cannot be reached: the previous version\'s 5xx', async (t) => {
      const [o] = await backends(t, ['old'], () => (_req, res) => { res.statusCode = 500; res.end('old broken'); });
      const closed = await freePort();
      const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [
        { version: '1.0', servers: at(o!) },
        { version: '2.0', servers: at(closed), upgradeTransition: { mode: 'CONCURRENT', firstByteTimeout: 2000 } },
      ] });
      const r = await get(proxy.address.port);
      t.equal(r.status, 500);
      t.equal(r.body, 'old broken');
    });
  });
}
