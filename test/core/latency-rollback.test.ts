import t from 'tap';
import { get } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions } from '../helpers/modes.js';

for (const mode of MODES) {
  t.test(`${mode}: a slow newest is rolled back when the latency rule is on, and only then`, async (t) => {
    const [b1, b2, b3] = await backends(t, ['v1', 'v2', 'v3'], (name) => (_req, res) => {
      if (name === 'v1') res.end(name);
      else setTimeout(() => res.end(name), 150);
    });
    const latency = { enabled: true, minSample: 20 };
    const proxy = await proxyFor(t, {
      ...modeOptions(mode),
      versions: [
        { uuid: 'v1', version: '1.0', servers: at(b1!) },
        { uuid: 'v2', version: '2.0', servers: at(b2!), judge: { latency } },
      ],
    });
    // The previous version's history first: it served alone before the newest came.
    proxy.rollback('v2');
    for (let i = 0; i < 30; i++) await get(proxy.address.port);
    proxy.resume('v2');
    let sent = 0;
    while (proxy.status().versions[0]!.state !== 'rolled-back' && sent < 80) {
      t.equal((await get(proxy.address.port)).status, 200);
      sent++;
    }
    const v2 = proxy.status().versions[0]!;
    t.equal(v2.rolledBack?.reason, 'latency', `rolled back for latency after ${sent} correct answers`);
    t.match(v2.rolledBack?.evidence, { factor: 3, newestSamples: Number, referenceSamples: 30 });
    const e = v2.rolledBack!.evidence as { newestP99: number; referenceP99: number };
    t.ok(e.newestP99 >= 150 && e.newestP99 > 3 * e.referenceP99, `p99 ${e.newestP99} ms against ${e.referenceP99} ms`);

    // The same slow version without the rule stays.
    proxy.addVersion({ uuid: 'v3', version: '3.0', servers: at(b3!) });
    for (let i = 0; i < 25; i++) t.equal((await get(proxy.address.port)).body, 'v3');
    t.match(proxy.status().versions[0], { uuid: 'v3', state: 'up', judgement: { verdict: 'pass' } }, 'latency alone is no failure by default');
  });
}
