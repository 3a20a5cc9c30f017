import t from 'tap';
import { createProxy } from '../../src/core/index.js';
import { backend, get } from '../helpers/net.js';

import { MODES, modeOptions } from '../helpers/modes.js';

for (const mode of MODES) t.test(`${mode}: SESSION keeps old sessions on the old version and starts new ones on the newest`, async (t) => {
  const v1 = await backend('v1');
  const v2 = await backend('v2');
  const proxy = await createProxy({
    host: '127.0.0.1',
    ...modeOptions(mode),
    versions: [
      { uuid: 'old', version: '1.0', servers: [{ hostname: '127.0.0.1', port: v1.port }] },
      { uuid: 'new', version: '2.0', servers: [{ hostname: '127.0.0.1', port: v2.port }], upgradeTransition: { mode: 'SESSION', sessionTimeout: 120 } },
    ],
  });
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); await v2.close(); });
  const port = proxy.address.port;

  const fresh = await get(port);
  t.equal(fresh.body, 'v2', 'a client without a session goes to the newest');
  const cookie = String(fresh.headers['set-cookie']);
  t.match(cookie, /^dynsoftup=new~[\w-]{16}~[0-9a-z]+; Max-Age=120; Expires=[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT; Path=\/; HttpOnly; SameSite=Lax$/);

  const old = await get(port, { cookie: 'dynsoftup=old' });
  t.equal(old.body, 'v1', 'an old session stays on the old version');
  t.match(String(old.headers['set-cookie']), /^dynsoftup=old~[\w-]{16}~[0-9a-z]+; Max-Age=120;/, 'and its expiry slides');

  t.equal((await get(port, { cookie: 'dynsoftup=new' })).body, 'v2', 'a new session stays on the newest');
  t.equal((await get(port, { cookie: 'dynsoftup=gone' })).body, 'v2', 'an unknown session goes to the newest');
  t.equal((await get(port, { cookie: 'x=1; dynsoftup=old; dynsoftup=new' })).body, 'v1', 'the first cookie of that name wins');
  t.equal((await get(port, { cookie: 'DYNSOFTUP=old; xdynsoftup=old' })).body, 'v2', 'names match exactly');
});
