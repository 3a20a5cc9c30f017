import t from 'tap';
import { changedValue, removalsIn } from '../../../src/sidecar/store/keys.js';

// The store's `changed` key tells every host why the versions a change removes go:
// a retirement stays a retirement on every host; an operator's removal is the default.
t.test('a retirement is carried, an operator\'s removal is the default', async (t) => {
  const v = changedValue(new Map([['v1', 'retired'], ['v2', 'api']]));
  t.same(JSON.parse(v).removed, { v1: 'retired' }, 'only the reasons other than api are written');
  t.same([...removalsIn(v)], [['v1', 'retired']]);
  t.same([...removalsIn(changedValue())], [], 'a change without removals carries none');
  t.same([...removalsIn('2026-12-01T10:00:00.000Z')], [], 'a value written as a bare date (an older host) carries none');
  t.same([...removalsIn('{"at":"x","removed":{"v1":"exploded","v2":"retired"}}')], [['v2', 'retired']], 'an unknown reason is not taken');
});
