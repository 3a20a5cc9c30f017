import t from 'tap';
import { get } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions } from '../helpers/modes.js';

for (const mode of MODES) {
  t.test(`${mode}: SESSION holders of a rolled-back version go back and get a new cookie`, async (t) => {
    const [b1, b2] = await backends(t, ['v1', 'v2']);
    const proxy = await proxyFor(t, {
      ...modeOptions(mode),
      versions: [
        { uuid: 'v1', version: '1.0', servers: at(b1!), upgradeTransition: { mode: 'SESSION', sessionTimeout: 60 } },
        { uuid: 'v2', version: '2.0', servers: at(b2!), upgradeTransition: { mode: 'SESSION', sessionTimeout: 120 } },
      ],
    });
    const first = await get(proxy.address.port);
    t.equal(first.body, 'v2');
    t.match(String(first.headers['set-cookie']), /^dynsoftup=v2~[\w-]{16}~[0-9a-z]+;/);
    proxy.rollback('v2');
    const next = await get(proxy.address.port, { cookie: 'dynsoftup=v2' });
    t.equal(next.body, 'v1', 'the holder of the rolled-back version\'s cookie is served by the previous one');
    t.match(String(next.headers['set-cookie']), /^dynsoftup=v1~[\w-]{16}~[0-9a-z]+; Max-Age=60;/, 'with a new cookie on that answer');
    t.equal((await get(proxy.address.port)).body, 'v1', 'a new session starts on the previous version');
    proxy.resume('v2');
    t.equal((await get(proxy.address.port, { cookie: 'dynsoftup=v1' })).body, 'v1', 'after resume the moved client stays where it went');
    t.equal((await get(proxy.address.port)).body, 'v2', 'new sessions go to the resumed newest');
  });

  t.test(`${mode}: GRADUAL share returns to 0 and its clients go back`, async (t) => {
    const [b1, b2] = await backends(t, ['v1', 'v2']);
    const proxy = await proxyFor(t, {
      ...modeOptions(mode),
      versions: [
        { uuid: 'v1', version: '1.0', servers: at(b1!) },
        { uuid: 'v2', version: '2.0', servers: at(b2!), upgradeTransition: { mode: 'GRADUAL', initialPercentage: 100, percentageTransitionPerRequest: 1 } },
      ],
    });
    const cookie = 'transition=client-0123456789';
    t.equal((await get(proxy.address.port, { cookie })).body, 'v2');
    const shares: number[] = [];
    proxy.events.on('gradual:share', (e) => shares.push(e.percentage));
    proxy.rollback('v2');
    t.same(shares, [0], 'the share is set to 0');
    t.equal((await get(proxy.address.port, { cookie })).body, 'v1', 'the client goes back');
    const st = proxy.status().versions;
    t.match(st[0], { uuid: 'v2', state: 'rolled-back', percentage: 0, share: 0 });
    t.match(st[1], { uuid: 'v1', share: 100 });
  });

  t.test(`${mode}: CONCURRENT stops sending to a rolled-back version`, async (t) => {
    const [b1, b2] = await backends(t, ['v1', 'v2']);
    const proxy = await proxyFor(t, {
      ...modeOptions(mode),
      versions: [
        { uuid: 'v1', version: '1.0', servers: at(b1!) },
        { uuid: 'v2', version: '2.0', servers: at(b2!), upgradeTransition: { mode: 'CONCURRENT' } },
      ],
    });
    await get(proxy.address.port);
    t.equal(b1!.requests.length, 1, 'both versions got the request');
    proxy.rollback('v2');
    const seen = b2!.requests.length;
    for (let i = 0; i < 5; i++) t.equal((await get(proxy.address.port)).body, 'v1');
    t.equal(b2!.requests.length, seen, 'no leg goes to the rolled-back version');
  });
}
