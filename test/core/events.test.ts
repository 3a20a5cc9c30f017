import diagnostics_channel from 'node:diagnostics_channel';
import t from 'tap';
import { get, until } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions } from '../helpers/modes.js';

for (const mode of MODES) t.test(`${mode}: typed events and diagnostics_channel report the life of a connection`, async (t) => {
  const [b] = await backends(t, ['v1']);
  const proxy = await proxyFor(t, { ...modeOptions(mode) });
  const seen: string[] = [];
  for (const name of ['connection:open', 'route', 'upstream:connect', 'connection:close', 'version:add', 'version:remove'] as const) {
    proxy.events.on(name, () => seen.push(name));
  }
  const routed: unknown[] = [];
  const onRoute = (m: unknown) => routed.push(m);
  diagnostics_channel.subscribe('upshift:route', onRoute);
  t.teardown(() => diagnostics_channel.unsubscribe('upshift:route', onRoute));
  const added = proxy.addVersion({ version: '1.0', servers: at(b!) });
  t.equal((await get(proxy.address.port)).body, 'v1');
  t.ok(await until(() => seen.includes('connection:close')), 'the connection closed');
  await proxy.removeVersion(added.uuid);
  t.same(seen, ['version:add', 'connection:open', 'upstream:connect', 'route', 'connection:close', 'version:remove']);
  t.match(routed, [{ proxyId: proxy.id, uuid: added.uuid, version: '1.0', mode: 'INSTANT', reason: 'newest' }]);
});

for (const mode of MODES) t.test(`${mode}: close() drains open connections until the deadline`, async (t) => {
  const [b] = await backends(t, ['slow'], () => (_req, res) => setTimeout(() => res.end('late'), 200));
  const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [{ version: '1.0', servers: at(b!) }] });
  const pending = get(proxy.address.port);
  // The request must be in flight (not a connection that sent nothing yet, which close() drops at once).
  t.ok(await until(() => b!.requests.length === 1), 'the request reached the server');
  await proxy.close({ drainTimeout: 2000 });
  t.equal((await pending).body, 'late', 'the open request finished during the drain');
  await t.rejects(get(proxy.address.port), 'no longer accepting');
});
