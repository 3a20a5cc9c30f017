import t from 'tap';
import { get } from '../helpers/net.js';
import { backends, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions } from '../helpers/modes.js';

for (const mode of MODES) t.test(`${mode}: round robin spreads connections across a version's servers`, async (t) => {
  const bs = await backends(t, ['s1', 's2', 's3']);
  const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [{ version: '1.0', servers: bs.map((b) => ({ hostname: '127.0.0.1', port: b.port })) }] });
  const seen: string[] = [];
  for (let i = 0; i < 9; i++) seen.push((await get(proxy.address.port)).body);
  t.same(seen, ['s1', 's2', 's3', 's1', 's2', 's3', 's1', 's2', 's3']);
});

for (const mode of MODES) t.test(`${mode}: least-connections prefers the idle server`, async (t) => {
  const bs = await backends(t, ['busy', 'idle'], (name) => (req, res) => {
    // The busy server holds its first request open.
    if (name === 'busy' && req.url === '/hold') setTimeout(() => res.end(name), 400);
    else res.end(name);
  });
  const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [{ version: '1.0', balancing: 'least-connections', servers: bs.map((b) => ({ hostname: '127.0.0.1', port: b.port })) }] });
  const held = get(proxy.address.port, { path: '/hold' });
  await new Promise((r) => setTimeout(r, 100));
  const seen: string[] = [];
  for (let i = 0; i < 3; i++) seen.push((await get(proxy.address.port)).body);
  t.same(seen, ['idle', 'idle', 'idle'], 'while busy holds a connection, idle gets the new ones');
  t.equal((await held).body, 'busy');
});
