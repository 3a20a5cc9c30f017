import http from 'node:http';
import t from 'tap';
import { get, sleep } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions } from '../helpers/modes.js';
const CSS = 'x'.repeat(40_000);

for (const mode of MODES) {
  for (const slow of ['v1', 'v2']) {
    t.test(`${mode}: CONCURRENT, ${slow} slower: closing the slower leg is no error of its version`, async (t) => {
      const [v1, v2] = await backends(t, ['v1', 'v2'], (name) => (_req, res) => {
        res.setHeader('Content-Type', 'text/css');
        setTimeout(() => res.end(name + CSS), name === slow ? 100 : 0);
      });
      const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [
        { uuid: 'v1', version: '1.0', servers: at(v1!) },
        { uuid: 'v2', version: '2.0', servers: at(v2!), upgradeTransition: { mode: 'CONCURRENT' } },
      ] });
      const port = proxy.address.port;
      for (let i = 0; i < 5; i++) t.equal((await get(port, { path: `/style-${i}.css` })).body.slice(0, 2), 'v2');
      // As a browser fetches them: kept-alive connections, GETs then HEADs.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
      t.teardown(() => agent.destroy());
      const gets = await Promise.all(Array.from({ length: 5 }, (_, i) => get(port, { path: `/s-${i}.css`, agent })));
      t.same(gets.map((r) => r.body.slice(0, 2)), ['v2', 'v2', 'v2', 'v2', 'v2']);
      await Promise.all(Array.from({ length: 5 }, (_, i) => get(port, { path: `/s-${i}.css`, agent, method: 'HEAD' })));
      agent.destroy();
      await sleep(300);
      t.same(proxy.status().versions.map((v) => [v.uuid, v.errors]), [['v2', 0], ['v1', 0]], 'no errors counted');
    });
  }
}
