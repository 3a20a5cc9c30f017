import t from 'tap';
import type { ProxyEvents } from '../../src/core/index.js';
import { DEFAULT_IGNORE_HEADERS } from '../../src/core/compare/options.js';
import { get, until } from '../helpers/net.js';
import { backends, proxyFor } from '../helpers/proxy.js';

// Shadowing: `compare.sample` on a version in INSTANT, SESSION or GRADUAL
// also sends that share of its idempotent requests to the previous version
// and compares the answers; the client always gets the routed version's.
import { MODES, modeOptions } from '../helpers/modes.js';

/** JSON answers naming their version in a header (ignored by the comparison); `price` per version. */
const priced = (price: (name: string) => number) => (name: string) => (_req: unknown, res: import('node:http').ServerResponse) => {
  res.setHeader('content-type', 'application/json');
  res.setHeader('x-backend', name);
  res.end(JSON.stringify({ items: [{ id: 1, price: price(name) }] }));
};

const compare = (sample: number) => ({ sample, ignoreHeaders: [...DEFAULT_IGNORE_HEADERS, 'x-backend'] });

for (const mode of MODES) {
  t.test(mode, async (t) => {
    t.test('GRADUAL: shadowed requests are compared, the client gets the routed answer', async (t) => {
      const [o, n] = await backends(t, ['v1', 'v2'], priced(() => 1));
      const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [
        { uuid: 'v1', version: '1.0', servers: [{ hostname: '127.0.0.1', port: o!.port }] },
        {
          uuid: 'v2', version: '2.0', servers: [{ hostname: '127.0.0.1', port: n!.port }],
          upgradeTransition: { mode: 'GRADUAL', initialPercentage: 50, percentageTransitionPerRequest: 0.0001 }, compare: compare(1),
        },
      ] });
      let routedNew = 0;
      for (let i = 0; i < 60; i++) {
        const r = await get(proxy.address.port);
        t.match(r.headers['set-cookie'], /transition=/, 'the transition cookie as usual');
        if (r.headers['x-backend'] === 'v2') routedNew++;
      }
      t.ok(routedNew > 5 && routedNew < 55, `${routedNew} of 60 routed to the newest`);
      const v2 = () => proxy.status().versions.find((v) => v.uuid === 'v2')!;
      t.ok(await until(() => v2().comparison.compared === routedNew), 'each request routed to the newest was compared');
      t.equal(n!.requests.length, routedNew, 'the newest saw only its own requests');
      t.equal(o!.requests.length, 60, 'the previous version saw its own and the shadowed ones');
      t.same(v2().comparison.differences, [], 'no difference');
      t.equal(v2().comparison.noiseBaseline.available, false, 'one server: no noise baseline, said so');
      t.equal(v2().state, 'up');
    });

    t.test('GRADUAL: a shadowed difference on every answer rolls back, clients got the routed answer until then', async (t) => {
      const [o, n] = await backends(t, ['v1', 'v2'], priced((name) => (name === 'v2' ? 2 : 1)));
      const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [
        { uuid: 'v1', version: '1.0', servers: [{ hostname: '127.0.0.1', port: o!.port }] },
        {
          uuid: 'v2', version: '2.0', servers: [{ hostname: '127.0.0.1', port: n!.port }],
          upgradeTransition: { mode: 'GRADUAL', initialPercentage: 100, percentageTransitionPerRequest: 0.0001 }, compare: compare(1),
        },
      ] });
      const rollbacks: Array<ProxyEvents['rollback']> = [];
      proxy.events.on('rollback', (e) => rollbacks.push(e));
      let sent = 0;
      let wrong = 0;
      while (rollbacks.length === 0 && sent < 100) {
        const r = await get(proxy.address.port);
        if (r.headers['x-backend'] !== 'v2' || JSON.parse(r.body).items[0].price !== 2) wrong++;
        sent++;
      }
      t.ok(wrong <= 1, 'until the rollback every client got the newest\'s answer');
      t.equal(rollbacks.length, 1, `rolled back after ${sent} requests`);
      t.match(rollbacks[0], { fromUuid: 'v2', reason: 'differences', evidence: { field: 'items[].price' } });
      t.equal((await get(proxy.address.port)).headers['x-backend'], 'v1', 'clients go back to the previous version');
    });

    t.test('INSTANT: a sample of 0.2 shadows about a fifth of the requests; POSTs never', async (t) => {
      const [o, n] = await backends(t, ['v1', 'v2'], priced(() => 1));
      const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [
        { uuid: 'v1', version: '1.0', servers: [{ hostname: '127.0.0.1', port: o!.port }] },
        { uuid: 'v2', version: '2.0', servers: [{ hostname: '127.0.0.1', port: n!.port }], compare: compare(0.2) },
      ] });
      for (let i = 0; i < 200; i++) t.equal((await get(proxy.address.port)).headers['x-backend'], 'v2');
      for (let i = 0; i < 50; i++) await get(proxy.address.port, { method: 'POST', body: 'x' });
      const v2 = () => proxy.status().versions.find((v) => v.uuid === 'v2')!;
      t.ok(await until(() => v2().comparison.compared === o!.requests.length), 'every copy compared');
      const shadowed = o!.requests.length;
      t.ok(shadowed >= 15 && shadowed <= 70, `${shadowed} of 200 GETs shadowed`);
      t.ok(o!.requests.every((r) => r.method === 'GET'), 'no POST was copied');
      t.equal(v2().comparison.compared, shadowed, 'each shadowed request compared');
      t.equal(v2().comparison.sample, 0.2);
    });
  });
}
