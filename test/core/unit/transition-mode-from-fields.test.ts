import t from 'tap';
import { inferMode, validateTransition, validateVersion } from '../../../src/core/index.js';
import { refused } from '../../helpers/refusals.js';

const S = [{ hostname: '127.0.0.1', port: 8080 }];
const F = 'cluster.upgradeTransition';

// The seed reads an upgradeTransition without "mode" by its fields.
t.test('a transition without mode takes the mode of its fields', async (t) => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{}, 'INSTANT'],
    [{ sessionTimeout: 1 }, 'SESSION'],
    [{ percentageTransitionPerRequest: 5 }, 'GRADUAL'],
    [{ initialPercentage: 20 }, 'GRADUAL'],
    [{ percentageTransitionPerRequest: 5, initialPercentage: 20 }, 'GRADUAL'],
    [{ concurrentVersions: 3 }, 'CONCURRENT'],
    [{ firstByteTimeout: 500 }, 'CONCURRENT'],
    [{ sideEffectMethods: ['POST'] }, 'CONCURRENT'],
    [{ sessionTimeout: null }, 'INSTANT'],
  ];
  for (const [input, mode] of cases) {
    t.equal(validateTransition(input, F).mode, mode, `${JSON.stringify(input)} is ${mode}`);
  }
  const v = validateVersion({ version: '2', servers: S, upgradeTransition: { sessionTimeout: 1 } });
  t.equal(v.transition.mode, 'SESSION');
  t.equal(v.transition.sessionTimeout, 1, 'and its field is kept');
  t.equal(validateTransition({ percentageTransitionPerRequest: 5 }, F).initialPercentage, 5, 'GRADUAL defaults fill in as with an explicit mode');
  t.equal(inferMode({}, F), undefined, 'no mode field: nothing to infer');
});

t.test('a given mode still wins, and a field of another mode is still refused', async (t) => {
  t.equal(validateTransition({ mode: 'SESSION' }, F).mode, 'SESSION');
  t.throws(() => validateTransition({ mode: 'INSTANT', sessionTimeout: 1 }, F), { code: 'UPS_ERR_INVALID_VERSION', field: `${F}.sessionTimeout` });
});

t.test('fields of two modes without a mode are a field error', async (t) => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ sessionTimeout: 1, percentageTransitionPerRequest: 5 }, `${F}.percentageTransitionPerRequest`],
    [{ initialPercentage: 10, concurrentVersions: 2 }, `${F}.concurrentVersions`],
    [{ sessionTimeout: 1, firstByteTimeout: 100 }, `${F}.firstByteTimeout`],
  ];
  const rule = /only applies to mode \w+, but \w+ only applies to mode \w+; give "mode" to say which/;
  for (const [input, field] of cases) refused(t, () => validateTransition(input, F), 'UPS_ERR_INVALID_VERSION', field, rule, JSON.stringify(input));
});
