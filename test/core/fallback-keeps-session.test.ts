import t from 'tap';
import { get } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions } from '../helpers/modes.js';

function sessionOf(r: { headers: Record<string, unknown> }): string | undefined {
  const line = ((r.headers['set-cookie'] as string[] | undefined) ?? []).find((c) => c.startsWith('dynsoftup='));
  return line?.slice('dynsoftup='.length, line.indexOf(';'));
}

for (const mode of MODES) {
  t.test(`${mode}: one failed request falls back to v1, the session stays on v2; a rollback moves it for good`, async (t) => {
    let failNext = false;
    const [v1, v2] = await backends(t, ['v1', 'v2'], (name) => (_req, res) => {
      if (name === 'v2' && failNext) {
        failNext = false;
        res.statusCode = 503;
        res.end('busy');
        return;
      }
      res.end(name);
    });
    const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [
      { uuid: 'v1', version: '1.0', servers: at(v1!) },
      { uuid: 'v2', version: '2.0', servers: at(v2!), upgradeTransition: { mode: 'SESSION', sessionTimeout: 600 } },
    ] });
    const port = proxy.address.port;
    const first = await get(port);
    t.equal(first.body, 'v2');
    let jar = sessionOf(first)!;
    t.match(jar, /^v2~/);

    failNext = true;
    const fell = await get(port, { cookie: `dynsoftup=${jar}` });
    t.equal(fell.body, 'v1', 'the failed answer was replaced by v1');
    const set = sessionOf(fell);
    t.ok(set === undefined || set.startsWith('v2~'), `the cookie still names v2 (${set ?? 'not set again'})`);
    jar = set ?? jar;
    t.equal((await get(port, { cookie: `dynsoftup=${jar}` })).body, 'v2', 'the next request is back on v2');

    proxy.rollback('v2');
    const moved = await get(port, { cookie: `dynsoftup=${jar}` });
    t.equal(moved.body, 'v1', 'rolled back: v1 serves');
    jar = sessionOf(moved)!;
    t.match(jar, /^v1~/, 'and the cookie now names v1');
    proxy.resume('v2');
    t.equal((await get(port, { cookie: `dynsoftup=${jar}` })).body, 'v1', 'resumed: the moved session stays on v1');
    t.equal((await get(port)).body, 'v2', 'while new sessions go to v2');
  });
}
