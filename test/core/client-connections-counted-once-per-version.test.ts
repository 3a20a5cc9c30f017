import http from 'node:http';
import t from 'tap';
import { get } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions, modesExcept } from '../helpers/modes.js';

// A version's `connections` (status, `upshift_connections_total`) counts client
// connections routed to it: not requests, and not server connections, which
// http mode pools and shares between clients.
for (const mode of modesExcept('connections')) t.test(`${mode}: a kept-alive client connection counts once, new connections each count`, async (t) => {
  const [v1] = await backends(t, ['v1']);
  const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [{ uuid: 'one', version: '1.0', servers: at(v1!) }] });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const sockets = new Set<unknown>();
  for (let i = 0; i < 3; i++) t.equal((await get(proxy.address.port, { agent, onSocket: (s) => sockets.add(s) })).body, 'v1');
  t.equal(sockets.size, 1, 'three requests on one client connection');
  const count = (uuid: string): number | undefined => proxy.status().versions.find((v) => v.uuid === uuid)?.connections;
  t.equal(count('one'), 1, 'one client connection counted');
  for (let i = 0; i < 3; i++) await get(proxy.address.port);
  t.equal(count('one'), 4, 'each new client connection counted');
  t.equal(proxy.status().versions[0]!.requests, mode !== 'stream' ? 6 : 4, 'and every request (stream mode: the first of each connection)');

  // An upgrade while the connection stays open: http mode routes its next
  // request to the newest, which counts the connection too; stream mode keeps
  // the connection where it went.
  proxy.addVersion({ uuid: 'two', version: '2.0', servers: at((await backends(t, ['v2']))[0]!) });
  const next = await get(proxy.address.port, { agent, onSocket: (s) => sockets.add(s) });
  t.equal(sockets.size, 1, 'still the same client connection');
  t.equal(next.body, mode !== 'stream' ? 'v2' : 'v1');
  await get(proxy.address.port, { agent });
  t.equal(count('two'), mode !== 'stream' ? 1 : 0, 'the newest counts the connection once, when a request of it went there');
  t.equal(count('one'), 4, 'the first version does not count it again');
});
