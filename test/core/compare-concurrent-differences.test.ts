import { randomBytes } from 'node:crypto';
import t from 'tap';
import type { Test } from 'tap';
import type { ProxyEvents } from '../../src/core/index.js';
import { get, until } from '../helpers/net.js';
import { backends, proxyFor } from '../helpers/proxy.js';

// CONCURRENT compares the newest's answer with the previous version's for
// every idempotent request: noise (per-server ids, timestamps, nonces,
// request ids) never rolls back; a field changed on every answer does.
import { MODES, modeOptions, type ModeName } from '../helpers/modes.js';

type Body = (name: string, port: number, n: number) => Record<string, unknown>;

/** A JSON backend: the same document on every server, with per-server and per-request noise in it. */
const noisy = (body: Body) => (name: string) => {
  let n = 0;
  return (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    n++;
    const port = req.socket.localPort!;
    res.setHeader('content-type', 'application/json');
    res.setHeader('x-request-id', randomBytes(8).toString('hex'));
    res.end(JSON.stringify({ server: `127.0.0.1:${port}`, at: Date.now() + Math.random(), nonce: randomBytes(6).toString('hex'), ...body(name, port, n) }));
  };
};

const servers = (...ports: number[]) => ports.map((port) => ({ hostname: '127.0.0.1', port }));

async function setup(t: Test, mode: ModeName, body: Body) {
  const [a, b, c] = await backends(t, ['v1', 'v1', 'v2'], noisy(body));
  const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [
    { uuid: 'v1', version: '1.0', servers: servers(a!.port, b!.port) },
    { uuid: 'v2', version: '2.0', servers: servers(c!.port), upgradeTransition: { mode: 'CONCURRENT' } },
  ] });
  const rollbacks: Array<ProxyEvents['rollback']> = [];
  proxy.events.on('rollback', (e) => rollbacks.push(e));
  return { proxy, rollbacks, backs: [a!, b!, c!] as const };
}

const items = (price: number) => ({ items: [{ id: 1, price }, { id: 2, price: 7 }], total: 7 + price });

for (const mode of MODES) {
  t.test(mode, async (t) => {
    t.test('answers differing only in ports, timestamps, nonces and request ids: no rollback', async (t) => {
      const { proxy, rollbacks } = await setup(t, mode, () => items(1));
      for (let i = 0; i < 120; i++) t.equal((await get(proxy.address.port)).status, 200);
      const v2 = proxy.status().versions.find((v) => v.uuid === 'v2')!;
      t.equal(rollbacks.length, 0, 'no rollback');
      t.equal(v2.state, 'up');
      t.ok(v2.comparison.compared >= 100, `compared ${v2.comparison.compared}`);
      t.equal(v2.comparison.noiseBaseline.available, true, 'a noise baseline from the two servers of the previous version');
      t.ok(v2.comparison.noiseBaseline.compared >= 20, `noise comparisons ${v2.comparison.noiseBaseline.compared}`);
      const noise = v2.comparison.noise.map((f) => f.field).sort();
      t.same(noise, ['at', 'nonce', 'server'], 'the per-server and per-request fields are noise');
      t.same(v2.comparison.differences, [], 'nothing else differs (the request id header is ignored)');
      t.equal(v2.comparison.verdict, 'pass');
    });

    t.test('a field changed on every answer: rolled back within 100 requests, the field named', async (t) => {
      const { proxy, rollbacks } = await setup(t, mode, (name) => items(name === 'v2' ? 2 : 1));
      let sent = 0;
      let newest = 0;
      while (rollbacks.length === 0 && sent < 100) {
        if (JSON.parse((await get(proxy.address.port)).body).items[0].price === 2) newest++;
        sent++;
      }
      // The comparison ends after the client's answer: the request after the rollback may already go back.
      t.ok(newest >= sent - 1, `the client got the newest's answer until the rollback (${newest} of ${sent})`);
      t.equal(rollbacks.length, 1, `rolled back after ${sent} requests`);
      t.match(rollbacks[0], { fromUuid: 'v2', toUuid: 'v1', reason: 'differences' });
      const v2 = proxy.status().versions.find((v) => v.uuid === 'v2')!;
      t.equal(v2.state, 'rolled-back');
      t.equal(v2.rolledBack?.reason, 'differences');
      t.match(v2.rolledBack?.evidence, { field: /^(items\[\]\.price|total)$/, sample: { newest: String, previous: String } });
      const fields = v2.comparison.differences.map((f) => f.field);
      t.ok(fields.includes('items[].price') && fields.includes('total'), `differing fields named: ${fields.join(', ')}`);
      const price = v2.comparison.differences.find((f) => f.field === 'items[].price')!;
      t.same(price.sample, { newest: '2', previous: '1' }, 'a sample pair');
      t.equal(price.rate, 1);
      t.equal(JSON.parse((await get(proxy.address.port)).body).items[0].price, 1, 'new traffic goes to the previous version');
    });

    t.test('a difference on 1 answer in 50: reported, no rollback', async (t) => {
      const { proxy, rollbacks } = await setup(t, mode, (name, _port, n) => items(name === 'v2' && n % 50 === 0 ? 2 : 1));
      for (let i = 0; i < 200; i++) await get(proxy.address.port);
      // The last comparison may end just after the client's answer.
      t.ok(await until(() => proxy.status().versions.find((v) => v.uuid === 'v2')!.comparison.compared === 200), 'every request compared');
      t.equal(rollbacks.length, 0, 'no rollback');
      const v2 = proxy.status().versions.find((v) => v.uuid === 'v2')!;
      t.equal(v2.state, 'up');
      const price = v2.comparison.differences.find((f) => f.field === 'items[].price');
      t.ok(price !== undefined, 'the field is reported');
      t.equal(price!.count, 4, 'on 4 of 200 answers');
      t.equal(v2.comparison.verdict, 'pass');
    });

    t.test('side-effect methods still reach one version only', async (t) => {
      const { proxy, backs } = await setup(t, mode, (name) => items(name === 'v2' ? 2 : 1));
      for (let i = 0; i < 30; i++) await get(proxy.address.port, { method: 'POST', body: 'x' });
      const [a, b, c] = backs;
      t.equal(c.requests.length, 30, 'every POST reached the newest');
      t.equal(a.requests.length + b.requests.length, 0, 'none reached the previous version');
      const v2 = proxy.status().versions.find((v) => v.uuid === 'v2')!;
      t.equal(v2.comparison.compared, 0, 'nothing compared');
      t.equal(v2.state, 'up');
    });
  });
}
