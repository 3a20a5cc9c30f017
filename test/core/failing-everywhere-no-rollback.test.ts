import t from 'tap';
import { get } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions } from '../helpers/modes.js';

// A request that fails on the newest and on the previous version is the
// request's fault. CONCURRENT sends each GET to both versions, so every
// such request is paired evidence.
for (const mode of MODES) {
  t.test(`${mode}: requests failing on every version never roll the newest back`, async (t) => {
    const [b1, b2] = await backends(t, ['v1', 'v2'], (name) => (req, res) => {
      if (req.url === '/broken') {
        res.statusCode = 500;
        res.end('no such thing');
      } else {
        res.end(name);
      }
    });
    const proxy = await proxyFor(t, {
      ...modeOptions(mode),
      versions: [
        { uuid: 'v1', version: '1.0', servers: at(b1!) },
        { uuid: 'v2', version: '2.0', servers: at(b2!), upgradeTransition: { mode: 'CONCURRENT' } },
      ],
    });
    const rollbacks: unknown[] = [];
    proxy.events.on('rollback', (e) => rollbacks.push(e));
    for (let i = 0; i < 60; i++) {
      t.equal((await get(proxy.address.port, { path: '/broken' })).status, 500);
      if (i % 4 === 0) t.equal((await get(proxy.address.port)).body, 'v2');
    }
    t.equal(rollbacks.length, 0, 'no rollback');
    const v2 = proxy.status().versions[0]!;
    t.equal(v2.state, 'up');
    t.equal(v2.judgement.window.failures, 0, 'none counted against the newest');
    t.equal(v2.judgement.window.excused, 60, 'each was seen as the request\'s fault');
    t.equal(b1!.requests.filter((r) => r.url === '/broken').length, 60, 'the previous version answered each too');
  });
}
