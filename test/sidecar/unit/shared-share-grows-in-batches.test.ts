import t from 'tap';
import { canonical, newestFirst } from '../../../src/sidecar/store/apply.js';
import { grown } from '../../../src/sidecar/store/contributions.js';

const gradual = (extra: Record<string, unknown> = {}): any => ({ uuid: 'v2', version: '2.0', servers: [], upgradeTransition: { mode: 'GRADUAL', percentageTransitionPerRequest: 1, initialPercentage: 5 }, ...extra });

t.test('a batch of good answers grows the shared share from where the store has it', async (t) => {
  t.equal(grown(gradual(), 3)?.['percentage'], 8, 'from the initial share when none is stored yet');
  t.equal(grown(gradual({ percentage: 40 }), 2.5)?.['percentage'], 42.5, 'from the stored share');
  t.equal(grown(gradual({ percentage: 99 }), 5)?.['percentage'], 100, 'never past 100');
  t.equal(grown(gradual({ percentage: 0.1 }), 0.2)?.['percentage'], 0.3, 'sums of small steps do not drift (0.1 + 0.2)');
});

t.test('nothing to grow', async (t) => {
  t.equal(grown(gradual({ percentage: 100 }), 1), undefined, 'at 100');
  t.equal(grown(gradual({ percentage: 0, standing: { state: 'rolled-back', reason: 'errors', at: '2026-01-01T00:00:00Z' } }), 1), undefined, 'rolled back');
  t.equal(grown(gradual({ standing: { state: 'promoted', at: '2026-01-01T00:00:00Z' } }), 1), undefined, 'promoted');
  t.equal(grown({ uuid: 'v2', version: '2.0', upgradeTransition: { mode: 'INSTANT' } }, 1), undefined, 'not GRADUAL');
});

t.test('every host orders the shared versions alike', async (t) => {
  const held = [
    { entry: { uuid: 'a', version: '1.0' }, createRevision: 2, modRevision: 2 },
    { entry: { uuid: 'b', version: '10.0' }, createRevision: 3, modRevision: 3 },
    { entry: { uuid: 'c', version: '2.0' }, createRevision: 4, modRevision: 9 },
    { entry: { uuid: 'd', version: '2.0' }, createRevision: 7, modRevision: 7 },
  ];
  t.same(newestFirst(held).map((h) => h.entry.uuid), ['b', 'd', 'c', 'a'], 'version order, the later created first on a tie');
  t.equal(canonical({ b: 1, a: { d: 2, c: [3, { f: 1, e: 0 }] } }), canonical({ a: { c: [3, { e: 0, f: 1 }], d: 2 }, b: 1 }), 'key order does not make two entries differ');
});
