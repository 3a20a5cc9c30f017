import t from 'tap';
import { sleep, until } from '../../helpers/net.js';
import { backends } from '../../helpers/proxy.js';
import { api } from '../helpers.js';
import { answer, etcdOrExplain, startEtcd, startFleet } from './etcd.js';

// A host whose watch cannot resume (the revisions it missed were compacted away) lists
// everything again and watches anew: it catches up instead of staying on what it had.
t.test('a compaction while a host\'s watch is away: it lists again and catches up', async (t) => {
  const bin = etcdOrExplain(t);
  if (bin === undefined) return;
  // etcd drops a client that stops answering its keepalive pings within about a second.
  const etcd = await startEtcd(t, bin, ['--grpc-keepalive-interval', '500ms', '--grpc-keepalive-timeout', '500ms']);
  const [a, b, c] = await backends(t, ['a', 'b', 'c']);
  const { hosts } = await startFleet(t, etcd, 2, a!.port);
  const [h1, h2] = hosts as [typeof hosts[0], typeof hosts[0]];

  // host-b is frozen: its watch stream is cut by etcd while the routing moves on and is compacted.
  h2.child.kill('SIGSTOP');
  t.teardown(() => { h2.child.kill('SIGCONT'); });
  await sleep(2500);
  t.equal((await api(h1.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: b!.port }] } })).status, 202);
  t.equal((await api(h1.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v3', version: '3.0.0', servers: [{ hostname: '127.0.0.1', port: c!.port }] } })).status, 202);
  t.equal((await api(h1.apiPort, 'DELETE', '/configuration/cluster/v2')).status, 202);
  const revision = (await etcd.client.get('any').exec()).header.revision;
  await etcd.client.kv.compact({ revision, physical: true });
  t.comment(`compacted at revision ${revision}`);

  h2.child.kill('SIGCONT');
  t.ok(await until(async () => (await answer(h2)) === 'c', 15_000, 20), 'host-b routes the newest version after it resumes');
  const list = (await api(h2.apiPort, 'GET', '/configuration/cluster')).json.map((e: { cluster: { uuid: string } }) => e.cluster.uuid);
  t.same(list, ['v3', 'v1'], 'and holds exactly the shared versions (v2 was removed while it was away)');
  t.ok(h2.logs.some((l) => /watch cannot resume/.test(l) && /listing everything again/.test(l)), 'it said its watch could not resume and it listed again');
});
