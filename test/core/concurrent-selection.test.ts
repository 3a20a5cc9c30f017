import net from 'node:net';
import t from 'tap';
import { get } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

const MODES = ['stream', 'http'] as const;

const CONCURRENT = { mode: 'CONCURRENT', firstByteTimeout: 1500 };

for (const mode of MODES) t.test(`${mode}: CONCURRENT answers from the newest unless it answers 5xx (all four combinations)`, async (t) => {
  for (const [newStatus, oldStatus, want] of [[200, 200, 'new'], [200, 500, 'new'], [500, 200, 'old'], [500, 500, 'old']] as const) {
    const [o, n] = await backends(t, ['old', 'new'], (name) => (_req, res) => {
      res.statusCode = name === 'new' ? newStatus : oldStatus;
      res.end(name);
    });
    const proxy = await proxyFor(t, { mode, versions: [
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

for (const mode of MODES) t.test(`${mode}: CONCURRENT falls back when the newest crashes (resets without answering)`, async (t) => {
  const [o] = await backends(t, ['old']);
  const crasher = net.createServer((s) => s.once('data', () => s.resetAndDestroy()));
  await new Promise<void>((r) => crasher.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => crasher.close());
  const proxy = await proxyFor(t, { mode, versions: [
    { version: '1.0', servers: at(o!) },
    { version: '2.0', servers: at((crasher.address() as net.AddressInfo).port), upgradeTransition: CONCURRENT },
  ] });
  const r = await get(proxy.address.port);
  t.equal(r.status, 200);
  t.equal(r.body, 'old');
});

for (const mode of MODES) t.test(`${mode}: CONCURRENT: a newest that never answers loses within the deadline; a POST reaches one version`, async (t) => {
  const [o] = await backends(t, ['old']);
  const hung: net.Socket[] = [];
  let hungRequests = 0;
  const silent = net.createServer((s) => {
    hung.push(s);
    s.on('data', (d) => { hungRequests += (d.toString().match(/HTTP\/1\.1\r\n/g) ?? []).length; });
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => { for (const s of hung) s.destroy(); silent.close(); });
  const proxy = await proxyFor(t, { mode, versions: [
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

for (const mode of MODES) t.test(`${mode}: CONCURRENT sends methods with side effects to one version only`, async (t) => {
  const [o, n] = await backends(t, ['old', 'new']);
  const proxy = await proxyFor(t, { mode, versions: [
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
