import t from 'tap';
import { get } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions } from '../helpers/modes.js';

for (const mode of MODES) {
  for (const on of [true, false]) {
    t.test(`${mode}: Location, Content-Location and Refresh at the backend's address ${on ? 'point at the proxy' : 'pass unchanged with rewrite.location false'}`, async (t) => {
      let self = 0;
      const [v1] = await backends(t, ['v1'], () => (req, res) => {
        if (req.url === '/away') {
          res.writeHead(302, { Location: 'http://example.com/elsewhere' });
        } else {
          res.writeHead(302, {
            Location: `http://127.0.0.1:${self}/wp-admin/?x=1`,
            'Content-Location': `http://localhost:${self}/page`,
            Refresh: `3; url=http://127.0.0.1:${self}/next`,
            'Set-Cookie': 'app=1; Path=/',
          });
        }
        res.end('moved');
      });
      self = v1!.port;
      const proxy = await proxyFor(t, { ...modeOptions(mode), rewrite: { location: on }, versions: [{ uuid: 'v1', version: '1.0', servers: at(v1!) }] });
      const port = proxy.address.port;
      const r = await get(port, { path: '/wp-login.php', headers: { host: 'shop.example:8080' } });
      t.equal(r.status, 302);
      t.equal(r.body, 'moved');
      const base = on ? 'http://shop.example:8080' : `http://127.0.0.1:${self}`;
      t.equal(r.headers['location'], `${base}/wp-admin/?x=1`);
      t.equal(r.headers['content-location'], on ? 'http://shop.example:8080/page' : `http://localhost:${self}/page`);
      t.equal(r.headers['refresh'], `3; url=${base}/next`);
      const cookies = (r.headers['set-cookie'] as string[]).map((c) => c.split('=')[0]);
      t.same(cookies.sort(), ['app', 'dynsoftup'], "the backend's cookie and ours, both");
      t.equal((await get(port, { path: '/away', headers: { host: 'shop.example:8080' } })).headers['location'], 'http://example.com/elsewhere', 'another site is left alone');
    });
  }
}
