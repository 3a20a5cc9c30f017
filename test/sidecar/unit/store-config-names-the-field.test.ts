import t from 'tap';
import { parseConfig } from '../../../src/sidecar/config.js';

const base = { proxy: { port: 0 }, configService: { port: 0 }, cluster: { servers: [{ hostname: '127.0.0.1', port: 1 }] } };
const withEtcd = (etcd: unknown): unknown => ({ ...base, store: { etcd } });

t.test('without store: no shared store, as before', async (t) => {
  t.equal(parseConfig(base).store, undefined);
});

t.test('a valid store.etcd is normalized', async (t) => {
  t.same(parseConfig(withEtcd({ endpoints: ['http://127.0.0.1:2379/'] })).store, { etcd: { endpoints: ['http://127.0.0.1:2379'], prefix: '/upshift/' } }, 'the default prefix, the endpoint without its slash');
  t.same(parseConfig(withEtcd({ endpoints: ['https://e1:2379', 'https://e2:2379'], prefix: '/upshift/shop/', username: 'u', password: 'p', tls: { ca: 'ca.pem' } }), { baseDir: '/etc/upshift' }).store, {
    etcd: { endpoints: ['https://e1:2379', 'https://e2:2379'], prefix: '/upshift/shop/', username: 'u', password: 'p', tls: { ca: '/etc/upshift/ca.pem', cert: undefined, key: undefined } },
  }, 'TLS files resolved against the config file\'s directory');
});

// Every bad store config names the field and the rule.
const bad: Array<[string, unknown, string, RegExp]> = [
  ['store without etcd', { ...base, store: {} }, 'store.etcd', /is required/],
  ['an unknown store kind', { ...base, store: { etcd: { endpoints: ['http://a:1'] }, consul: {} } }, 'store.consul', /unknown field/],
  ['no endpoints', withEtcd({}), 'store.etcd.endpoints', /is required/],
  ['empty endpoints', withEtcd({ endpoints: [] }), 'store.etcd.endpoints', /at least one endpoint/],
  ['an endpoint without scheme', withEtcd({ endpoints: ['127.0.0.1:2379'] }), 'store.etcd.endpoints[0]', /http:\/\/ or https:\/\/ URL/],
  ['an endpoint with a path', withEtcd({ endpoints: ['http://a:1/v3'] }), 'store.etcd.endpoints[0]', /URL of host and port/],
  ['an endpoint not a string', withEtcd({ endpoints: [2379] }), 'store.etcd.endpoints[0]', /of type string/],
  ['a prefix without slashes', withEtcd({ endpoints: ['http://a:1'], prefix: 'shop' }), 'store.etcd.prefix', /start and end with "\/"/],
  ['a misspelt field', withEtcd({ endpoints: ['http://a:1'], prefx: '/a/' }), 'store.etcd.prefx', /unknown field.*prefix/],
  ['a username without password', withEtcd({ endpoints: ['http://a:1'], username: 'u' }), 'store.etcd.password', /go together/],
  ['a password without username', withEtcd({ endpoints: ['http://a:1'], password: 'p' }), 'store.etcd.username', /go together/],
  ['mixed schemes', withEtcd({ endpoints: ['http://a:1', 'https://b:1'] }), 'store.etcd.endpoints', /must all be http:\/\/ or all https:\/\//],
  ['tls over http', withEtcd({ endpoints: ['http://a:1'], tls: { ca: 'ca.pem' } }), 'store.etcd.tls', /needs https:\/\/ endpoints/],
  ['a certificate without key', withEtcd({ endpoints: ['https://a:1'], tls: { cert: 'c.pem' } }), 'store.etcd.tls.key', /needs its key/],
  ['an unknown tls field', withEtcd({ endpoints: ['https://a:1'], tls: { crt: 'c.pem' } }), 'store.etcd.tls.crt', /unknown field/],
];
for (const [name, input, field, message] of bad) {
  t.test(name, async (t) => {
    t.throws(() => parseConfig(input), { code: 'UPS_ERR_CONFIG', field, message }, `${field} ${String(message)}`);
  });
}
