import t from 'tap';
import { route, bucketOf } from '../../../src/core/index.js';
import { facts, ids, version } from './_routing.js';

const NOW = 1_000_000;

t.test('INSTANT: newest first, the session cookie does not route, older versions as fallbacks', async (t) => {
  const snap = [version('2.0', 'new'), version('1.0', 'old')];
  const p = route(snap, facts({ sessionCookie: 'old' }), NOW);
  t.same(ids(p), ['new', 'old']);
  t.equal(p.sessionVersion?.uuid, 'new', 'the session cookie is kept, naming the newest');
  t.equal(p.sessionLifetime, 3600, 'with the default lifetime');
  t.equal(p.fanOut, 1);
});

t.test('SESSION: sticky to a live old version, newest otherwise; cookie lifetime from the newest', async (t) => {
  const snap = [version('2.0', 'new', 'SESSION', { sessionTimeout: 90 }), version('1.0', 'old')];
  t.same(ids(route(snap, facts({ sessionCookie: 'old' }), NOW)), ['old', 'new']);
  t.same(ids(route(snap, facts({ sessionCookie: 'nope' }), NOW)), ['new', 'old']);
  t.same(ids(route(snap, facts(), NOW)), ['new', 'old']);
  t.equal(route(snap, facts(), NOW).sessionLifetime, 90);
  // The sticky version is down: the client moves on rather than failing.
  snap[1]!.servers[0]!.ejectedUntil = NOW + 1000;
  t.same(ids(route(snap, facts({ sessionCookie: 'old' }), NOW)), ['new', 'old']);
});

t.test('GRADUAL: deterministic buckets, share splits clients, one version never fails', async (t) => {
  t.equal(bucketOf('client-abc'), bucketOf('client-abc'), 'same id, same bucket');
  const b = bucketOf('client-abc');
  t.ok(b >= 0 && b < 100);
  // Spread: 2,000 ids land roughly uniformly.
  let below = 0;
  for (let i = 0; i < 2000; i++) if (bucketOf(`id-${i}-xxxxxxxx`) < 30) below++;
  t.ok(below > 500 && below < 700, `30% bucket holds ~600 of 2000 (got ${below})`);

  const newest = version('2.0', 'new', 'GRADUAL', { percentageTransitionPerRequest: 10 });
  const snap = [newest, version('1.0', 'old')];
  t.equal(newest.percentage, 10, 'the share starts at one step');
  const id = 'fixed-client-id';
  const bucket = bucketOf(id);
  newest.percentage = bucket + 0.01;
  const inside = route(snap, facts({ transitionCookie: id }), NOW);
  t.same(ids(inside), ['new', 'old']);
  t.equal(inside.gradual, newest, 'a correct answer from the newest grows its share');
  t.equal(inside.newTransitionId, undefined, 'a known id is kept');
  newest.percentage = bucket;
  t.same(ids(route(snap, facts({ transitionCookie: id }), NOW)), ['old', 'new'], 'outside the share: the previous version');

  const fresh = route(snap, facts(), NOW, () => 'generated-id-0001');
  t.equal(fresh.newTransitionId, 'generated-id-0001', 'a client without an id gets one');

  const single = [version('3.0', 'only', 'GRADUAL')];
  const p = route(single, facts(), NOW, () => 'generated-id-0002');
  t.same(ids(p), ['only'], 'a single GRADUAL version takes everything');
  t.same(ids(route([], facts(), NOW)), [], 'no versions: an empty plan, no throw');
});

t.test('GRADUAL: a client never moves back while the share rises', async (t) => {
  const newest = version('2.0', 'new', 'GRADUAL', { percentageTransitionPerRequest: 1 });
  const snap = [newest, version('1.0', 'old')];
  const clients = Array.from({ length: 300 }, (_, i) => `client-${i}-abcdefgh`);
  const moved = new Set<string>();
  const movedBack: string[] = [];
  const share: number[] = [];
  for (let pct = 1; pct <= 100; pct++) {
    newest.percentage = pct;
    for (const c of clients) {
      const first = route(snap, facts({ transitionCookie: c }), NOW).targets[0]!.uuid;
      if (moved.has(c) && first !== 'new') movedBack.push(`${c}@${pct}`);
      if (first === 'new') moved.add(c);
    }
    share.push(moved.size);
  }
  t.same(movedBack, [], 'no client went back to the old version');
  t.ok(share[9]! > 10 && share[9]! < 60, `about 10% moved at 10% (${share[9]} of 300)`);
  t.equal(moved.size, clients.length, 'at 100% everyone is on the newest');
});

t.test('CONCURRENT: fan out to the newest N; side effects to one version', async (t) => {
  const snap = [version('3.0', 'c', 'CONCURRENT', { concurrentVersions: 2 }), version('2.0', 'b'), version('1.0', 'a')];
  const get = route(snap, facts({ method: 'GET' }), NOW);
  t.equal(get.fanOut, 2);
  t.same(ids(get), ['c', 'b', 'a']);
  for (const m of ['POST', 'PUT', 'PATCH', 'DELETE', 'post']) t.equal(route(snap, facts({ method: m }), NOW).fanOut, 1, `${m} goes to one version`);
  t.equal(route([snap[0]!], facts(), NOW).fanOut, 1, 'one version: no fan-out');
});

t.test('a version that is down goes behind the ones that are up; the next mode decides', async (t) => {
  const newest = version('3.0', 'c', 'GRADUAL');
  const snap = [newest, version('2.0', 'b', 'INSTANT'), version('1.0', 'a')];
  newest.servers[0]!.ejectedUntil = NOW + 5000;
  const p = route(snap, facts(), NOW);
  t.same(ids(p), ['b', 'a', 'c']);
  t.equal(p.mode, 'INSTANT');
  newest.servers[0]!.ejectedUntil = NOW - 1;
  t.equal(route(snap, facts(), NOW).mode, 'GRADUAL', 'back once its ejection ran out');
});
