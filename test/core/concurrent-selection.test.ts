import net from 'node:net';
import t from 'tap';
import { backend, get } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';
import { keepAliveClient } from './http-mode/_helpers.js';

import { MODES, modeOptions } from '../helpers/modes.js';

const CONCURRENT = { mode: 'CONCURRENT', firstByteTimeout: 1500 };

for (const mode of MODES) {
  t.test(`${mode}: CONCURRENT answers from the newest unless it answers 5xx (all four combinations)`, async (t) => {
    for (const [newStatus, oldStatus, want] of [[200, 200, 'new'], [200, 500, 'new'], [500, 200, 'old'], [500, 500, 'old']] as const) {
      const [o, n] = await backends(t, ['old', 'new'], (name) => (_req, res) => {
        res.statusCode = name === 'new' ? newStatus : oldStatus;
        res.end(name);
      });
      const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [
        { version: '1.0', servers: at(o!) },
        { version: '2.0', servers: at(n!), upgradeTransition: CONCURRENT },
      ] });
      const r = await get(proxy.address.port);
      t.equal(r.body, want, `new=${newStatus} old=${oldStatus} -> ${want}`);
      t.equal(r.status, want === 'new' ? newStatus : oldStatus);
      t.equal(n!.requests.length, 1, 'the newest got the GET');
      t.equal(o!.requests.length, 1, 'the previous got the GET too');
    }
  });

  t.test(`${mode}: CONCURRENT falls back when the newest crashes (resets without answering)`, async (t) => {
    const [o] = await backends(t, ['old']);
    const crasher = net.createServer((s) => s.once('data', () => s.resetAndDestroy()));
    await new Promise<void>((r) => crasher.listen(0, '127.0.0.1', () => r()));
    t.teardown(() => crasher.close());
    const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [
      { version: '1.0', servers: at(o!) },
      { version: '2.0', servers: at((crasher.address() as net.AddressInfo).port), upgradeTransition: CONCURRENT },
    ] });
    const r = await get(proxy.address.port);
    t.equal(r.status, 200);
    t.equal(r.body, 'old');
  });

  t.test(`${mode}: CONCURRENT: a newest that never answers loses within the deadline; a POST reaches one version`, async (t) => {
    const [o] = await backends(t, ['old']);
    const hung: net.Socket[] = [];
    let hungRequests = 0;
    const silent = net.createServer((s) => {
      hung.push(s);
      s.on('data', (d) => { hungRequests += (d.toString().match(/HTTP\/1\.1\r\n/g) ?? []).length; });
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    t.teardown(() => { for (const s of hung) s.destroy(); silent.close(); });
    const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [
      { version: '1.0', servers: at(o!) },
      { version: '2.0', servers: at((silent.address() as net.AddressInfo).port), upgradeTransition: { mode: 'CONCURRENT', firstByteTimeout: 300 } },
    ] });
    const started = Date.now();
    const r = await get(proxy.address.port);
    const took = Date.now() - started;
    t.equal(r.body, 'old', 'the previous version answered');
    t.ok(took >= 250 && took < 1500, `answered after the 300 ms deadline, not a hang (${took} ms)`);

    const newest = proxy.status().versions[0]!;
    t.equal(newest.errors, 1, 'the silent newest counts an error');
    t.equal(newest.state, 'up', 'but a stall after the request went out does not eject it (a client could cause one)');
  });

  t.test(`${mode}: CONCURRENT sends methods with side effects to one version only`, async (t) => {
    const [o, n] = await backends(t, ['old', 'new']);
    const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [
      { version: '1.0', servers: at(o!) },
      { version: '2.0', servers: at(n!), upgradeTransition: CONCURRENT },
    ] });
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const r = await get(proxy.address.port, { method, body: 'pay=1' });
      t.equal(r.body, 'new', `${method} answered by the newest`);
    }
    t.equal(n!.requests.length, 4, 'the newest got each once');
    t.equal(o!.requests.length, 0, 'the previous got none');
    await get(proxy.address.port);
    t.equal(o!.requests.length, 1, 'a GET still goes to both');
  });

  // Stream mode routes a connection once, on its first request, and pipes the
  // rest to the version that answered: only http mode sends each request of
  // one kept-alive connection to both versions.
  if (mode !== 'stream') {
    t.test(`${mode}: CONCURRENT per request on one keep-alive connection: both versions get each request, the newest good answer wins`, async (t) => {
      let newFails = false;
      const v1 = await backend('v1', (req, res, body) => res.end(`v1 ${req.method} ${body}`));
      const v2 = await backend('v2', (req, res, body) => {
        if (newFails) {
          res.statusCode = 500;
          res.end('broken');
          return;
        }
        res.end(`v2 ${req.method} ${body}`);
      });
      const proxy = await proxyFor(t, {
        ...modeOptions(mode),
        versions: [
          { uuid: 'old', version: '1.0', servers: at(v1) },
          { uuid: 'new', version: '2.0', servers: at(v2), upgradeTransition: { mode: 'CONCURRENT', sideEffectMethods: ['POST'] } },
        ],
      });
      const client = keepAliveClient(proxy.address.port);
      t.teardown(async () => { client.close(); await v1.close(); await v2.close(); });

      t.equal((await client.request({ path: '/a' })).body, 'v2 GET ', 'the newest answers');
      t.same([v1.requests.length, v2.requests.length], [1, 1], 'both versions got the GET');

      const big = 'x'.repeat(200_000);
      t.equal((await client.request({ path: '/b', method: 'PUT', body: big })).body, `v2 PUT ${big}`, 'a body is teed to both');
      t.equal(v1.requests.at(-1)!.body.length, 200_000, 'the old version got the whole body too');

      t.equal((await client.request({ path: '/c', method: 'POST', body: 'once' })).body, 'v2 POST once');
      t.same([v1.requests.length, v2.requests.length], [2, 3], 'a side-effect method went to one version only');

      newFails = true;
      t.equal((await client.request({ path: '/d' })).body, 'v1 GET ', 'the newest answered 500: the previous version\'s answer wins');
      t.equal(client.sockets.size, 1, 'all on one client connection');
      newFails = false;
      t.equal((await client.request({ path: '/e' })).body, 'v2 GET ', 'and the next request goes back to the newest');
    });
  }
}
