import t from 'tap';
import { createProxy } from '../../../src/core/index.js';
import { backend, get } from '../../helpers/net.js';

t.test('a server that resets before answering: GET is retried on the next server, POST is answered 502 and never sent twice', async (t) => {
  const resetter = await backend('reset', (req) => req.socket.destroy());
  const good = await backend('good', (req, res, body) => res.end(`good ${req.method} ${body}`));
  const proxy = await createProxy({
    host: '127.0.0.1', mode: 'http',
    // maxFails high: the resetting server stays in rotation, so the POST meets it too.
    health: { maxFails: 100 },
    versions: [{ uuid: 'v', version: '1.0', servers: [{ hostname: '127.0.0.1', port: resetter.port }, { hostname: '127.0.0.1', port: good.port }] }],
  });
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await resetter.close(); await good.close(); });
  const port = proxy.address.port;

  // Round robin: the first request of each pair meets the resetting server first.
  const g = await get(port, { path: '/g' });
  t.equal(g.status, 200);
  t.equal(g.body, 'good GET ', 'the GET was retried on the other server');
  t.same(resetter.requests.map((r) => r.url), ['/g'], 'after the resetting server saw it once');

  let posted = 0;
  for (let i = 0; i < 2; i++) {
    const p = await get(port, { path: `/p${i}`, method: 'POST', body: 'once' });
    if (p.status === 502) posted++;
    else t.equal(p.body, 'good POST once');
  }
  t.equal(posted, 1, 'the POST that met the resetting server got 502');
  const sent = [...resetter.requests, ...good.requests].filter((r) => r.method === 'POST').map((r) => r.url).sort();
  t.same(sent, ['/p0', '/p1'], 'each POST reached a server exactly once');
});
