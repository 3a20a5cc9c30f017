import t from 'tap';
import { resolveOptions, validateVersion } from '../../../src/core/index.js';
import { mergeJudge } from '../../../src/core/judge/options.js';
import { refusesEach, type Refusal } from '../../helpers/refusals.js';

t.test('judge defaults', async (t) => {
  const j = resolveOptions({}).judge;
  t.same(j, {
    enabled: true, window: 1000, minSample: 10,
    thresholds: { margin: 0.05, absolute: 0.1, z: 3 },
    retryOn: [500, 502, 503, 504],
    budget: { percent: 20, min: 3 },
    latency: { enabled: false, factor: 3, minSample: 100 },
  });
  t.ok(Object.isFrozen(j) && Object.isFrozen(j.thresholds) && Object.isFrozen(j.retryOn));
  t.same(resolveOptions({ judge: { thresholds: { margin: 0.1 } } }).judge.thresholds, { margin: 0.1, absolute: 0.1, z: 3 }, 'a nested field keeps its siblings\' defaults');
});

t.test('bad judge options are refused with the field and the rule', async (t) => {
  const cases: Refusal[] = [
    [{ judge: 1 }, 'judge', /must be an object/],
    [{ judge: { enable: true } }, 'judge.enable', /unknown field \(expected one of enabled, window/],
    [{ judge: { enabled: 'yes' } }, 'judge.enabled', /true or false/],
    [{ judge: { window: 5 } }, 'judge.window', /integer from 10/],
    [{ judge: { window: 100.5 } }, 'judge.window', /integer/],
    [{ judge: { minSample: 0 } }, 'judge.minSample', /integer from 1/],
    [{ judge: { window: 50, minSample: 60 } }, 'judge.minSample', /must not exceed judge.window \(50\)/],
    [{ judge: { thresholds: [] } }, 'judge.thresholds', /must be an object/],
    [{ judge: { thresholds: { margin: 2 } } }, 'judge.thresholds.margin', /number from 0 to 1/],
    [{ judge: { thresholds: { absolute: -0.1 } } }, 'judge.thresholds.absolute', /number from 0 to 1/],
    [{ judge: { thresholds: { z: 0 } } }, 'judge.thresholds.z', /number from 0.5 to 10/],
    [{ judge: { thresholds: { alpha: 0.05 } } }, 'judge.thresholds.alpha', /unknown field \(expected one of margin, absolute, z\)/],
    [{ judge: { retryOn: 500 } }, 'judge.retryOn', /array of status codes/],
    [{ judge: { retryOn: [500, 404] } }, 'judge.retryOn[1]', /integer from 500 to 599/],
    [{ judge: { retryOn: ['502'] } }, 'judge.retryOn[0]', /integer/],
    [{ judge: { budget: { percent: 150 } } }, 'judge.budget.percent', /number from 0 to 100/],
    [{ judge: { budget: { min: -1 } } }, 'judge.budget.min', /integer from 0/],
    [{ judge: { budget: { max: 1 } } }, 'judge.budget.max', /unknown field \(expected one of percent, min\)/],
    [{ judge: { latency: { enabled: 1 } } }, 'judge.latency.enabled', /true or false/],
    [{ judge: { latency: { factor: 0.5 } } }, 'judge.latency.factor', /number from 1 to 1000/],
    [{ judge: { latency: { minSample: 0 } } }, 'judge.latency.minSample', /integer from 1/],
    [{ judge: { latency: { p: 99 } } }, 'judge.latency.p', /unknown field/],
    [{ judgement: {} }, 'judgement', /use judge instead/],
  ];
  refusesEach(t, (input) => resolveOptions(input), 'UPS_ERR_INVALID_OPTION', cases);
});

t.test('a version\'s judge fields override the proxy\'s, validated as the version\'s', async (t) => {
  const servers = [{ hostname: '127.0.0.1', port: 1 }];
  const spec = validateVersion({ version: '2', servers, judge: { minSample: 50, latency: { enabled: true } } });
  const merged = mergeJudge(resolveOptions({ judge: { window: 200, retryOn: [503] } }).judge, spec.judge);
  t.equal(merged.window, 200);
  t.equal(merged.minSample, 50);
  t.same(merged.retryOn, [503]);
  t.same(merged.latency, { enabled: true, factor: 3, minSample: 100 });
  t.same(mergeJudge(resolveOptions({ judge: { window: 20 } }).judge, validateVersion({ version: '2', servers, judge: { minSample: 50 } }).judge).minSample, 20, 'a minimum sample over the window is cut to it');
  t.throws(() => validateVersion({ version: '2', servers, judge: { retryOn: [200] } }), { code: 'UPS_ERR_INVALID_VERSION', field: 'cluster.judge.retryOn[0]' });
  t.throws(() => validateVersion({ version: '2', servers, judge: { enabled: 'no' } }), { code: 'UPS_ERR_INVALID_VERSION', field: 'cluster.judge.enabled' });
});
