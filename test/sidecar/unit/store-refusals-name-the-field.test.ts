import t from 'tap';
import { refusalOf } from '../../../src/sidecar/store/diagnose.js';
import { StoreUnavailableError } from '../../../src/sidecar/errors.js';

// etcd's refusals (as its client reports them) say which `store.etcd` field to fix, and why.
const config = { endpoints: ['https://10.0.0.10:2379'], prefix: '/upshift/shop/', username: 'shop', password: 'x' };

t.test('each refusal names its field', async (t) => {
  const cases: Array<[string, string | undefined, RegExp | undefined]> = [
    ['3 INVALID_ARGUMENT: etcdserver: authentication failed, invalid user ID or password', 'store.etcd.password', /user "shop".*wrong username or password/],
    ['3 INVALID_ARGUMENT: etcdserver: user name is empty', 'store.etcd.username', /authentication enabled/],
    ['7 PERMISSION_DENIED: etcdserver: permission denied', 'store.etcd.prefix', /user "shop" access to \/upshift\/shop\//],
    ['14 UNAVAILABLE: No connection established. Last error: null.', undefined, undefined],
    ['4 DEADLINE_EXCEEDED: Deadline exceeded', undefined, undefined],
  ];
  for (const [message, field, cause] of cases) {
    const f = refusalOf(new Error(message), config);
    if (field === undefined) t.equal(f, undefined, `${message}: no field (etcd is away)`);
    else t.match(f, { field, cause }, `${message}: ${field}`);
  }
});

t.test('the error a change gets says the store, the field and the cause', async (t) => {
  const named = new StoreUnavailableError(config.endpoints, 'etcd refused user "shop"', 'store.etcd.password');
  t.match(named, { code: 'UPS_ERR_STORE_UNAVAILABLE', field: 'store.etcd.password', reason: 'store.etcd.password: etcd refused user "shop"' });
  t.match(named.message, /^store etcd \(https:\/\/10\.0\.0\.10:2379\) cannot be used: store\.etcd\.password: etcd refused user "shop"; nothing was changed/);
  const away = new StoreUnavailableError(config.endpoints, 'connect ECONNREFUSED');
  t.match(away, { field: 'store.etcd', reason: 'connect ECONNREFUSED' });
  t.match(away.message, /^store etcd \(https:\/\/10\.0\.0\.10:2379\) is unreachable: connect ECONNREFUSED; nothing was changed/);
});
