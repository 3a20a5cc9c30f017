import t from 'tap';
import { validateVersion, toClusterJSON } from '../../../src/core/index.js';
import { refusesEach, type Refusal } from '../../helpers/refusals.js';

const S = [{ hostname: '127.0.0.1', port: 8080 }];

t.test('the seed cluster JSON is accepted as is and round-trips', async (t) => {
  const seed = { uuid: 'abc-1', version: '1.2.0', servers: S, upgradeTransition: { mode: 'SESSION', sessionTimeout: 30 } };
  const spec = validateVersion(seed);
  t.same(toClusterJSON(spec), seed);
  t.match(validateVersion({ version: '1', servers: S }).uuid, /^[0-9a-f-]{36}$/, 'uuid generated when absent');
  t.equal(validateVersion({ version: '1', servers: S, upgradeTransition: { mode: 'gradual' } }).transition.mode, 'GRADUAL', 'mode is case-insensitive');
});

t.test('bad versions get a coded error naming the field and the rule', async (t) => {
  const cases: Refusal[] = [
    [null, 'cluster', /must be an object/],
    [[], 'cluster', /must be an object/],
    [{}, 'cluster.servers', /is required/],
    [{ version: 1, servers: S }, 'cluster.version', /non-empty string/],
    [{ version: '' , servers: S }, 'cluster.version', /non-empty string/],
    [{ version: '1' }, 'cluster.servers', /is required/],
    [{ version: '1', servers: [] }, 'cluster.servers', /at least one server/],
    [{ version: '1', servers: {} }, 'cluster.servers', /must be an array/],
    [{ version: '1', servers: [{ hostname: 'h' }] }, 'cluster.servers[0].port', /integer from 1 to 65535/],
    [{ version: '1', servers: [{ hostname: 'h', port: 70000 }] }, 'cluster.servers[0].port', /integer from 1 to 65535/],
    [{ version: '1', servers: [{ hostname: 'h', port: '80' }] }, 'cluster.servers[0].port', /integer/],
    [{ version: '1', servers: [{ hostname: '', port: 80 }] }, 'cluster.servers[0].hostname', /host name/],
    [{ version: '1', servers: [{ hostname: 'a b', port: 80 }] }, 'cluster.servers[0].hostname', /host name/],
    [{ version: '1', servers: [{ hostname: 'h', port: 80, weight: 2 }] }, 'cluster.servers[0].weight', /unknown field/],
    [{ version: '1', servers: S, uuid: 'has space' }, 'cluster.uuid', /1-64 characters/],
    [{ version: '1', servers: S, uuid: 'x'.repeat(65) }, 'cluster.uuid', /1-64 characters/],
    [{ version: '1', servers: S, uuid: 'é' }, 'cluster.uuid', /1-64 characters/],
    [{ version: '1', servers: S, colour: 'red' }, 'cluster.colour', /unknown field/],
    [{ version: '1', servers: S, upgradeTransition: 'SESSION' }, 'cluster.upgradeTransition', /must be an object/],
    [{ version: '1', servers: S, upgradeTransition: { mode: 'FAST' } }, 'cluster.upgradeTransition.mode', /one of INSTANT, SESSION, GRADUAL, CONCURRENT/],
    [{ version: '1', servers: S, upgradeTransition: { mode: 'INSTANT', sessionTimeout: 5 } }, 'cluster.upgradeTransition.sessionTimeout', /only applies to mode SESSION/],
    [{ version: '1', servers: S, upgradeTransition: { mode: 'SESSION', percentageTransitionPerRequest: 5 } }, 'cluster.upgradeTransition.percentageTransitionPerRequest', /only applies to mode GRADUAL/],
    [{ version: '1', servers: S, upgradeTransition: { mode: 'SESSION', sessionTimeout: -1 } }, 'cluster.upgradeTransition.sessionTimeout', /integer from 1/],
    [{ version: '1', servers: S, upgradeTransition: { mode: 'SESSION', sessionTimeout: '10' } }, 'cluster.upgradeTransition.sessionTimeout', /integer/],
    [{ version: '1', servers: S, upgradeTransition: { mode: 'GRADUAL', percentageTransitionPerRequest: 0 } }, 'cluster.upgradeTransition.percentageTransitionPerRequest', /number from/],
    [{ version: '1', servers: S, upgradeTransition: { mode: 'GRADUAL', percentageTransitionPerRequest: 101 } }, 'cluster.upgradeTransition.percentageTransitionPerRequest', /number from/],
    [{ version: '1', servers: S, upgradeTransition: { mode: 'CONCURRENT', concurrentVersions: 1 } }, 'cluster.upgradeTransition.concurrentVersions', /integer from 2/],
    [{ version: '1', servers: S, upgradeTransition: { mode: 'CONCURRENT', sideEffectMethods: ['PO ST'] } }, 'cluster.upgradeTransition.sideEffectMethods[0]', /HTTP method/],
    [{ version: '1', servers: S, balancing: 'random' }, 'cluster.balancing', /round-robin, least-connections/],
  ];
  refusesEach(t, (input) => validateVersion(input), 'UPS_ERR_INVALID_VERSION', cases);
});
