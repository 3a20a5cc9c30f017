import t from 'tap';
import { get } from '../helpers/net.js';
import { HTTP_MODES, modeOptions } from '../helpers/modes.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

for (const m of HTTP_MODES) t.test(`${m}: INSTANT sends everyone to the newest whatever their cookies`, async (t) => {
  const [v1, v2] = await backends(t, ['v1', 'v2']);
  const proxy = await proxyFor(t, { ...modeOptions(m), versions: [
    { uuid: 'one', version: '1.0', servers: at(v1!) },
    { uuid: 'two', version: '2.0', servers: at(v2!) },
  ] });
  const port = proxy.address.port;
  for (const cookie of [undefined, 'dynsoftup=one', 'transition=abcdefgh12']) {
    const r = await get(port, { cookie });
    t.equal(r.body, 'v2', `cookie ${cookie} -> newest`);
    t.match(String(r.headers['set-cookie']), /^dynsoftup=two~/, 'the session cookie names the version that served');
  }
});

for (const m of HTTP_MODES) t.test(`${m}: removing the newest falls back to the next; a lower version never takes over; ties go to the newest added`, async (t) => {
  const [a, b, c, d] = await backends(t, ['v1.9', 'v1.10', 'v1.10-later', 'v0.5']);
  const proxy = await proxyFor(t, modeOptions(m));
  const port = proxy.address.port;
  proxy.addVersion({ uuid: 'a', version: '1.9', servers: at(a!) });
  proxy.addVersion({ uuid: 'b', version: '1.10', servers: at(b!) });
  t.equal((await get(port)).body, 'v1.10', '"1.10" beats "1.9" (not string order)');
  proxy.addVersion({ uuid: 'c', version: '1.10', servers: at(c!) });
  t.equal((await get(port)).body, 'v1.10-later', 'a tie goes to the most recently added');
  proxy.addVersion({ uuid: 'd', version: '0.5', servers: at(d!) });
  t.equal((await get(port)).body, 'v1.10-later', 'adding a lower version changes nothing');
  t.same(proxy.listVersions().map((v) => v.uuid), ['c', 'b', 'a', 'd'], 'listed newest first');
  await proxy.removeVersion('c');
  t.equal((await get(port)).body, 'v1.10', 'removing the newest falls back to the next');
  await proxy.removeVersion('b');
  t.equal((await get(port)).body, 'v1.9');
  await t.rejects(proxy.removeVersion('b'), { code: 'UPS_ERR_VERSION_NOT_FOUND' });
  t.throws(() => proxy.addVersion({ uuid: 'a', version: '3', servers: at(a!) }), { code: 'UPS_ERR_VERSION_EXISTS' });
});

for (const m of HTTP_MODES) t.test(`${m}: updateVersion changes servers and transition at run time`, async (t) => {
  const [x, y] = await backends(t, ['x', 'y']);
  const proxy = await proxyFor(t, { ...modeOptions(m), versions: [{ uuid: 'v', version: '1', servers: at(x!) }] });
  t.equal((await get(proxy.address.port)).body, 'x');
  proxy.updateVersion('v', { servers: at(y!) });
  t.equal((await get(proxy.address.port)).body, 'y');
  const updated = proxy.updateVersion('v', { upgradeTransition: { mode: 'GRADUAL', percentageTransitionPerRequest: 5 }, percentage: 40 });
  t.equal(updated.upgradeTransition.mode, 'GRADUAL');
  t.equal(proxy.status().versions[0]!.percentage, 40);
  t.throws(() => proxy.updateVersion('v', { percentage: 140 }), { code: 'UPS_ERR_INVALID_VERSION', field: 'cluster.percentage' });
  t.throws(() => proxy.updateVersion('nope', {}), { code: 'UPS_ERR_VERSION_NOT_FOUND' });
});
