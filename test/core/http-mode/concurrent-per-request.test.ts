import t from 'tap';
import { createProxy } from '../../../src/core/index.js';
import { backend } from '../../helpers/net.js';
import { keepAliveClient } from './_helpers.js';

t.test('CONCURRENT per request on one keep-alive connection: both versions get each request, the newest good answer wins', async (t) => {
  let newFails = false;
  const v1 = await backend('v1', (req, res, body) => res.end(`v1 ${req.method} ${body}`));
  const v2 = await backend('v2', (req, res, body) => {
    if (newFails) {
      res.statusCode = 500;
      res.end('broken');
      return;
    }
    res.end(`v2 ${req.method} ${body}`);
  });
  const proxy = await createProxy({
    host: '127.0.0.1', mode: 'http',
    versions: [
      { uuid: 'old', version: '1.0', servers: [{ hostname: '127.0.0.1', port: v1.port }] },
      { uuid: 'new', version: '2.0', servers: [{ hostname: '127.0.0.1', port: v2.port }], upgradeTransition: { mode: 'CONCURRENT', sideEffectMethods: ['POST'] } },
    ],
  });
  const client = keepAliveClient(proxy.address.port);
  t.teardown(async () => { client.close(); await proxy.close({ drainTimeout: 0 }); await v1.close(); await v2.close(); });

  t.equal((await client.request({ path: '/a' })).body, 'v2 GET ', 'the newest answers');
  t.same([v1.requests.length, v2.requests.length], [1, 1], 'both versions got the GET');

  const big = 'x'.repeat(200_000);
  t.equal((await client.request({ path: '/b', method: 'PUT', body: big })).body, `v2 PUT ${big}`, 'a body is teed to both');
  t.equal(v1.requests.at(-1)!.body.length, 200_000, 'the old version got the whole body too');

  t.equal((await client.request({ path: '/c', method: 'POST', body: 'once' })).body, 'v2 POST once');
  t.same([v1.requests.length, v2.requests.length], [2, 3], 'a side-effect method went to one version only');

  newFails = true;
  t.equal((await client.request({ path: '/d' })).body, 'v1 GET ', 'the newest answered 500: the previous version\'s answer wins');
  t.equal(client.sockets.size, 1, 'all on one client connection');
  newFails = false;
  t.equal((await client.request({ path: '/e' })).body, 'v2 GET ', 'and the next request goes back to the newest');
});
