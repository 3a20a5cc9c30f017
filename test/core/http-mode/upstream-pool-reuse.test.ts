import t from 'tap';
import { backend, get, sleep } from '../../helpers/net.js';
import { HTTP_MODES, modeOptions } from '../../helpers/modes.js';
import { keepAliveClient, sessionProxy } from './_helpers.js';

for (const m of HTTP_MODES) t.test(`${m}: upstream connections are pooled and reused across requests and client connections`, async (t) => {
  const v1 = await backend('v1');
  const v2 = await backend('v2');
  let upstreamConns = 0;
  v2.server.on('connection', () => upstreamConns++);
  const proxy = await sessionProxy(v1.port, v2.port, modeOptions(m));
  const client = keepAliveClient(proxy.address.port);
  t.teardown(async () => { client.close(); await proxy.close({ drainTimeout: 0 }); await v1.close(); await v2.close(); });

  for (let i = 0; i < 10; i++) t.equal((await client.request({ path: `/k${i}` })).body, 'v2');
  t.equal(upstreamConns, 1, '10 sequential requests on one client connection used one upstream connection');

  // A new client connection per request (Connection: close on the client side) still reuses upstream.
  for (let i = 0; i < 10; i++) {
    const r = await get(proxy.address.port, { path: `/c${i}`, headers: { connection: 'close' } });
    t.equal(r.body, 'v2');
    t.equal(r.headers.connection, 'close', 'the client that asked to close is told so');
  }
  t.equal(upstreamConns, 1, '10 client connections in turn still used the one upstream connection');

  // Two requests at once need two upstream connections; both go back to the pool.
  await Promise.all([get(proxy.address.port, { path: '/p1' }), get(proxy.address.port, { path: '/p2' })]);
  t.equal(upstreamConns, 2, 'concurrent requests opened a second connection');
  await sleep(20);
  await Promise.all([get(proxy.address.port, { path: '/p3' }), get(proxy.address.port, { path: '/p4' })]);
  t.equal(upstreamConns, 2, 'and both were reused afterwards');
});

for (const m of HTTP_MODES) t.test(`${m}: a connection is not reused when the server asks to close, nor after its idle timeout`, async (t) => {
  let n = 0;
  const v1 = await backend('v1');
  const v2 = await backend('v2', (req, res) => {
    if (req.url === '/close') res.setHeader('Connection', 'close');
    res.end('v2');
  });
  v2.server.on('connection', () => n++);
  const proxy = await sessionProxy(v1.port, v2.port, { ...modeOptions(m), http: { idleTimeout: 100 } });
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); await v2.close(); });
  const port = proxy.address.port;
  await get(port, { path: '/close' });
  await get(port, { path: '/a' });
  t.equal(n, 2, 'Connection: close from the server: the next request opened a new connection');
  await get(port, { path: '/b' });
  t.equal(n, 2, 'that one was kept');
  await sleep(250);
  await get(port, { path: '/c' });
  t.equal(n, 3, 'after the pool idle timeout a new connection was opened');
});
