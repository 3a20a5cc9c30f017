import t from 'tap';
import { resolveOptions, validateVersion } from '../../../src/core/index.js';
import { DEFAULT_IGNORE_HEADERS, mergeCompare } from '../../../src/core/compare/options.js';
import { toClusterJSON } from '../../../src/core/routing/spec.js';
import { refusesEach, type Refusal } from '../../helpers/refusals.js';

t.test('compare defaults', async (t) => {
  const c = resolveOptions({}).compare;
  t.same(c, {
    enabled: true, sample: 0, maxDifferenceRate: 0.05, minSample: 20, window: 1000, z: 3, noiseSample: 0.1,
    ignoreHeaders: DEFAULT_IGNORE_HEADERS, ignoreFields: [], jsonLimit: 262144, maxFields: 50, timeout: 10000,
  });
  t.ok(Object.isFrozen(c) && Object.isFrozen(c.ignoreHeaders));
  t.ok(c.ignoreHeaders.includes('date') && c.ignoreHeaders.includes('x-request-id') && !c.ignoreHeaders.includes('etag'), 'dates and request ids are noise; ETag is compared');
  t.same(resolveOptions({ compare: { ignoreHeaders: ['X-Trace'] } }).compare.ignoreHeaders, ['x-trace'], 'header names in lower case');
});

t.test('bad compare options are refused with the field and the rule', async (t) => {
  const cases: Refusal[] = [
    [{ compare: 1 }, 'compare', /must be an object/],
    [{ compare: [] }, 'compare', /must be an object/],
    [{ compare: { samples: 0.1 } }, 'compare.samples', /unknown field \(expected one of enabled, sample/],
    [{ compare: { enabled: 'yes' } }, 'compare.enabled', /true or false/],
    [{ compare: { sample: 5 } }, 'compare.sample', /number from 0 to 1, got 5/],
    [{ compare: { sample: '0.1' } }, 'compare.sample', /number from 0 to 1/],
    [{ compare: { maxDifferenceRate: -0.1 } }, 'compare.maxDifferenceRate', /number from 0 to 1/],
    [{ compare: { minSample: 0 } }, 'compare.minSample', /integer from 1/],
    [{ compare: { window: 5 } }, 'compare.window', /integer from 10/],
    [{ compare: { window: 50, minSample: 60 } }, 'compare.minSample', /must not exceed compare.window \(50\)/],
    [{ compare: { z: 0 } }, 'compare.z', /number from 0.5 to 10/],
    [{ compare: { noiseSample: 2 } }, 'compare.noiseSample', /number from 0 to 1/],
    [{ compare: { ignoreHeaders: 'date' } }, 'compare.ignoreHeaders', /array of strings/],
    [{ compare: { ignoreHeaders: ['date', ''] } }, 'compare.ignoreHeaders[1]', /non-empty string/],
    [{ compare: { ignoreFields: [3] } }, 'compare.ignoreFields[0]', /non-empty string/],
    [{ compare: { jsonLimit: 1.5 } }, 'compare.jsonLimit', /integer/],
    [{ compare: { maxFields: 0 } }, 'compare.maxFields', /integer from 1 to 1000/],
    [{ compare: { timeout: 0 } }, 'compare.timeout', /integer from 1/],
    [{ diff: {} }, 'diff', /use compare instead/],
  ];
  refusesEach(t, (input) => resolveOptions(input), 'UPS_ERR_INVALID_OPTION', cases);
});

t.test('a version\'s compare fields override the proxy\'s, validated as the version\'s, and round-trip its JSON', async (t) => {
  const servers = [{ hostname: '127.0.0.1', port: 1 }];
  const spec = validateVersion({ version: '2', servers, upgradeTransition: { mode: 'GRADUAL' }, compare: { sample: 0.05, ignoreFields: ['items[].updatedAt'] } });
  const merged = mergeCompare(resolveOptions({ compare: { maxDifferenceRate: 0.1 } }).compare, spec.compare);
  t.equal(merged.sample, 0.05);
  t.equal(merged.maxDifferenceRate, 0.1);
  t.same(merged.ignoreFields, ['items[].updatedAt']);
  t.same(toClusterJSON(spec).compare, { sample: 0.05, ignoreFields: ['items[].updatedAt'] });
  t.equal(toClusterJSON(validateVersion({ version: '2', servers })).compare, undefined, 'absent when none given');
  t.equal(mergeCompare(resolveOptions({ compare: { window: 20 } }).compare, validateVersion({ version: '2', servers, compare: { minSample: 50 } }).compare).minSample, 20, 'a minimum sample over the window is cut to it');
  t.throws(() => validateVersion({ version: '2', servers, compare: { sample: 1.5 } }), { code: 'UPS_ERR_INVALID_VERSION', field: 'cluster.compare.sample' });
  t.throws(() => validateVersion({ version: '2', servers, compare: { shadow: true } }), { code: 'UPS_ERR_INVALID_VERSION', field: 'cluster.compare.shadow' });
});
