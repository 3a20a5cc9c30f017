import t from 'tap';
import { bucketOf } from '../../src/core/index.js';
import { get } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions } from '../helpers/modes.js';

for (const mode of MODES) t.test(`${mode}: GRADUAL: ids are handed out, the share grows only on correct answers from the newest`, async (t) => {
  let newStatus = 200;
  const [o, n] = await backends(t, ['old', 'new'], (name) => (_req, res) => {
    res.statusCode = name === 'new' ? newStatus : 200;
    res.end(name);
  });
  const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [
    { uuid: 'o', version: '1.0', servers: at(o!) },
    { uuid: 'n', version: '2.0', servers: at(n!), upgradeTransition: { mode: 'GRADUAL', percentageTransitionPerRequest: 10 } },
  ] });
  const port = proxy.address.port;
  const pct = () => proxy.status().versions[0]!.percentage!;
  t.equal(pct(), 10, 'starts at one step');

  const first = await get(port);
  const cookie = String(first.headers['set-cookie']?.find((c) => c.startsWith('transition=')));
  t.match(cookie, /^transition=[A-Za-z0-9_-]{16}; Max-Age=2592000; Expires=.* GMT; Path=\/; HttpOnly; SameSite=Lax$/, 'a transition id is set');

  // Clients chosen by bucket: one inside 10%, one outside 90%.
  const inside = Array.from({ length: 5000 }, (_, i) => `inside-client-${i}`).find((id) => bucketOf(id) < 10)!;
  const outside = Array.from({ length: 5000 }, (_, i) => `outside-client-${i}`).find((id) => bucketOf(id) >= 95)!;
  const before = pct();
  t.equal((await get(port, { cookie: `transition=${outside}` })).body, 'old', 'outside the share: previous version');
  t.equal(pct(), before, 'answers from the previous version do not grow the share');
  t.equal((await get(port, { cookie: `transition=${inside}` })).body, 'new', 'inside the share: newest');
  t.equal(pct(), before + 10, 'a correct answer from the newest grows it by one step');
  newStatus = 500;
  await get(port, { cookie: `transition=${inside}` });
  t.equal(pct(), before + 10, 'a 5xx from the newest does not');
  newStatus = 200;
  for (let i = 0; i < 20; i++) await get(port, { cookie: `transition=${inside}` });
  t.equal(pct(), 100, 'capped at 100');
  t.equal((await get(port, { cookie: `transition=${outside}` })).body, 'new', 'at 100% everyone is on the newest');
  t.equal(proxy.status().versions[1]!.share, 0);
});

for (const mode of MODES) t.test(`${mode}: GRADUAL with a single version serves everything and crashes nothing`, async (t) => {
  const [only] = await backends(t, ['only']);
  const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [{ version: '1.0', servers: at(only!), upgradeTransition: { mode: 'GRADUAL' } }] });
  for (let i = 0; i < 5; i++) t.equal((await get(proxy.address.port)).body, 'only');
  await proxy.removeVersion(proxy.listVersions()[0]!.uuid);
  t.equal((await get(proxy.address.port)).status, 503, 'and with none left: 503');
});
