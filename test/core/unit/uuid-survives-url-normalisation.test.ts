import fc from 'fast-check';
import t from 'tap';
import { isValidVersionId, validateVersion } from '../../../src/core/index.js';

// A uuid is a path segment of the REST API. Every uuid the rule accepts must
// come out of URL parsing (as curl, fetch and the CLI do it) unchanged and
// need no percent-encoding; "." and ".." are dot segments and are refused.

const BASE = 'http://127.0.0.1/configuration/cluster/';
const survives = (id: string): boolean => encodeURIComponent(id) === id && new URL(BASE + id).pathname === `/configuration/cluster/${id}`;

t.test('dot segments are refused', async (t) => {
  for (const id of ['.', '..']) {
    t.notOk(isValidVersionId(id), `${JSON.stringify(id)} is not an id`);
    t.throws(() => validateVersion({ uuid: id, version: '1', servers: [{ hostname: 'h', port: 1 }] }), { code: 'UPS_ERR_INVALID_VERSION', field: 'cluster.uuid' });
    t.notOk(survives(id), `${JSON.stringify(id)} would not survive URL normalisation`);
  }
  for (const id of ['...', '.a', 'a.', '..a', 'v1..2', '-', '_', 'A-Z.0_9']) t.ok(isValidVersionId(id) && survives(id), `${JSON.stringify(id)} is an id and survives`);
});

t.test('every accepted uuid survives URL parsing unchanged (property)', async (t) => {
  const char = fc.constantFrom(...'ABCXYZabcxyz0189._-%/?#;: \u00e9'.split(''));
  fc.assert(fc.property(fc.array(char, { minLength: 1, maxLength: 70 }).map((a) => a.join('')), (id) => !isValidVersionId(id) || survives(id)), { numRuns: 5000 });
  fc.assert(fc.property(fc.array(fc.constantFrom('.', 'a', '-'), { minLength: 1, maxLength: 4 }).map((a) => a.join('')), (id) => !isValidVersionId(id) || survives(id)), { numRuns: 500 });
  t.pass('no accepted uuid is changed by URL parsing');
});
