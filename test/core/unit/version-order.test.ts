import t from 'tap';
import { compareVersions } from '../../../src/core/index.js';
import { newestFirst } from '../../../src/core/routing/order.js';

t.test('semver when both parse', async (t) => {
  t.ok(compareVersions('1.10.0', '1.9.0') > 0);
  t.ok(compareVersions('2.0.0', '2.0.0-rc.1') > 0, 'a release beats its pre-release');
  t.ok(compareVersions('v1.2.3', '1.2.2') > 0, 'a leading v is accepted');
  t.equal(compareVersions('1.2.3', '1.2.3'), 0);
});

t.test('numeric-aware natural order otherwise, never string order', async (t) => {
  t.ok(compareVersions('10.0', '2.0') > 0, '"10.0" > "2.0"');
  t.ok(compareVersions('1.10', '1.9') > 0, '"1.10" > "1.9"');
  t.ok(compareVersions('2', '10') < 0);
  t.ok(compareVersions('release-12', 'release-9') > 0);
  t.ok(compareVersions('1.0.10a', '1.0.9b') > 0);
  t.equal(compareVersions('007', '7'), 0, 'leading zeros do not change the value');
  t.ok(compareVersions('1.0.1', '1.0') > 0, 'a longer version with equal prefix is newer');
  t.ok(compareVersions('b', 'a') > 0);
});

t.test('newest first, ties go to the most recently added', async (t) => {
  const list = [
    { version: '1.9', addedSeq: 1, id: 'a' },
    { version: '1.10', addedSeq: 2, id: 'b' },
    { version: '1.10', addedSeq: 3, id: 'c' },
    { version: '0.1', addedSeq: 4, id: 'd' },
  ];
  t.same(list.sort(newestFirst).map((x) => x.id), ['c', 'b', 'a', 'd']);
});
