import t from 'tap';
import { ProxyEventEmitter } from '../../../src/core/events.js';
import { validateVersion } from '../../../src/core/routing/spec.js';
import { RoutingTable } from '../../../src/core/routing/table.js';
import { LeastConnections, RoundRobin } from '../../../src/core/upstream/balancer.js';
import { Health } from '../../../src/core/upstream/health.js';
import { UpstreamPool } from '../../../src/core/upstream/pool.js';
import { ServerState } from '../../../src/core/upstream/server.js';
import { DEFAULT_OPTIONS_FOR_TESTS } from './_options.js';

const servers = (n: number) => Array.from({ length: n }, (_, i) => new ServerState({ hostname: '127.0.0.1', port: 2000 + i }));
const ports = (list: readonly ServerState[]) => list.map((s) => s.port);

function healthOf(maxFails = 1) {
  const table = new RoutingTable();
  const v = table.add(validateVersion({ uuid: 'v', version: '1.0', servers: [{ hostname: '127.0.0.1', port: 1 }, { hostname: '127.0.0.1', port: 2 }] }));
  const events = new ProxyEventEmitter();
  const seen: string[] = [];
  for (const name of ['upstream:eject', 'upstream:readmit', 'rollback', 'recover'] as const) events.on(name, () => seen.push(name));
  const removed: string[] = [];
  const health = new Health(1, { ...DEFAULT_OPTIONS_FOR_TESTS.health, maxFails, ejectBase: 1000, ejectMax: 4000 }, table, events, (x) => removed.push(x.uuid));
  return { v, health, seen, removed };
}

t.test('health: maxFails consecutive failures eject; the ejection doubles up to ejectMax and runs out by itself', async (t) => {
  const { v, health, seen } = healthOf(2);
  const s = v.servers[0]!;
  const now = 1_000_000;
  health.failure(v, s, now);
  t.ok(s.available(now), 'one failure of two allowed');
  health.failure(v, s, now);
  t.notOk(s.available(now), 'ejected');
  t.equal(s.ejectedUntil, now + 1000);
  t.ok(s.available(now + 1000), 'half-open once the ejection ran out');
  health.failure(v, s, now + 1000);
  t.equal(s.ejectedUntil, now + 3000, 'a half-open failure ejects at once, for twice as long');
  health.failure(v, s, now + 3000);
  health.failure(v, s, now + 7000);
  t.equal(s.ejectedUntil, now + 11_000, 'capped at ejectMax');
  health.success(v, s);
  t.ok(s.available(now), 'a success readmits for good');
  t.equal(s.backoff, 0);
  t.same(seen, ['upstream:eject', 'upstream:eject', 'upstream:eject', 'upstream:eject', 'upstream:readmit']);
});

t.test('health: a version with every server ejected is down (rollback reported), and recovers', async (t) => {
  const { v, health, seen } = healthOf(1);
  const now = Date.now();
  health.failure(v, v.servers[0]!, now);
  t.ok(v.up(now), 'one server left');
  health.failure(v, v.servers[1]!, now);
  t.notOk(v.up(now), 'down');
  t.ok(seen.includes('rollback'));
  health.success(v, v.servers[1]!);
  t.ok(v.up(now));
  t.ok(seen.includes('recover'));
});

t.test('round robin: every server in turn; ejected ones last, without giving one neighbour every skipped turn', async (t) => {
  const list = servers(3);
  const rr = new RoundRobin();
  const now = 1000;
  t.same([0, 1, 2].map(() => ports(rr.order(list, now))[0]), [2000, 2001, 2002]);
  list[1]!.ejectedUntil = now + 1;
  const firsts = [0, 1, 2, 3].map(() => rr.order(list, now));
  t.same(firsts.map((o) => o[0]!.port), [2000, 2002, 2000, 2002], 'the ejected server is passed over, turns alternate');
  t.ok(firsts.every((o) => o[o.length - 1]!.port === 2001), 'and tried last');
});

t.test('least connections: fewest open first, ties in round-robin order, ejected last', async (t) => {
  const list = servers(3);
  const lc = new LeastConnections();
  list[0]!.active = 5;
  list[1]!.active = 1;
  list[2]!.active = 1;
  const orders = [0, 1, 2].map(() => ports(lc.order(list, 0)));
  t.ok(orders.every((o) => o[2] === 2000), 'the busiest last');
  t.same(new Set(orders.map((o) => o[0])), new Set([2001, 2002]), 'equals share the first place over a round');
  list[1]!.ejectedUntil = 10;
  t.same(ports(lc.order(list, 0)).at(-1), 2001, 'ejected last whatever its load');
});

t.test('pool limit: admits up to maxPerServer, wakes waiters first come first served when one is given back', async (t) => {
  const pool = new UpstreamPool({ maxIdle: 4, maxPerServer: 2, idleTimeout: 1000 });
  const [s] = servers(1);
  t.ok(pool.admit(s!));
  t.ok(pool.admit(s!));
  t.notOk(pool.admit(s!), 'at its limit');
  const woke: string[] = [];
  const first = () => woke.push('first');
  const second = () => woke.push('second');
  const gone = () => woke.push('gone');
  pool.wait(s!, first);
  pool.wait(s!, gone);
  pool.wait(s!, second);
  pool.unwait(s!, gone);
  pool.unadmit(s!);
  t.same(woke, ['first'], 'a connect given back wakes the first waiter');
  pool.unadmit(s!);
  t.same(woke, ['first', 'second']);
  t.equal(pool.idleCount(s!), 0);
  pool.close();
});
