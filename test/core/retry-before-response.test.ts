import net from 'node:net';
import t from 'tap';
import { backend, get, raw, until } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions, modesExcept } from '../helpers/modes.js';

/** A server that accepts, reads the request, and closes without a byte. */
async function dropper(t: { teardown(fn: () => unknown): void }): Promise<{ port: number; seen: () => number }> {
  let seen = 0;
  const srv = net.createServer((s) => s.once('data', () => { seen++; s.destroy(); }));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => srv.close());
  return { port: (srv.address() as net.AddressInfo).port, seen: () => seen };
}

for (const mode of MODES) {
  t.test(`${mode}: an idempotent request whose server closed before answering is sent again elsewhere`, async (t) => {
    const drop = await dropper(t);
    const [good] = await backends(t, ['good']);
    const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [
      { version: '1.0', servers: at(good!) },
      { version: '2.0', servers: at(drop.port) },
    ] });
    const r = await get(proxy.address.port);
    t.equal(r.status, 200);
    t.equal(r.body, 'good', 'the GET was retried on the previous version');
    t.equal(drop.seen(), 1, 'after the newest dropped it');
    t.equal(proxy.status().versions[0]!.errors, 1, 'the drop is counted as an error of the newest');
  });

  t.test(`${mode}: a request with side effects is not sent twice: 502 instead`, async (t) => {
    const drop = await dropper(t);
    const [good] = await backends(t, ['good']);
    const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [
      { version: '1.0', servers: at(good!) },
      { version: '2.0', servers: at(drop.port) },
    ] });
    const r = await get(proxy.address.port, { method: 'POST', body: 'x=1' });
    t.equal(r.status, 502);
    t.equal(good!.requests.length, 0, 'the previous version never saw the POST');
  });

  t.test(`${mode}: a server that resets before answering: GET is retried on the next server, POST is answered 502 and never sent twice`, async (t) => {
    const resetter = await backend('reset', (req) => req.socket.destroy());
    const good = await backend('good', (req, res, body) => res.end(`good ${req.method} ${body}`));
    t.teardown(async () => { await resetter.close(); await good.close(); });
    const proxy = await proxyFor(t, {
      ...modeOptions(mode),
      // maxFails high: the resetting server stays in rotation, so the POST meets it too.
      health: { maxFails: 100 },
      versions: [{ uuid: 'v', version: '1.0', servers: [...at(resetter), ...at(good)] }],
    });
    const port = proxy.address.port;

    // Round robin: the first request of each pair meets the resetting server first.
    const g = await get(port, { path: '/g' });
    t.equal(g.status, 200);
    t.equal(g.body, 'good GET ', 'the GET was retried on the other server');
    t.same(resetter.requests.map((r) => r.url), ['/g'], 'after the resetting server saw it once');

    let posted = 0;
    for (let i = 0; i < 2; i++) {
      const p = await get(port, { path: `/p${i}`, method: 'POST', body: 'once' });
      if (p.status === 502) posted++;
      else t.equal(p.body, 'good POST once');
    }
    t.equal(posted, 1, 'the POST that met the resetting server got 502');
    const sent = [...resetter.requests, ...good.requests].filter((r) => r.method === 'POST').map((r) => r.url).sort();
    t.same(sent, ['/p0', '/p1'], 'each POST reached a server exactly once');
  });

  if (modesExcept('uws-timeouts').includes(mode)) t.test(`${mode}: idle connections are closed after timeouts.idle`, async (t) => {
    const [b] = await backends(t, ['v1']);
    const proxy = await proxyFor(t, { ...modeOptions(mode), timeouts: { idle: 200 }, versions: [{ version: '1.0', servers: at(b!) }] });
    const t0 = Date.now();
    // Keep-alive: the response arrives, then nobody speaks.
    const r = await raw(proxy.address.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { ms: 3000 });
    t.match(r.text, /\r\n\r\nv1$/);
    t.ok(r.closed, 'closed by the proxy');
    t.ok(Date.now() - t0 < 2000, `after about the idle time (${Date.now() - t0} ms)`);
    t.ok(await until(() => proxy.connections === 0));
  });

  t.test(`${mode}: a lone server that stalls: 504 after the first-byte timeout, not a 503`, async (t) => {
    const held: net.Socket[] = [];
    const srv = net.createServer((s) => { held.push(s); });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    t.teardown(() => { for (const s of held) s.destroy(); srv.close(); });
    const proxy = await proxyFor(t, { ...modeOptions(mode), timeouts: { firstByte: 200 }, versions: [{ version: '1.0', servers: at((srv.address() as net.AddressInfo).port) }] });
    const r = await get(proxy.address.port);
    t.equal(r.status, 504);
    t.match(r.body, /^504 Gateway Timeout/);
  });
}
