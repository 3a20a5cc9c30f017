import t from 'tap';
import { DEFAULT_VERSION, toClusterJSON, validateVersion } from '../../../src/core/index.js';

const S = [{ hostname: '127.0.0.1', port: 8080 }];

// The seed's clusters often give no version: it is "0.0" then.
t.test('a cluster without version is version "0.0"', async (t) => {
  t.equal(DEFAULT_VERSION, '0.0');
  t.equal(validateVersion({ servers: S }).version, '0.0');
  t.equal(validateVersion({ servers: S, version: null }).version, '0.0', 'null is absent, as for the other fields');
  t.equal(toClusterJSON(validateVersion({ uuid: 'a', servers: S })).version, '0.0', 'the default is reported back');
  t.equal(validateVersion({ servers: S, version: '1.2' }).version, '1.2', 'a given version is kept');
  t.throws(() => validateVersion({ servers: S, version: '' }), { code: 'UPS_ERR_INVALID_VERSION', field: 'cluster.version' }, 'an empty version is still refused');
});
