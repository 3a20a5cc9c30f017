import http from 'node:http';
import t from 'tap';
import { createProxy } from '../../src/core/index.js';
import { get } from '../helpers/net.js';
import { at, backends } from '../helpers/proxy.js';

import { MODES, modeOptions, modesExcept } from '../helpers/modes.js';

for (const mode of MODES) {
  if (modesExcept('connections').includes(mode)) t.test(`${mode}: close() does not wait for a client's idle kept-alive connection`, async (t) => {
    const [b] = await backends(t, ['v1']);
    const proxy = await createProxy({ host: '127.0.0.1', ...modeOptions(mode), versions: [{ version: '1.0', servers: at(b!) }] });
    t.teardown(() => proxy.close({ drainTimeout: 0 })); // a no-op after the test's own close
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    t.teardown(() => agent.destroy());
    t.equal((await get(proxy.address.port, { agent })).body, 'v1');
    t.equal(proxy.connections, 1, 'the client keeps its connection open');
    const t0 = Date.now();
    await proxy.close({ drainTimeout: 5000 });
    const ms = Date.now() - t0;
    // The drain deadline is 5 s; an idle connection is let go in a few sweeps of 25 ms.
    t.ok(ms < 1500, `closed in ${ms} ms`);
    t.equal(proxy.connections, 0);
  });

  t.test(`${mode}: close() still lets a request waiting for its answer finish`, async (t) => {
    const [b] = await backends(t, ['slow'], () => (_req, res) => setTimeout(() => res.end('late'), 400));
    const proxy = await createProxy({ host: '127.0.0.1', ...modeOptions(mode), versions: [{ version: '1.0', servers: at(b!) }] });
    t.teardown(() => proxy.close({ drainTimeout: 0 })); // a no-op after the test's own close
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    t.teardown(() => agent.destroy());
    const pending = get(proxy.address.port, { agent });
    const deadline = Date.now() + 3000;
    while (b!.requests.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    t.equal(b!.requests.length, 1, 'the request reached the server');
    await proxy.close({ drainTimeout: 5000 });
    t.equal((await pending).body, 'late', 'its answer came before the connection closed');
  });
}
