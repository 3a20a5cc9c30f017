import t from 'tap';
import { backend } from '../../helpers/net.js';
import { HTTP_MODES, modeOptions } from '../../helpers/modes.js';
import { keepAliveClient, sessionProxy } from './_helpers.js';

for (const m of HTTP_MODES) t.test(`${m}: one keep-alive connection with alternating cookies: each request reaches its own version, in order`, async (t) => {
  const v1 = await backend('v1');
  const v2 = await backend('v2');
  const proxy = await sessionProxy(v1.port, v2.port, modeOptions(m));
  let opened = 0;
  proxy.events.on('connection:open', () => opened++);
  const client = keepAliveClient(proxy.address.port);
  t.teardown(async () => { client.close(); await proxy.close({ drainTimeout: 0 }); await v1.close(); await v2.close(); });

  const seen: string[] = [];
  for (let i = 0; i < 20; i++) {
    const old = i % 2 === 1;
    const r = await client.request({ path: `/r${i}`, cookie: `dynsoftup=${old ? 'old' : 'new'}` });
    t.equal(r.status, 200);
    seen.push(r.body);
    t.match(String(r.headers['set-cookie']), old ? /^dynsoftup=old~[\w-]{16}~[0-9a-z]+; Max-Age=120;/ : /^dynsoftup=new~[\w-]{16}~[0-9a-z]+; Max-Age=120;/, `request ${i} gets its own session cookie`);
  }
  t.same(seen, Array.from({ length: 20 }, (_, i) => (i % 2 === 1 ? 'v1' : 'v2')), 'every request went to the version its cookie names');
  t.same(v1.requests.map((r) => r.url), Array.from({ length: 10 }, (_, i) => `/r${2 * i + 1}`), 'the old version saw its requests in order');
  t.same(v2.requests.map((r) => r.url), Array.from({ length: 10 }, (_, i) => `/r${2 * i}`), 'the new version saw its requests in order');
  t.equal(client.sockets.size, 1, 'the client used one connection');
  // The uws engine has no hook per client connection: each request is one in its events (`UwsLimit` 'connections').
  t.equal(opened, m === 'http+uws' ? 20 : 1, 'the proxy accepted one connection');

  const fresh = await client.request({ path: '/fresh' });
  t.equal(fresh.body, 'v2', 'a request without a cookie on the same connection goes to the newest');
  t.match(String(fresh.headers['set-cookie']), /^dynsoftup=new~[\w-]{16}~[0-9a-z]+;/);
});
