import t from 'tap';
import { get } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions } from '../helpers/modes.js';

function jar(r: { headers: Record<string, unknown> }): string {
  const line = ((r.headers['set-cookie'] as string[] | undefined) ?? []).find((c) => c.startsWith('dynsoftup='))!;
  return line.slice(0, line.indexOf(';'));
}

for (const mode of MODES) {
  t.test(`${mode}: /status counts live sessions per version and says what its figures count`, async (t) => {
    const [v1, v2] = await backends(t, ['v1', 'v2']);
    const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [{ uuid: 'v1', version: '1.0', servers: at(v1!) }] });
    const port = proxy.address.port;
    const sessions = () => Object.fromEntries(proxy.status().versions.map((v) => [v.uuid, v.sessions]));
    const old = await Promise.all([1, 2, 3].map(async () => jar(await get(port))));
    t.same(sessions(), { v1: 0 }, 'a session counts once its cookie comes back');
    for (const c of old) await get(port, { cookie: c });
    for (const c of old) await get(port, { cookie: c });
    t.same(sessions(), { v1: 3 }, 'three sessions, each counted once');
    proxy.addVersion({ uuid: 'v2', version: '2.0', servers: at(v2!), upgradeTransition: { mode: 'SESSION', sessionTimeout: 60 } });
    const fresh = await Promise.all([1, 2].map(async () => jar(await get(port))));
    for (const c of [...old, ...fresh]) await get(port, { cookie: c });
    t.same(sessions(), { v2: 2, v1: 3 }, 'the old sessions stay counted on v1, the new ones on v2');
    proxy.rollback('v2');
    for (const c of fresh) await get(port, { cookie: c });
    t.same(sessions(), { v2: 0, v1: 5 }, 'rolled back: its sessions moved to v1 and count there');
    t.same(proxy.status().versions.map((v) => v.counts), mode !== 'stream' ? ['requests', 'requests'] : ['first-requests', 'first-requests']);
  });
}
