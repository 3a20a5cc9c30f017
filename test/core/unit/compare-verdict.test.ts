import t from 'tap';
import { DEFAULT_COMPARE } from '../../../src/core/compare/options.js';
import { classify, judgeDifferences } from '../../../src/core/compare/verdict.js';
import { DifferenceWindow, OTHER } from '../../../src/core/compare/window.js';

const o = DEFAULT_COMPARE;
const diff = (...fields: string[]) => fields.map((field) => ({ field, a: 'x', b: 'y' }));

/** A window of `n` comparisons where `field` differs on those `every(i)` picks. */
function windowOf(n: number, every: (i: number) => string[], size = 1000): DifferenceWindow {
  const w = new DifferenceWindow(size, 50);
  for (let i = 1; i <= n; i++) w.push(diff(...every(i)));
  return w;
}

t.test('the window counts per field as comparisons enter and leave', async (t) => {
  const w = new DifferenceWindow(10, 50);
  for (let i = 0; i < 10; i++) w.push(diff('price'));
  t.equal(w.get('price')!.count, 10);
  for (let i = 0; i < 4; i++) w.push([]);
  t.equal(w.compared, 10);
  t.equal(w.total, 14);
  t.equal(w.get('price')!.count, 6, 'the oldest four left');
  t.equal(w.get('price')!.ever, 10, 'the total stays');
  w.push(diff(OTHER, OTHER));
  t.equal(w.get(OTHER)!.count, 1, 'a field counts once per comparison');
});

t.test('field cardinality is bounded: spare fields give way, then (other)', async (t) => {
  const w = new DifferenceWindow(5, 3);
  w.push(diff('a', 'b', 'c'));
  w.push(diff('d'));
  t.equal(w.get('d'), undefined, 'no field is spare yet: d is counted as (other)');
  t.equal(w.get(OTHER)!.count, 1);
  for (let i = 0; i < 5; i++) w.push([]);
  w.push(diff('e'));
  t.equal(w.get('e')!.count, 1, 'a field that no longer differs gave its place');
  t.ok([...w.fields()].length <= 4, 'at most maxFields and (other)');
});

t.test('a field on every answer fails at the minimum sample; not before', async (t) => {
  t.same(judgeDifferences(windowOf(19, () => ['price']), null, o), { verdict: 'too-few' });
  const v = judgeDifferences(windowOf(20, () => ['price']), null, o);
  t.equal(v.verdict, 'fail');
  if (v.verdict === 'fail') t.match(v.evidence, { field: 'price', compared: 20, count: 20, maxDifferenceRate: 0.05, sample: { newest: 'x', previous: 'y' } });
});

t.test('a field on 1 answer in 50 never fails, over the whole window', async (t) => {
  const w = new DifferenceWindow(1000, 50);
  for (let i = 1; i <= 3000; i++) {
    w.push(i % 50 === 0 ? diff('price') : []);
    if (w.compared >= 20) t.not(judgeDifferences(w, null, o).verdict, 'fail', `at ${i}`);
  }
  t.equal(w.get('price')!.count, 20, '20 in the window of 1000');
});

t.test('a field on 10 % of answers fails once the sample shows it clearly', async (t) => {
  t.equal(judgeDifferences(windowOf(100, (i) => (i % 10 === 0 ? ['price'] : [])), null, o).verdict, 'pass', 'not at 100 (lower bound below 5 %)');
  t.equal(judgeDifferences(windowOf(600, (i) => (i % 10 === 0 ? ['price'] : [])), null, o).verdict, 'fail', 'at 600');
});

t.test('noise: a field that differs as often between two servers of the previous version does not count', async (t) => {
  const versus = windowOf(100, () => ['at', 'price']);
  const noise = windowOf(30, () => ['at']);
  t.equal(classify(versus.get('at')!, versus, noise, o).class, 'noise');
  t.equal(classify(versus.get('price')!, versus, noise, o).class, 'fails', 'a field the noise never shows still counts');
  const v = judgeDifferences(versus, noise, o);
  t.equal(v.verdict === 'fail' && v.evidence.field, 'price');
  t.equal(judgeDifferences(windowOf(100, () => ['at']), noise, o).verdict, 'pass', 'noise only: pass');
  // Rare noise (1 in 30) against a field that differs every time: clearly more than noise.
  const rare = windowOf(300, (i) => (i % 30 === 0 ? ['price'] : []));
  t.equal(classify(versus.get('price')!, versus, rare, o).class, 'fails');
  t.equal(judgeDifferences(windowOf(100, () => ['price']), windowOf(10, () => []), o).verdict, 'pass', 'a baseline being built: the verdict waits for minSample noise comparisons');
});
