import t from 'tap';
import { backends } from '../../helpers/proxy.js';
import { api } from '../helpers.js';
import { etcdOrExplain, startEtcd, startFleet } from './etcd.js';

// Two hosts adding the same uuid at the same moment: the store's guarded transaction lets one
// win (202) and refuses the other (409, coded); of two PATCHes of one version from the same view, one
// may be refused (409, coded) but never lost silently.
t.test('concurrent changes of one uuid through two hosts: one 202, one 409', async (t) => {
  const bin = etcdOrExplain(t);
  if (bin === undefined) return;
  const etcd = await startEtcd(t, bin);
  const [a, b] = await backends(t, ['a', 'b']);
  const { hosts } = await startFleet(t, etcd, 2, a!.port);
  const [h1, h2] = hosts as [typeof hosts[0], typeof hosts[0]];

  for (let i = 0; i < 10; i++) {
    const put = (port: number, backendPort: number): ReturnType<typeof api> => api(port, 'PUT', '/configuration/cluster', { cluster: { uuid: `same${i}`, version: `2.${i}.0`, servers: [{ hostname: '127.0.0.1', port: backendPort }] } });
    const [r1, r2] = await Promise.all([put(h1.apiPort, a!.port), put(h2.apiPort, b!.port)]);
    t.same([r1.status, r2.status].sort(), [202, 409], `round ${i}: one 202, one 409`);
    const lost = r1.status === 409 ? r1 : r2;
    t.equal(lost.json?.error?.code, 'UPS_ERR_VERSION_EXISTS', `round ${i}: the refusal is coded`);
    const winner = r1.status === 202 ? a!.port : b!.port;
    const seen = await Promise.all(hosts.map(async (h) => (await api(h.apiPort, 'GET', `/configuration/cluster/same${i}`)).json?.cluster?.servers?.[0]?.port));
    t.same(seen, [winner, winner], `round ${i}: both hosts hold the winner's version`);
  }

  // PATCHes computed on two hosts from the same revision: the second would overwrite the first.
  let conflicts = 0;
  for (let i = 0; i < 10; i++) {
    const [r1, r2] = await Promise.all([
      api(h1.apiPort, 'PATCH', '/configuration/cluster/same0', { cluster: { servers: [{ hostname: '127.0.0.1', port: a!.port }] } }),
      api(h2.apiPort, 'PATCH', '/configuration/cluster/same0', { cluster: { servers: [{ hostname: '127.0.0.1', port: b!.port }] } }),
    ]);
    t.ok([r1.status, r2.status].includes(200), `patch round ${i}: at least one is accepted`);
    for (const r of [r1, r2]) {
      if (r.status === 409) {
        conflicts++;
        t.equal(r.json?.error?.code, 'UPS_ERR_STORE_CONFLICT', `patch round ${i}: a lost update is refused with a coded 409`);
      } else t.equal(r.status, 200, `patch round ${i}: the other answer is 200`);
    }
  }
  t.comment(`${conflicts} of 10 concurrent PATCH pairs conflicted`);
  const held = await Promise.all(hosts.map(async (h) => (await api(h.apiPort, 'GET', '/configuration/cluster/same0')).json?.cluster?.servers));
  t.same(held[0], held[1], 'both hosts hold the same version after the races');
});
