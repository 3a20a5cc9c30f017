import t from 'tap';
import { SessionCounter } from '../../../src/core/sessions/counter.js';

const MIN = 60_000;

t.test('distinct sessions per version within their lifetime, with a fake clock', async (t) => {
  const c = new SessionCounter(100, 1);
  c.touch('a', 'v1', 0, 10 * MIN);
  c.touch('b', 'v1', 0, 10 * MIN);
  c.touch('a', 'v1', 1 * MIN, 10 * MIN);
  c.touch('c', 'v2', 2 * MIN, 10 * MIN);
  t.same(Object.fromEntries(c.counts(3 * MIN)), { v1: 2, v2: 1 }, 'a session seen twice counts once');
  c.touch('b', 'v2', 4 * MIN, 10 * MIN);
  t.same(Object.fromEntries(c.counts(5 * MIN)), { v1: 1, v2: 2 }, 'a session that moved counts where it went');
  t.same(Object.fromEntries(c.counts(11 * MIN)), { v2: 2 }, 'a expired 10 min after it was last seen');
  t.same(Object.fromEntries(c.counts(14 * MIN + 1)), {}, 'then every one');
});

t.test('memory stays bounded; above the cap the count is an unbiased estimate', async (t) => {
  const cap = 1000;
  const c = new SessionCounter(cap, 12345);
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    c.touch(`session-${i}-id`, i % 4 === 0 ? 'v1' : 'v2', i, 60 * MIN);
    if (c.kept > cap) t.fail(`${c.kept} ids kept after ${i + 1}`);
  }
  t.ok(c.sampling, 'it samples');
  const counts = c.counts(n);
  const v1 = counts.get('v1') ?? 0;
  const v2 = counts.get('v2') ?? 0;
  // About 500-1000 ids are kept: the error is some 5 %; 20 % leaves no room for luck.
  t.ok(Math.abs(v1 + v2 - n) / n < 0.2, `total ${v1 + v2} estimates ${n}`);
  t.ok(Math.abs(v1 - n / 4) / (n / 4) < 0.25, `v1 ${v1} estimates ${n / 4}`);
  t.ok(c.kept <= cap && c.kept > cap / 4, `${c.kept} ids kept, at most the cap`);
  t.same(Object.fromEntries(c.counts(n + 61 * MIN)), {}, 'all expired');
  t.notOk(c.sampling, 'and exact again');
});

t.test('returning sessions under the cap are counted exactly and never grow it', async (t) => {
  const c = new SessionCounter(50, 7);
  for (let round = 0; round < 10; round++) for (let i = 0; i < 40; i++) c.touch(`s${i}`, 'v1', round * 1000, MIN);
  t.notOk(c.sampling);
  t.equal(c.counts(10_000).get('v1'), 40);
});
