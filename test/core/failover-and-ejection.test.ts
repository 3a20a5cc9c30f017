import t from 'tap';
import { backend, freePort, get, until } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions } from '../helpers/modes.js';

for (const mode of MODES) t.test(`${mode}: unreachable newer versions fall back to the running one`, async (t) => {
  const [run] = await backends(t, ['running']);
  const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [
    { version: '1.0', servers: at(run!) },
    { version: '2.0', servers: at(await freePort()) },
    { version: '3.0', servers: [...at(await freePort()), ...at(await freePort())] },
  ] });
  const fallbacks: string[] = [];
  proxy.events.on('fallback', (e) => fallbacks.push(`${e.fromVersion}->${e.toVersion}`));
  for (let i = 0; i < 3; i++) {
    const r = await get(proxy.address.port);
    t.equal(r.status, 200);
    t.equal(r.body, 'running');
  }
  t.equal(fallbacks[0], '3.0->1.0', 'the fallback is reported');
  const st = proxy.status().versions;
  t.same(st.map((v) => v.state), ['down', 'down', 'up']);
  t.equal(st[0]!.servers.every((s) => !s.healthy && s.ejections >= 1), true, 'the newest\'s servers are ejected');
  t.same(proxy.listVersions().map((v) => v.version), ['3.0', '2.0', '1.0'], 'ejection never deletes a version');
});

for (const mode of MODES) t.test(`${mode}: a refused newest is ejected, then readmitted once it listens again`, async (t) => {
  const [old] = await backends(t, ['old']);
  const port = await freePort();
  const proxy = await proxyFor(t, {
    ...modeOptions(mode),
    health: { ejectBase: 200, ejectMax: 200 },
    versions: [{ version: '1.0', servers: at(old!) }, { uuid: 'new', version: '2.0', servers: at(port) }],
  });
  const events: string[] = [];
  proxy.events.on('upstream:eject', () => events.push('eject'));
  proxy.events.on('upstream:readmit', () => events.push('readmit'));
  proxy.events.on('rollback', (e) => events.push(`rollback->${e.toVersion}`));
  proxy.events.on('recover', () => events.push('recover'));

  t.equal((await get(proxy.address.port)).body, 'old', 'served by the previous version');
  t.same(events.slice(0, 2), ['eject', 'rollback->1.0']);
  t.equal(proxy.status().versions[0]!.state, 'down');

  const revived = await backend('new', undefined, port);
  t.teardown(() => revived.close());
  await new Promise((r) => setTimeout(r, 250));
  t.equal((await get(proxy.address.port)).body, 'new', 'after the backoff the newest is tried and serves');
  t.ok(events.includes('readmit'), 'readmitted');
  t.equal(proxy.status().versions[0]!.state, 'up');
  t.equal(proxy.listVersions().length, 2);
});

for (const mode of MODES) t.test(`${mode}: active health checks readmit a server without client traffic`, async (t) => {
  const [old] = await backends(t, ['old']);
  const port = await freePort();
  const proxy = await proxyFor(t, {
    ...modeOptions(mode),
    health: { ejectBase: 60_000, ejectMax: 60_000, active: { interval: 50, timeout: 200, path: '/healthz' } },
    versions: [{ version: '1.0', servers: at(old!) }, { version: '2.0', servers: at(port) }],
  });
  t.equal((await get(proxy.address.port)).body, 'old');
  t.equal(proxy.status().versions[0]!.state, 'down', 'ejected for a minute');
  const revived = await backend('new', undefined, port);
  t.teardown(() => revived.close());
  t.ok(await until(() => proxy.status().versions[0]!.state === 'up', 2000), 'the health check brought it back');
  t.equal((await get(proxy.address.port)).body, 'new');
});

for (const mode of MODES) t.test(`${mode}: the seed's remove policy deletes a version whose servers are all down`, async (t) => {
  const [old] = await backends(t, ['old']);
  const proxy = await proxyFor(t, {
    ...modeOptions(mode),
    health: { onVersionDown: 'remove' },
    versions: [{ version: '1.0', servers: at(old!) }, { uuid: 'gone', version: '2.0', servers: at(await freePort()) }],
  });
  t.equal((await get(proxy.address.port)).body, 'old');
  t.equal(proxy.getVersion('gone'), undefined, 'removed by policy, as the operator asked');
});

for (const mode of MODES) t.test(`${mode}: nothing left: 503 with a short body, not a silent close`, async (t) => {
  const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [{ version: '1.0', servers: at(await freePort()) }] });
  const r = await get(proxy.address.port);
  t.equal(r.status, 503);
  t.match(r.body, /^503 Service Unavailable/);
  const empty = await proxyFor(t, { ...modeOptions(mode) });
  t.equal((await get(empty.address.port)).status, 503, 'no version configured: 503 too');
});
