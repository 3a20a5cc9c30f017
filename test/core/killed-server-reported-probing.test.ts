import t from 'tap';
import { get, sleep } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

// A server whose ejection ran out is routable again (the next request tries
// it), but nothing proved it reachable: status must say so, and give the
// share that clients really get, not the one it had before it died.
import { MODES, modeOptions } from '../helpers/modes.js';

for (const mode of MODES) {
  t.test(mode, async (t) => {
    const [v1, v2] = await backends(t, ['v1', 'v2']);
    const proxy = await proxyFor(t, {
      ...modeOptions(mode),
      // An ejection of 1 s: long enough to be seen as such on a loaded machine, short enough to wait out.
      health: { ejectBase: 1000, ejectMax: 1000 },
      versions: [
        { uuid: 'v1', version: '1.0', servers: at(v1!) },
        { uuid: 'v2', version: '2.0', servers: at(v2!), upgradeTransition: { mode: 'GRADUAL', initialPercentage: 50 } },
      ],
    });
    const before = proxy.status().versions;
    t.same(before.map((v) => [v.uuid, v.state, v.share]), [['v2', 'up', 50], ['v1', 'up', 50]], 'both up, GRADUAL splits');
    t.equal(before[0]!.servers[0]!.state, 'healthy');

    await v2!.close();
    // A client lands on v2 (bucket below 50 for some ids): its dial fails, v2 is ejected.
    for (let i = 0; i < 20 && proxy.status().versions[0]!.ejections === 0; i++) {
      t.equal((await get(proxy.address.port)).body, 'v1', 'clients are served by v1');
    }
    const ejected = proxy.status().versions[0]!;
    t.equal(ejected.servers[0]!.state, 'ejected', 'the refused server is ejected');
    t.equal(ejected.state, 'down');

    await sleep(1200);
    const after = proxy.status().versions;
    t.equal(after[0]!.servers[0]!.state, 'probing', 'past its ejection window the server is probing');
    t.equal(after[0]!.servers[0]!.healthy, false, 'not healthy');
    t.ok(after[0]!.servers[0]!.ejectedUntil! <= Date.now(), 'its ejection ran out');
    t.same(after.map((v) => [v.uuid, v.state, v.share]), [['v2', 'down', 0], ['v1', 'up', 100]], 'v2 is still down and v1 has every client');

    // The next client that routing sends to v2 fails over to v1, as status said.
    for (let i = 0; i < 10; i++) t.equal((await get(proxy.address.port)).body, 'v1');
    t.equal(proxy.status().versions[0]!.state, 'down');
  });
}
